from __future__ import annotations

from pydantic import BaseModel, Field


class LoginBody(BaseModel):
    username: str = Field(min_length=1)
    password: str = Field(min_length=1)


class LoginResponse(BaseModel):
    access_token: str
    #: Buys new access tokens at ``POST /auth/refresh`` until it expires or the session logs out.
    refresh_token: str | None = None


class RefreshBody(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=8192)


class PasswordChangeBody(BaseModel):
    current_password: str = Field(min_length=1)
    new_password: str = Field(min_length=8, max_length=256)


class UserResponse(BaseModel):
    username: str
    roles: list[str]
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
