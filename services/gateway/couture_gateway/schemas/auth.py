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


class DagAccess(BaseModel):
    all: bool = Field(description="Every DAG, including ones added later.")
    dag_ids: list[str] = Field(default_factory=list, description="The DAGs, when not all.")


class EffectivePermissions(BaseModel):
    """What the user's roles grant now, for showing only the menus and controls they may use."""

    everything: bool = Field(description="Admin: every permission, including ones not listed.")
    permissions: dict[str, list[str]] = Field(
        description="The (action, resource) pairs, DAG access apart, as each resource's actions "
        "(grouped: the built-in roles grant hundreds of pairs).",
        examples=[{"VariableModelView": ["can_list", "can_show"]}],
    )
    dag_read: DagAccess
    dag_edit: DagAccess
    dag_read_actions: list[str] = Field(
        description="Actions that need read access to a DAG; every other action on a DAG needs edit access."
    )


class MeResponse(UserResponse):
    permissions: EffectivePermissions
