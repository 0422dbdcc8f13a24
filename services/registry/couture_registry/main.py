"""``couture registry``: the DAG registry as a process of its own (distributed deployment).

Serves the registry's API under ``/api/couture`` to users (a bearer token from the auth service,
verified with the deployment's signing key in ``COUTURE_HOME/data``), and to other services the
raw bytes of a stored DAG file version at ``/internal/dag-versions/{version}``, authenticated with
the shared ``COUTURE_SERVICE_TOKEN``. One registry runs per deployment: it owns the DAGs folder.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from couture_auth.service import signing_key_path
from couture_auth.tokens import InvalidTokenError, TokenClaims, TokenIssuer, load_or_create_signing_key
from couture_common.clock import utcnow
from couture_common.eventlog.port import EventLog
from couture_common.health import Readiness, health_router, serve
from couture_common.settings import Settings
from couture_registry.app import create_app
from couture_registry.blobstore import BlobNotFoundError, check_version
from couture_registry.service import DagFolderRegistry

SERVICE = "service"

_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


class RegistryAuth:
    """Who may call: users with a valid access token, services with the shared service token."""

    def __init__(self, settings: Settings, service_token: str | None) -> None:
        key = load_or_create_signing_key(signing_key_path(settings.home))
        self._verifier = TokenIssuer(key).verifier()
        self._service_token = service_token

    def is_service(self, credentials: HTTPAuthorizationCredentials | None) -> bool:
        return (
            self._service_token is not None
            and credentials is not None
            and hmac.compare_digest(credentials.credentials.encode(), self._service_token.encode())
        )

    def user(self, credentials: HTTPAuthorizationCredentials | None) -> TokenClaims:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise _unauthorized("Not authenticated")
        try:
            return self._verifier.verify(credentials.credentials, now=utcnow())
        except InvalidTokenError:
            raise _unauthorized("Invalid or expired token") from None

    def can_read(self, credentials: Credentials) -> str:
        if self.is_service(credentials):
            return SERVICE
        return f"user:{self.user(credentials).subject}"

    def can_edit(self, credentials: Credentials) -> str:
        return f"user:{self.user(credentials).subject}"

    def service_only(self, credentials: Credentials) -> None:
        if not self.is_service(credentials):
            raise _unauthorized(
                "This route is for services: send the COUTURE_SERVICE_TOKEN as a bearer token"
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
    auth = RegistryAuth(settings, service_token)
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
        await log.close()
