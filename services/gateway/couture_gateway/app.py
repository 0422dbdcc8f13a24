"""The gateway's HTTP application: wiring only (routers, state, lifespan)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from couture_auth import AuthService
from couture_auth.adapters.jwks_client import token_verifier
from couture_auth.api import auth_router
from couture_auth.domain.ldap import ldap_settings_from_options
from couture_common.eventlog import EventLog
from couture_common.settings import Settings
from couture_gateway.api.audit_trail import AuditTrail
from couture_gateway.api.body_limit import DEFAULT_MAX_BODY_BYTES, BodyLimit
from couture_gateway.api.routes import (
    account,
    audit,
    auth,
    connection_entries,
    connections,
    dag_runs,
    dag_sources,
    dag_stats,
    dag_versions,
    dags,
    event_logs,
    import_errors,
    live,
    monitor,
    pools,
    security,
    sla_misses,
    task_instances,
    tasks,
    triggered_runs,
    variables,
    xcom,
)
from couture_gateway.deps import Gateway, authorize
from couture_gateway.live import LiveHub, LiveSettings
from couture_gateway.readmodels.projector import Projector
from couture_gateway.tracing import TracingMiddleware

API_V2 = "/api/v2"
API_COUTURE = "/api/couture"

_PROTECTED_V2 = (
    dags,
    dag_versions,
    tasks,
    dag_runs,
    task_instances,
    xcom,
    variables,
    connections,
    pools,
    import_errors,
    event_logs,
    dag_stats,
    dag_sources,
)

_TAGS = [
    {
        "name": "Connection",
        "description": "Several entries may share a connection id (tasks pick one at random per use). "
        "These Airflow endpoints show and change an id's primary (oldest) entry; DELETE removes every "
        "entry of the id. The entries themselves are under /api/couture/connections/{id}/entries. "
        "Passwords are write-only.",
    },
    {
        "name": "Connection entries (Couture)",
        "description": "List, add and delete the individual entries of a connection id.",
    },
    {
        "name": "Variable",
        "description": "Values of keys containing password, secret, passwd, authorization, api_key, apikey "
        "or access_token are answered as ***.",
    },
]


def create_app(
    *,
    log: EventLog,
    engine: AsyncEngine,
    settings: Settings,
    projector: Projector,
    auth_service: AuthService | None = None,
    projection_timeout: float = 2.0,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    live_settings: LiveSettings | None = None,
) -> FastAPI:
    """The REST API over ``engine``'s read models, writing to ``log``.

    The caller runs ``projector`` (so read models can be scaled apart from the API); writes wait
    up to ``projection_timeout`` seconds for it to apply their events before answering. What it
    applies is streamed to browsers (``GET /api/couture/live``); the caller ends those streams
    with :func:`close_live_streams` before the HTTP server waits for open requests.
    """
    auth_service = auth_service or AuthService(
        log,
        home=settings.home,
        admin_password=settings.admin_password,
        ldap=ldap_settings_from_options(settings.ldap_options(), names_prefix="COUTURE_"),
        ldap_bind_password=settings.ldap_bind_password(),
        secret_box=settings.secret_box,
        token_ttl=timedelta(seconds=settings.access_token_ttl),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl),
    )

    hub = LiveHub(live_settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await auth_service.start()
        projector.add_listener(hub.publish)
        try:
            yield
        finally:
            projector.remove_listener(hub.publish)
            hub.close()
            await auth_service.close()

    app = FastAPI(
        title="Couture Workflow Orchestrator API",
        version="2",
        summary="Airflow's public REST API v2 under /api/v2; Couture's own endpoints under /api/couture.",
        lifespan=lifespan,
        openapi_tags=_TAGS,
        # Airflow's operation ids are the route names (get_dags, trigger_dag_run...).
        generate_unique_id_function=lambda route: route.name,
    )
    app.add_middleware(TracingMiddleware)
    app.state.gateway = Gateway(
        log=log,
        engine=engine,
        settings=settings,
        projector=projector,
        auth=auth_service,
        verifier=token_verifier(settings.auth_url, auth_service.keys),
        projection_timeout=projection_timeout,
    )

    app.state.live = hub

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    # Every write and login attempt is recorded before its answer leaves (oversized ones too).
    app.add_middleware(AuditTrail, trusted_proxies=settings.trusted_proxies)
    app.include_router(auth_router(auth_service, always_secure_cookies=settings.cookie_secure))
    app.include_router(auth.router)
    app.include_router(monitor.router, prefix=API_V2)
    protected_v2 = APIRouter(prefix=API_V2, dependencies=[Depends(authorize)])
    for module in _PROTECTED_V2:
        protected_v2.include_router(module.router)
    app.include_router(protected_v2)
    couture = APIRouter(prefix=API_COUTURE, dependencies=[Depends(authorize)])
    couture.include_router(account.router)
    couture.include_router(connection_entries.router)
    couture.include_router(security.router)
    couture.include_router(audit.router)
    couture.include_router(sla_misses.router)
    couture.include_router(live.router)
    couture.include_router(triggered_runs.router)
    app.include_router(couture)
    return app


def close_live_streams(app: FastAPI) -> None:
    """End every live stream, so a server shutting down does not wait on them forever."""
    hub: LiveHub = app.state.live
    hub.close()
