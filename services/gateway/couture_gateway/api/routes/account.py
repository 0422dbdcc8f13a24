"""Couture: the signed-in user's own account (``/api/couture/users/me``)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from couture_auth import AuthenticationFailed
from couture_auth.http import clear_session_cookies, request_cookies_secure
from couture_common.clock import utcnow
from couture_gateway.api.effective_permissions import effective_permissions
from couture_gateway.deps import AuthDep, Authorized, CurrentUser, SettingsDep
from couture_gateway.schemas.auth import MeResponse, PasswordChangeBody
from couture_gateway.schemas.common import HTTPExceptionResponse

router = APIRouter(tags=["Account (Couture)"])


@router.get("/users/me", responses={404: {"model": HTTPExceptionResponse}})
async def get_me(user: CurrentUser, principal: Authorized, auth: AuthDep) -> MeResponse:
    """Who the token belongs to, with their roles and what those roles let them do now (the UI
    shows only the menus and controls these permit)."""
    account = await auth.user(user.subject)
    if account is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"User `{user.subject}` no longer exists")
    return MeResponse(
        username=account.username,
        roles=list(account.roles),
        email=account.email,
        first_name=account.first_name,
        last_name=account.last_name,
        permissions=effective_permissions(principal),
    )


@router.post(
    "/users/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={400: {"model": HTTPExceptionResponse}},
)
async def change_my_password(body: PasswordChangeBody, user: CurrentUser, auth: AuthDep) -> Response:
    """Reset my password. Tokens issued before stay valid until they expire or log out."""
    try:
        await auth.change_password(user.subject, body.current_password, body.new_password)
    except AuthenticationFailed:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "current_password is wrong") from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/users/me/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, user: CurrentUser, auth: AuthDep, settings: SettingsDep) -> Response:
    """Revoke the session this request's token belongs to (every gateway refuses its access and
    refresh tokens from now on) and clear the browser's session cookies."""
    await auth.logout(user, now=utcnow())
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, secure=request_cookies_secure(request, always=settings.cookie_secure))
    return response
