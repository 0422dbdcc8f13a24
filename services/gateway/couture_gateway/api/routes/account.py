"""Couture: the signed-in user's own account (``/api/couture/users/me``)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from couture_auth import AuthenticationFailed
from couture_gateway.deps import AuthDep, CurrentUser
from couture_gateway.schemas.auth import PasswordChangeBody, UserResponse
from couture_gateway.schemas.common import HTTPExceptionResponse

router = APIRouter(tags=["Account (Couture)"])


@router.get("/users/me", responses={404: {"model": HTTPExceptionResponse}})
async def get_me(user: CurrentUser, auth: AuthDep) -> UserResponse:
    """Who the token belongs to, with their roles."""
    account = await auth.user(user.subject)
    if account is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"User `{user.subject}` no longer exists")
    return UserResponse(
        username=account.username,
        roles=list(account.roles),
        email=account.email,
        first_name=account.first_name,
        last_name=account.last_name,
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
async def logout(user: CurrentUser, auth: AuthDep) -> Response:
    """Revoke the token this request carries; every gateway refuses it from now on."""
    await auth.logout(user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
