"""``POST /auth/token``: username and password (JSON or form) for a bearer access token and a
refresh token; ``POST /auth/refresh``: a new access token for a refresh token."""

from __future__ import annotations

from math import ceil
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from couture_auth import AuthenticationFailed, LoginThrottled, LoginUnavailable
from couture_common.clock import utcnow
from couture_gateway.deps import AuthDep
from couture_gateway.schemas.auth import LoginBody, LoginResponse, RefreshBody
from couture_gateway.schemas.common import HTTPExceptionResponse

router = APIRouter(tags=["Login"])

_LOGIN_SCHEMA = LoginBody.model_json_schema()
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@router.post(
    "/auth/token",
    status_code=status.HTTP_201_CREATED,
    responses={
        401: {"model": HTTPExceptionResponse},
        429: {"model": HTTPExceptionResponse},
        503: {"model": HTTPExceptionResponse},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _LOGIN_SCHEMA},
                "application/x-www-form-urlencoded": {"schema": _LOGIN_SCHEMA},
            },
        }
    },
)
async def create_token(request: Request, auth: AuthDep) -> LoginResponse:
    """An access token for the user; send it as ``Authorization: Bearer <token>``."""
    body = await _login_body(request)
    # Who tried to log in, for the audit trail (``api.audit_trail``).
    request.state.login_username = body.username
    now = utcnow()
    try:
        token = await auth.login(
            body.username, body.password, now=now, source_ip=getattr(request.state, "source_ip", None)
        )
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
    refresh = auth.refresh_token_for(auth.verifier.verify(token, now=now), now=now)
    return LoginResponse(access_token=token, refresh_token=refresh)


@router.post("/auth/refresh", responses={401: {"model": HTTPExceptionResponse}})
async def refresh_token(body: RefreshBody, auth: AuthDep) -> LoginResponse:
    """A new access token for the refresh token's session, with the user's roles as they are now."""
    try:
        token = await auth.refresh(body.refresh_token, now=utcnow())
    except AuthenticationFailed:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid or expired refresh token") from None
    return LoginResponse(access_token=token)


async def _login_body(request: Request) -> LoginBody:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw: Any
    if content_type in _FORM_TYPES:
        raw = dict(await request.form())
    else:
        try:
            raw = await request.json()
        except ValueError:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "JSON body expected", "input": None}]
            ) from None
    try:
        return LoginBody.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
