"""The registry as a service of its own (distributed deployment): wiring only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from couture_common.eventlog import EventLog
from couture_common.settings import Settings
from couture_gateway.api.audit_trail import AuditTrail
from couture_registry.api import registry_router
from couture_registry.code_bricks import CodeBrickStore
from couture_registry.service import DagFolderRegistry

API_PREFIX = "/api/couture"


def create_app(
    settings: Settings,
    log: EventLog,
    *,
    can_read: Callable[..., Any],
    can_edit: Callable[..., Any],
    watch: bool = True,
) -> FastAPI:
    """The registry's routes under ``/api/couture``; the folder registry runs for the app's lifetime.

    ``can_read``/``can_edit`` are the deployment's authentication (see :func:`registry_router`).
    The caller owns ``log`` and closes it after the app stopped.
    """
    registry = DagFolderRegistry.from_settings(settings, log, watch=watch)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await log.start()
        await registry.start()
        try:
            yield
        finally:
            await registry.stop()

    app = FastAPI(title="Couture registry", lifespan=lifespan)
    app.state.registry = registry
    router = registry_router(
        registry, CodeBrickStore.from_settings(settings), can_read=can_read, can_edit=can_edit
    )
    app.include_router(router, prefix=API_PREFIX)
    # Uploads, edits, deletes and imports are audited here as at the gateway: who (the principal
    # the guards keep on the request), what, from where, with what outcome.
    app.add_middleware(AuditTrail, log=log, service="registry", trusted_proxies=settings.trusted_proxies)
    return app
