"""The gateway's own auth route: its JWKS at the well-known address. The login routes
(``/auth/token``, ``/auth/login``, ``/auth/refresh``, ``/auth/jwks.json``) are the auth service's
(:func:`couture_auth.api.auth_router`), served by every gateway."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from couture_auth.api import jwks_response
from couture_gateway.deps import AuthDep

router = APIRouter(tags=["Login"])


@router.get("/.well-known/jwks.json")
async def get_well_known_jwks(auth: AuthDep) -> JSONResponse:
    """The public keys (JWKS) access tokens are signed with, as at ``/auth/jwks.json``."""
    return jwks_response(auth)
