"""FastAPI dependencies, as ``Annotated`` aliases the routes declare in their signatures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from couture_auth import AuthService, InvalidTokenError, TokenClaims, TokenVerifier
from couture_common.clock import utcnow
from couture_common.eventlog import EventLog
from couture_common.settings import Settings
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

_bearer = HTTPBearer(auto_error=False, description="An access token from `POST /auth/token`.")


async def require_user(
    gateway: GatewayDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenClaims:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Not authenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        return gateway.verifier.verify(credentials.credentials, now=utcnow())
    except InvalidTokenError:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Invalid or expired token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None


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
