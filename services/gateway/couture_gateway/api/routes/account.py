"""Couture: the signed-in user's own account (``/api/couture/users/me``)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from couture_auth import AuthenticationFailed
from couture_gateway.deps import AuthDep, CurrentUser
from couture_gateway.schemas.auth import PasswordChangeBody
from couture_gateway.schemas.common import HTTPExceptionResponse

router = APIRouter(tags=["Account (Couture)"])


@router.post(
    "/users/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={400: {"model": HTTPExceptionResponse}},
)
async def change_my_password(body: PasswordChangeBody, user: CurrentUser, auth: AuthDep) -> Response:
    """Reset my password. Tokens issued before stay valid until they expire."""
    try:
        await auth.change_password(user.subject, body.current_password, body.new_password)
    except AuthenticationFailed:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "current_password is wrong") from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
