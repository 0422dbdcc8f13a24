"""Security → List Users / List Roles: bodies shaped like Airflow's FAB API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

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


class LdapConfigBody(RequestBody):
    """Admin → LDAP Configuration: the manual's ``AUTH_*`` options, lowercased without ``AUTH_LDAP_``.

    ``bind_password`` is write-only; leave it out to keep the one stored.
    """

    auth_type: Literal["AUTH_DB", "AUTH_LDAP"]
    server: str = ""
    search: str = ""
    uid_field: str = "uid"
    bind_user: str = ""
    bind_password: str | None = Field(default=None, max_length=1024)
    allow_self_signed: bool = False
    group_search: str = ""
    use_tls: bool = False
    firstname_field: str = "givenName"
    lastname_field: str = "sn"
    email_field: str = "mail"
    user_registration: bool = False
    user_registration_role: str = ""
    tls_demand: bool = True
    search_filter: str = ""
    append_domain: str = ""
    username_format: str = ""
    tls_cacertdir: str = ""
    tls_cacertfile: str = ""
    tls_certfile: str = ""
    tls_keyfile: str = ""
    roles_mapping: dict[str, list[str]] = Field(default_factory=dict)


class LdapConfigResponse(BaseModel):
    auth_type: str
    server: str
    search: str
    uid_field: str
    bind_user: str
    bind_password_set: bool
    allow_self_signed: bool
    group_search: str
    use_tls: bool
    firstname_field: str
    lastname_field: str
    email_field: str
    user_registration: bool
    user_registration_role: str
    tls_demand: bool
    search_filter: str
    append_domain: str
    username_format: str
    tls_cacertdir: str
    tls_cacertfile: str
    tls_certfile: str
    tls_keyfile: str
    roles_mapping: dict[str, list[str]]
    #: ``environment`` until an admin saves a configuration here, then ``admin``.
    source: Literal["environment", "admin"]
