"""The executor service: runs each task try in its own process and reports what happened on the log.

Names are imported on first use so the fork server, which lives in this package, starts without
the supervisor's dependencies: every module it imports is memory that each fork shares and copies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from couture_executor.adapters.dag_files import BlobDagFileStore, DagFileMismatchError, DagFileStore
    from couture_executor.app import ExecutorService

_EXPORTS = {
    "BlobDagFileStore": "couture_executor.adapters.dag_files",
    "DagFileMismatchError": "couture_executor.adapters.dag_files",
    "DagFileStore": "couture_executor.adapters.dag_files",
    "ExecutorService": "couture_executor.app",
}

__all__ = ["BlobDagFileStore", "DagFileMismatchError", "DagFileStore", "ExecutorService"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'couture_executor' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
