"""The registry's HTTP routes; the gateway mounts :func:`registry_router` under ``/api/couture``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from couture_registry.api.code_bricks import code_bricks_router
from couture_registry.api.dag_files import dag_files_router
from couture_registry.code_bricks import CodeBrickStore
from couture_registry.service import DagFolderRegistry
from couture_registry.validation import Limits


def registry_router(
    registry: DagFolderRegistry,
    bricks: CodeBrickStore,
    *,
    can_read: Callable[..., Any],
    can_edit: Callable[..., Any],
    limits: Limits | None = None,
) -> APIRouter:
    """DAG files and code bricks.

    ``can_read`` and ``can_edit`` are FastAPI dependencies supplied by the gateway: each refuses
    the caller (401/403) or lets it through; ``can_edit`` returns the actor string
    (``user:<name>``) recorded on the events and bricks a write creates.
    """
    router = APIRouter()
    router.include_router(dag_files_router(registry, can_read=can_read, can_edit=can_edit, limits=limits))
    router.include_router(code_bricks_router(bricks, can_read=can_read, can_edit=can_edit))
    return router


__all__ = ["code_bricks_router", "dag_files_router", "registry_router"]
