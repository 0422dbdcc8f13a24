"""What parsing one DAG file produced."""

from __future__ import annotations

import msgspec

from couture_common.dagspec import DagSpec


class ParseResult(msgspec.Struct, frozen=True, kw_only=True):
    fileloc: str
    #: sha256 hex of the file's bytes: the version of every DAG the file defines.
    version: str
    #: The DAGs the file defines; empty for a file without DAGs or one that failed.
    specs: tuple[DagSpec, ...] = ()
    #: The traceback (or time-out message) when the file failed to import.
    error: str | None = None


class WorkerOutput(msgspec.Struct, frozen=True, kw_only=True):
    """The child's answer, written to a file of its own so user prints cannot corrupt it."""

    specs: tuple[DagSpec, ...] = ()
    error: str | None = None
