"""``couture registry``: the DAG registry as a process of its own (distributed deployment).

Serves the registry's API under ``/api/couture`` to users (a bearer token or session cookie from
the auth service, verified against its JWKS at ``COUTURE_AUTH_URL`` — or the deployment's signing
key in ``COUTURE_HOME/data`` without one —, with the session and the user's current roles checked
as the gateway checks them: Manage DAGs' read or edit), and to other services the
raw bytes of a stored DAG file version at ``/internal/dag-versions/{version}``, authenticated with
the shared ``COUTURE_SERVICE_TOKEN``. One registry runs per deployment: it owns the DAGs folder.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from couture_auth.adapters.jwks_client import RemoteJwks
from couture_auth.directory import AuthDirectory
from couture_auth.domain.permissions import Permission
from couture_auth.http import REGISTRY_EDIT, REGISTRY_READ, authenticate, permitted_actor
from couture_auth.service import signing_key_path
from couture_auth.tokens import KeySource, LocalKeys, TokenVerifier, load_or_create_signing_key
from couture_common.eventlog.port import EventLog
from couture_common.health import Readiness, health_router, serve
from couture_common.settings import Settings
from couture_registry.app import create_app
from couture_registry.blobstore import BlobNotFoundError, check_version
from couture_registry.service import DagFolderRegistry

SERVICE = "service"

_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class RegistryAuth:
    """Who may call: users whose token, session and current roles allow the route; services with
    the shared service token."""

    def __init__(self, settings: Settings, log: EventLog, service_token: str | None) -> None:
        keys: KeySource
        if settings.auth_url is not None:
            keys = RemoteJwks(settings.auth_url)
        else:
            keys = LocalKeys([load_or_create_signing_key(signing_key_path(settings.home))])
        self._verifier = TokenVerifier(keys)
        longest = timedelta(seconds=max(settings.access_token_ttl, settings.refresh_token_ttl))
        self.directory = AuthDirectory(log, longest_token_lifetime=longest)
        self._always_secure = settings.cookie_secure
        self._service_token = service_token

    def is_service(self, credentials: HTTPAuthorizationCredentials | None) -> bool:
        return (
            self._service_token is not None
            and credentials is not None
            and hmac.compare_digest(credentials.credentials.encode(), self._service_token.encode())
        )

    async def _actor(self, request: Request, permission: Permission) -> str:
        claims = await authenticate(request, self._verifier, always_secure=self._always_secure)
        return permitted_actor(request, await self.directory.current(), claims, permission)

    async def can_read(self, request: Request, credentials: Credentials) -> str:
        if self.is_service(credentials):
            return SERVICE
        return await self._actor(request, REGISTRY_READ)

    async def can_edit(self, request: Request, _credentials: Credentials) -> str:
        return await self._actor(request, REGISTRY_EDIT)

    def service_only(self, credentials: Credentials) -> None:
        if not self.is_service(credentials):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "This route is for services: send the COUTURE_SERVICE_TOKEN as a bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )


def internal_router(registry: DagFolderRegistry, auth: RegistryAuth) -> APIRouter:
    router = APIRouter(prefix="/internal", tags=["Service to service"])

    @router.get("/dag-versions/{version}", dependencies=[Depends(auth.service_only)])
    async def get_dag_version_bytes(version: str) -> Response:
        """The exact bytes of a stored DAG file version (their sha256 is ``version``)."""
        try:
            check_version(version)
            content = await asyncio.to_thread(registry.blobs.get_dag_file, version)
        except ValueError as error:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"version: {error}") from None
        except BlobNotFoundError as error:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
        return Response(content, media_type="text/x-python")

    return router


async def run_registry(
    settings: Settings, log: EventLog, *, host: str, port: int, service_token: str | None
) -> None:
    """Until SIGTERM: then requests in flight finish, the folder watch stops, and the process ends."""
    auth = RegistryAuth(settings, log, service_token)
    for folder in (settings.dags_path, settings.blobs_path):
        folder.mkdir(parents=True, exist_ok=True)
    app = create_app(settings, log, can_read=auth.can_read, can_edit=auth.can_edit)
    registry: DagFolderRegistry = app.state.registry
    ready = Readiness()
    app.include_router(health_router("registry", ready))
    app.include_router(internal_router(registry, auth))

    async def start() -> None:
        # The app's lifespan has started the log and the registry before the server listens.
        ready.set(True)

    async def stop() -> None:
        ready.set(False)

    try:
        await serve(app, host=host, port=port, start=start, stop=stop)
    finally:
        await auth.directory.close()
        await log.close()
