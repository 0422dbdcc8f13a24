"""The login routes every process that logs users in serves (each gateway, ``couture auth``).

* ``POST /auth/token``: username and password (JSON or form) for an access token and a refresh
  token in the body — for API clients, which send ``Authorization: Bearer``.
* ``POST /auth/login``: the browser's login: the tokens go into ``HttpOnly`` cookies with a CSRF
  token beside them (see :mod:`couture_auth.http`); a form post is redirected to its ``next`` page
  when that is a page of this site.
* ``POST /auth/refresh``: a refresh token (in the body, or the browser's refresh cookie) for new
  tokens; the one sent is used up, and sending it again ends its session.
* ``GET /auth/jwks.json``: the public keys tokens are verified with.
"""

from __future__ import annotations

from math import ceil
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError

from couture_auth.domain.redirects import safe_next
from couture_auth.http import (
    SessionCookies,
    check_csrf,
    check_same_origin,
    cookie_names,
    new_csrf_token,
    request_cookies_secure,
    set_session_cookies,
)
from couture_auth.service import (
    AuthenticationFailed,
    AuthService,
    IssuedTokens,
    LoginThrottled,
    LoginUnavailable,
    RefreshTokenReused,
)
from couture_common.clock import utcnow

JWKS_PATH = "/auth/jwks.json"
LOGIN_PATHS = frozenset({"/auth/token", "/auth/login"})


class LoginBody(BaseModel):
    username: str = Field(min_length=1)
    password: str = Field(min_length=1)


class BrowserLoginBody(LoginBody):
    #: Where the browser goes after signing in: a page of this site, else ``/``.
    next: str | None = Field(default=None, max_length=2048)


class LoginResponse(BaseModel):
    access_token: str
    #: Buys new tokens at ``POST /auth/refresh`` (once) until it expires or the session logs out.
    refresh_token: str | None = None


class RefreshBody(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=8192)


class SessionResponse(BaseModel):
    """A browser session started or renewed: the tokens are in cookies, not here."""

    username: str
    #: Also in the ``csrf`` cookie: send it as ``X-CSRF-Token`` with every change.
    csrf_token: str
    #: The page to go to (a safe ``next``, else ``/``).
    next: str = "/"


class ErrorResponse(BaseModel):
    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (401, 403, 429, 503)}
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _credentials_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}, _FORM_TYPES[0]: {"schema": schema}},
        }
    }


def auth_router(auth: AuthService, *, always_secure_cookies: bool) -> APIRouter:
    """The routes above over ``auth``; ``always_secure_cookies`` is the ``COUTURE_COOKIE_SECURE`` setting."""
    router = APIRouter(tags=["Login"])

    @router.post(
        "/auth/token",
        status_code=status.HTTP_201_CREATED,
        responses=_ERRORS,
        openapi_extra=_credentials_schema(LoginBody),
    )
    async def create_token(request: Request) -> LoginResponse:
        """An access token for the user; send it as ``Authorization: Bearer <token>``."""
        body = await _parsed(request, LoginBody)
        tokens = await _login(auth, request, body)
        return LoginResponse(access_token=tokens.access_token, refresh_token=tokens.refresh_token)

    @router.post(
        "/auth/login",
        response_model=SessionResponse,
        responses={**_ERRORS, 303: {"description": "Form login: to the `next` page"}},
        openapi_extra=_credentials_schema(BrowserLoginBody),
    )
    async def login_session(request: Request) -> Response:
        """The browser's login: session cookies (``HttpOnly``, ``SameSite=Strict``) and a CSRF token."""
        check_same_origin(request)
        body = await _parsed(request, BrowserLoginBody)
        tokens = await _login(auth, request, body)
        answer = SessionResponse(
            username=tokens.subject, csrf_token=new_csrf_token(), next=safe_next(body.next)
        )
        response: Response
        if _is_form(request):
            response = RedirectResponse(answer.next, status_code=status.HTTP_303_SEE_OTHER)
        else:
            response = JSONResponse(answer.model_dump())
        _set_cookies(request, response, tokens, answer.csrf_token)
        return response

    @router.post("/auth/refresh", response_model=LoginResponse | SessionResponse, responses=_ERRORS)
    async def refresh_token(request: Request, body: RefreshBody | None = None) -> Response:
        """New tokens for a refresh token, with the user's roles as they are now. Send it in the body
        (API clients), or send no body and the browser's refresh cookie goes (with ``X-CSRF-Token``).
        A refresh token works once: sending a used one again ends its session."""
        if body is not None:
            tokens = await _refresh(auth, body.refresh_token)
            renewed = LoginResponse(access_token=tokens.access_token, refresh_token=tokens.refresh_token)
            return JSONResponse(renewed.model_dump())
        secure = request_cookies_secure(request, always=always_secure_cookies)
        cookie = request.cookies.get(cookie_names(secure).refresh)
        if cookie is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "No refresh token: sign in again")
        check_same_origin(request)
        csrf = check_csrf(request, secure=secure)
        tokens = await _refresh(auth, cookie)
        response = JSONResponse(SessionResponse(username=tokens.subject, csrf_token=csrf).model_dump())
        _set_cookies(request, response, tokens, csrf)
        return response

    @router.get(JWKS_PATH)
    async def get_jwks() -> JSONResponse:
        """The public keys (JWKS) access tokens are signed with; a token names its key in ``kid``."""
        return jwks_response(auth)

    def _set_cookies(request: Request, response: Response, tokens: IssuedTokens, csrf: str) -> None:
        set_session_cookies(
            response,
            SessionCookies(tokens.access_token, tokens.refresh_token, csrf),
            secure=request_cookies_secure(request, always=always_secure_cookies),
            access_ttl=auth.access_ttl,
            refresh_ttl=auth.refresh_ttl,
        )

    return router


def jwks_response(auth: AuthService) -> JSONResponse:
    # Cached briefly: a verifier that meets an unknown ``kid`` fetches again anyway.
    return JSONResponse(auth.jwks(), headers={"Cache-Control": "public, max-age=300"})


async def _login(auth: AuthService, request: Request, body: LoginBody) -> IssuedTokens:
    # Who tried to log in, for the audit trail.
    request.state.login_username = body.username
    now = utcnow()
    source_ip = getattr(request.state, "source_ip", None)
    try:
        return await auth.login(body.username, body.password, now=now, source_ip=source_ip)
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


async def _refresh(auth: AuthService, refresh_token: str) -> IssuedTokens:
    try:
        return await auth.refresh(refresh_token, now=utcnow())
    except RefreshTokenReused:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Refresh token already used: the session is revoked; sign in again"
        ) from None
    except AuthenticationFailed:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid or expired refresh token") from None


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() in _FORM_TYPES


Body = TypeVar("Body", bound=BaseModel)


async def _parsed(request: Request, model: type[Body]) -> Body:
    raw: Any
    if _is_form(request):
        raw = dict(await request.form())
    else:
        try:
            raw = await request.json()
        except ValueError:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "JSON body expected", "input": None}]
            ) from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
