"""FastAPI dependencies, as ``Annotated`` aliases the routes declare in their signatures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from couture_auth import AuthService, TokenClaims, TokenVerifier
from couture_auth.domain.permissions import (
    ALL_DAGS,
    DAG_EDIT,
    Permission,
    Principal,
    can,
    can_access_dag,
    dag_access_for,
    readable_dags,
)
from couture_auth.http import (
    PASSWORD_CHANGE_REQUIRED,
    REGISTRY_EDIT,
    REGISTRY_READ,
    authenticate,
    permitted_actor,
    session_principal,
)
from couture_common.eventlog import EventLog
from couture_common.settings import Settings
from couture_gateway.api.access import PASSWORD_CHANGE_ALLOWED, RULES, DagScope, Rule
from couture_gateway.api.writes import EventWriter
from couture_gateway.readmodels.projector import Projector


@dataclass(frozen=True, slots=True)
class Gateway:
    """What the routes reach through ``app.state.gateway``: set once by ``create_app``."""

    log: EventLog
    engine: AsyncEngine
    settings: Settings
    projector: Projector
    auth: AuthService
    verifier: TokenVerifier
    #: How long a write waits for its event to reach the read models before answering.
    projection_timeout: float = 2.0


async def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(_gateway)]


async def _settings(gateway: GatewayDep) -> Settings:
    return gateway.settings


SettingsDep = Annotated[Settings, Depends(_settings)]


async def _log(gateway: GatewayDep) -> EventLog:
    return gateway.log


LogDep = Annotated[EventLog, Depends(_log)]


async def _auth(gateway: GatewayDep) -> AuthService:
    return gateway.auth


AuthDep = Annotated[AuthService, Depends(_auth)]


async def _session(gateway: GatewayDep) -> AsyncIterator[AsyncConnection]:
    async with gateway.engine.connect() as conn:
        yield conn


#: A connection to the read models. Routes only read through it; writes go to the log.
SessionDep = Annotated[AsyncConnection, Depends(_session)]

#: Declares bearer authentication in the OpenAPI document; ``authenticate`` reads the header itself,
#: and takes the browser's session cookie (with its CSRF check) when there is none.
_bearer = HTTPBearer(auto_error=False, description="An access token from `POST /auth/token`.")


async def require_user(
    request: Request,
    gateway: GatewayDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenClaims:
    return await authenticate(request, gateway.verifier, always_secure=gateway.settings.cookie_secure)


CurrentUser = Annotated[TokenClaims, Depends(require_user)]


async def _writer(gateway: GatewayDep, user: CurrentUser) -> EventWriter:
    return EventWriter(
        gateway.log,
        gateway.projector,
        actor=f"user:{user.subject}",
        timeout=gateway.projection_timeout,
    )


#: Appends the request's events to the log as the current user, then waits for the read models.
WriterDep = Annotated[EventWriter, Depends(_writer)]


#: The ``dag_id`` path value Airflow uses for "every DAG".
EVERY_DAG = "~"


async def authorize(request: Request, gateway: GatewayDep, claims: CurrentUser) -> Principal:
    """Let the request through only if the user's roles, as they are now, allow its endpoint.

    Roles are resolved from the auth topic on every request, so a role change applies without a new
    token. For a DAG endpoint the check is on the ``dag_id`` in the URL, and a body naming other
    DAGs is refused (400) rather than acted on unchecked.
    """
    principal = session_principal(await gateway.auth.directory(), claims)
    request.state.principal = principal
    name = getattr(request.scope.get("route"), "name", None)
    if principal.password_change_required and name not in PASSWORD_CHANGE_ALLOWED:
        raise HTTPException(status.HTTP_403_FORBIDDEN, PASSWORD_CHANGE_REQUIRED)
    rule = RULES.get(name or "")
    if rule is None:
        if not principal.has_every_permission:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"No permission is defined for `{name}`")
        return principal
    for action, resource in rule.permissions:
        if not can(principal, action, resource):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"Forbidden: `{name}` needs the permission {action} on {resource}",
            )
    await _check_dags(request, principal, rule, name or "")
    return principal


async def _check_dags(request: Request, principal: Principal, rule: Rule, name: str) -> None:
    if rule.dag is DagScope.NONE or not rule.permissions:
        return
    access = dag_access_for(rule.permissions[0][0])
    path_dag = request.path_params.get("dag_id", EVERY_DAG) if rule.dag is DagScope.PATH else EVERY_DAG
    body_dags = await _body_dag_ids(request)
    if path_dag != EVERY_DAG:
        others = sorted(d for d in body_dags if d != path_dag)
        if others:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                f"The body names dag_id {', '.join(others)} but the URL names `{path_dag}`",
            )
        wanted = {path_dag}
    else:
        wanted = body_dags
    # Reads over every DAG are filtered to readable ones (``ReadableDags``); changes need them all.
    if path_dag == EVERY_DAG and access == DAG_EDIT:
        wanted = {ALL_DAGS}
    for dag_id in sorted(wanted):
        if not can_access_dag(principal, access, dag_id):
            what = "every DAG" if dag_id == ALL_DAGS else f"DAG `{dag_id}`"
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"Forbidden: `{name}` needs {access} on {what}")


async def _body_dag_ids(request: Request) -> set[str]:
    """The DAG ids a JSON body names in ``dag_id`` or ``dag_ids``."""
    if request.method in ("GET", "HEAD", "DELETE"):
        return set()
    raw = await request.body()
    if not raw:
        return set()
    try:
        body: Any = json.loads(raw)
    except ValueError:
        return set()
    if not isinstance(body, dict):
        return set()
    named: set[str] = set()
    if isinstance(body.get("dag_id"), str):
        named.add(body["dag_id"])
    dag_ids = body.get("dag_ids")
    if isinstance(dag_ids, list):
        named.update(d for d in dag_ids if isinstance(d, str))
    return named


#: The signed-in user, checked against the endpoint's permission.
Authorized = Annotated[Principal, Depends(authorize)]


async def _readable_dags(principal: Authorized) -> frozenset[str] | None:
    return readable_dags(principal)


#: The DAG ids the user may read, for filtering lists; None when they may read every DAG.
ReadableDags = Annotated[frozenset[str] | None, Depends(_readable_dags)]


def _registry_guard(permission: Permission) -> Callable[..., Awaitable[str]]:
    async def guard(request: Request, gateway: GatewayDep, claims: CurrentUser) -> str:
        return permitted_actor(request, await gateway.auth.directory(), claims, permission)

    return guard


#: The registry's routes served by this gateway (standalone): reading and changing DAG files and
#: code bricks need Manage DAGs; each returns the actor (``user:<name>``) to record.
registry_reader = _registry_guard(REGISTRY_READ)
registry_editor = _registry_guard(REGISTRY_EDIT)
