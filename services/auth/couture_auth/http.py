"""How an HTTP request proves who sent it: a bearer token, or the browser's session cookies.

Shared by every service that judges users' requests (gateways, the registry, the auth service).

* API clients (the official Airflow client, scripts) send ``Authorization: Bearer <access token>``.
  Browsers cannot be made to attach that header to a forged cross-site request, so such requests
  need nothing more.
* Browsers hold the tokens in ``HttpOnly`` cookies no script can read. A cookie is attached by the
  browser whoever built the request, so a state-changing request authenticated by cookie must also
  carry the ``csrf`` cookie's value in the ``X-CSRF-Token`` header (double submit): only a page of
  this origin can read that cookie. ``SameSite=Strict`` keeps the cookies off cross-site requests in
  the first place; the CSRF check does not rely on it.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response, status

from couture_auth.domain.permissions import Permission, Principal
from couture_auth.domain.users import UserDirectory
from couture_auth.sessions import SessionRefused, current_principal
from couture_auth.tokens import (
    InvalidTokenError,
    KeysUnavailable,
    TokenClaims,
    TokenExpiredError,
    TokenVerifier,
)
from couture_common.clock import utcnow

CSRF_HEADER = "X-CSRF-Token"
#: The refresh cookie goes to this path only: no other request ever carries it.
REFRESH_PATH = "/auth/refresh"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True, slots=True)
class CookieNames:
    access: str
    refresh: str
    csrf: str


def cookie_names(secure: bool) -> CookieNames:
    """Secure cookies carry the ``__Host-``/``__Secure-`` prefixes: a browser accepts them only from
    this very origin over https, so a sibling subdomain cannot plant its own session or CSRF token."""
    if secure:
        return CookieNames("__Host-couture_access", "__Secure-couture_refresh", "__Host-couture_csrf")
    return CookieNames("couture_access", "couture_refresh", "couture_csrf")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a Host header's name, without port) names this machine."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def cookies_secure(*, https: bool, host: str, always: bool) -> bool:
    """Session cookies are ``Secure`` over https and for every host but this machine's; only plain
    http on a loopback address (local development) goes without, unless ``always`` says so."""
    return always or https or not is_loopback(host)


def request_cookies_secure(request: Request, *, always: bool) -> bool:
    return cookies_secure(https=request.url.scheme == "https", host=request.url.hostname or "", always=always)


@dataclass(frozen=True, slots=True)
class SessionCookies:
    access_token: str
    refresh_token: str
    csrf_token: str


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def set_session_cookies(
    response: Response,
    cookies: SessionCookies,
    *,
    secure: bool,
    access_ttl: timedelta,
    refresh_ttl: timedelta,
) -> None:
    names = cookie_names(secure)
    session_age = int(refresh_ttl.total_seconds())
    for name, value, max_age, path, httponly in (
        (names.access, cookies.access_token, int(access_ttl.total_seconds()), "/", True),
        (names.refresh, cookies.refresh_token, session_age, REFRESH_PATH, True),
        # Readable by the UI's scripts (it echoes it in X-CSRF-Token), so not HttpOnly.
        (names.csrf, cookies.csrf_token, session_age, "/", False),
    ):
        response.set_cookie(
            name, value, max_age=max_age, path=path, secure=secure, httponly=httponly, samesite="strict"
        )


def clear_session_cookies(response: Response, *, secure: bool) -> None:
    names = cookie_names(secure)
    for name, path, httponly in (
        (names.access, "/", True),
        (names.refresh, REFRESH_PATH, True),
        (names.csrf, "/", False),
    ):
        response.delete_cookie(name, path=path, secure=secure, httponly=httponly, samesite="strict")


def check_csrf(request: Request, *, secure: bool) -> str:
    """The CSRF token of a cookie-authenticated request; 403 unless the header repeats the cookie."""
    expected = request.cookies.get(cookie_names(secure).csrf, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not expected or not sent:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"CSRF token missing: send the csrf cookie's value in the {CSRF_HEADER} header",
        )
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"CSRF token wrong: {CSRF_HEADER} must equal the csrf cookie"
        )
    return expected


def check_same_origin(request: Request) -> None:
    """403 for a browser request another site made (its ``Origin`` names another host): another
    site must not sign a visitor in to an account of its choosing (login CSRF)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if urlsplit(origin).hostname != request.url.hostname:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Cross-site request refused: Origin is another site")


def unauthorized(detail: str, *, error: str | None = "invalid_token", expired: bool = False) -> HTTPException:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    if expired:
        challenge += ', error_description="The access token expired"'
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenge})


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def authenticate(request: Request, verifier: TokenVerifier, *, always_secure: bool) -> TokenClaims:
    """The verified access token of the request: its bearer token, else its access cookie (with the
    CSRF check for a state-changing method). 401 without a valid token, 403 on a failed CSRF check.
    """
    token = bearer_token(request)
    if token is None:
        secure = request_cookies_secure(request, always=always_secure)
        token = request.cookies.get(cookie_names(secure).access)
        if token is None:
            raise unauthorized("Not authenticated", error=None)
        if request.method not in _SAFE_METHODS:
            check_csrf(request, secure=secure)
    return await verify_access(token, verifier)


async def verify_access(token: str, verifier: TokenVerifier) -> TokenClaims:
    try:
        return await verifier.verify(token, now=utcnow())
    except TokenExpiredError:
        raise unauthorized("Invalid or expired token", expired=True) from None
    except KeysUnavailable:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "The auth service's keys cannot be fetched; try again"
        ) from None
    except InvalidTokenError:
        raise unauthorized("Invalid or expired token") from None


def session_principal(directory: UserDirectory, claims: TokenClaims) -> Principal:
    """The user a verified token belongs to, as they are now; 401 when its session is no longer good."""
    try:
        return current_principal(directory, claims)
    except SessionRefused as refused:
        raise unauthorized(str(refused)) from None


#: What the DAG registry's routes need: the Manage DAGs page's read and edit (Developer, Admin).
REGISTRY_READ: Permission = ("can_list", "Manage DAGs")
REGISTRY_EDIT: Permission = ("can_edit", "Manage DAGs")
PASSWORD_CHANGE_REQUIRED = "Password change required: set a new one with POST /api/couture/users/me/password"


def require_permission(principal: Principal, action: str, resource: str, *, what: str) -> None:
    """403 naming the permission unless the user's current roles grant it (and no password change
    is pending, which allows nothing else)."""
    if principal.password_change_required:
        raise HTTPException(status.HTTP_403_FORBIDDEN, PASSWORD_CHANGE_REQUIRED)
    if not principal.grants(action, resource):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"Forbidden: `{what}` needs the permission {action} on {resource}"
        )


def permitted_actor(
    request: Request, directory: UserDirectory, claims: TokenClaims, permission: Permission
) -> str:
    """``user:<name>`` for a token whose session is on and whose user holds ``permission`` now.

    The principal is kept on the request before the check, as the gateway's ``authorize`` does, so
    the audit trail names who made a write, a refused one included."""
    principal = session_principal(directory, claims)
    request.state.principal = principal
    route = getattr(request.scope.get("route"), "name", None) or request.url.path
    require_permission(principal, *permission, what=str(route))
    return f"user:{principal.username}"
