"""``couture auth``: the auth service as a process of its own (distributed deployment).

It folds the user directory from the ``auth`` topic (creating the superadmin on the very first
start) and issues access tokens at ``POST /auth/token``, signed with the deployment's key in
``COUTURE_HOME/data`` — the key every gateway and the registry verify tokens with, so it is shared
with them (a Secret in Kubernetes). Gateways embed the same service for their own logins.
"""

from __future__ import annotations

import os
from math import ceil

from fastapi import FastAPI, HTTPException, Request, status
from pydantic import BaseModel, Field

from couture_auth.domain.ldap import BIND_PASSWORD_ENV, ldap_settings_from_env
from couture_auth.service import AuthenticationFailed, AuthService, LoginThrottled, LoginUnavailable
from couture_common.clock import utcnow
from couture_common.eventlog.port import EventLog
from couture_common.health import Readiness, health_router, serve
from couture_common.settings import Settings


class LoginBody(BaseModel):
    username: str = Field(min_length=1)
    password: str = Field(min_length=1)


class LoginResponse(BaseModel):
    access_token: str


def create_app(auth: AuthService, ready: Readiness) -> FastAPI:
    app = FastAPI(title="Couture auth")
    app.include_router(health_router("auth", ready))

    @app.post("/auth/token", status_code=status.HTTP_201_CREATED)
    async def create_token(body: LoginBody, request: Request) -> LoginResponse:
        """An access token for the user; send it as ``Authorization: Bearer <token>``."""
        now = utcnow()
        source = request.client.host if request.client is not None else None
        try:
            token = await auth.login(body.username, body.password, now=now, source_ip=source)
        except LoginThrottled as throttled:
            wait = max(1, ceil((throttled.retry_at - now).total_seconds()))
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"Too many failed logins; try again in {wait} seconds",
                headers={"Retry-After": str(wait)},
            ) from None
        except AuthenticationFailed:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid username or password") from None
        except LoginUnavailable:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "The LDAP server cannot be reached; try again later"
            ) from None
        return LoginResponse(access_token=token)

    return app


async def run_auth(settings: Settings, log: EventLog, *, host: str, port: int) -> None:
    """Until SIGTERM: then requests in flight finish and the process ends."""
    auth = AuthService(
        log,
        home=settings.home,
        admin_password=settings.admin_password,
        ldap=ldap_settings_from_env(os.environ),
        ldap_bind_password=os.environ.get(BIND_PASSWORD_ENV, ""),
        secret_box=settings.secret_box,
    )
    ready = Readiness()

    async def start() -> None:
        await log.start()
        await auth.start()
        ready.set(True)

    async def stop() -> None:
        ready.set(False)
        await auth.close()
        await log.close()

    await serve(create_app(auth, ready), host=host, port=port, start=start, stop=stop)
