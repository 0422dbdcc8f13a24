"""Security → List Users / List Roles: bodies shaped like Airflow's FAB API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from couture_gateway.schemas.common import ApiModel, RequestBody

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"


class NamedItem(BaseModel):
    name: str = Field(min_length=1, max_length=250)


class ActionResource(BaseModel):
    """One permission: ``{"action": {"name": "can_dag_read"}, "resource": {"name": "etl_daily"}}``."""

    action: NamedItem
    resource: NamedItem


class RoleBody(RequestBody):
    name: str = Field(min_length=1, max_length=64)
    actions: list[ActionResource] = Field(default_factory=list, max_length=5000)


class RoleResponse(BaseModel):
    name: str
    actions: list[ActionResource]


class RoleCollectionResponse(BaseModel):
    roles: list[RoleResponse]
    total_entries: int


class PermissionCollectionResponse(BaseModel):
    actions: list[ActionResource]
    total_entries: int


class UserBody(RequestBody):
    username: str = Field(pattern=USERNAME_PATTERN)
    password: str = Field(min_length=8, max_length=256)
    roles: list[str] = Field(min_length=1)
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class UserPatchBody(RequestBody):
    roles: list[str] = Field(min_length=1)
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    active: bool = True


class AccountResponse(BaseModel):
    username: str
    roles: list[str]
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    active: bool


class AccountCollectionResponse(BaseModel):
    users: list[AccountResponse]
    total_entries: int


class AuditLogResponse(ApiModel):
    audit_log_id: int
    when: datetime
    username: str | None
    action: str
    method: str
    path: str
    dag_id: str | None
    target: str | None
    source_ip: str | None
    outcome: str
    status_code: int
    request_id: str


class AuditLogCollectionResponse(BaseModel):
    audit_logs: list[AuditLogResponse]
    total_entries: int
