from __future__ import annotations

from pydantic import BaseModel, Field


class PasswordChangeBody(BaseModel):
    current_password: str = Field(min_length=1)
    new_password: str = Field(min_length=8, max_length=256)


class UserResponse(BaseModel):
    username: str
    roles: list[str]
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
