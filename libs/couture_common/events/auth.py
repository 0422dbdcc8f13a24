"""Topics ``auth`` (users, roles, LDAP settings; kept forever) and ``audit`` (who did what, from where).

Passwords travel only as argon2 hashes and the LDAP bind password only as a Fernet token; an
audit record names what was touched, never a value that was written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from couture_common.events._base import Event, event_type
from couture_common.topics import AUDIT, AUTH


class _UserEvent(Event, frozen=True, kw_only=True):
    username: str

    def partition_key(self) -> str:
        return f"user:{self.username}"


@event_type("user.created", topic=AUTH)
class UserCreated(_UserEvent, frozen=True, kw_only=True):
    """A user account; ``password_hash`` is an argon2 PHC string (``$argon2id$...``)."""

    password_hash: str
    roles: tuple[str, ...] = ()
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    #: The user must set a new password before anything else (the seeded superadmin's default).
    password_change_required: bool = False


@event_type("user.password_changed", topic=AUTH)
class UserPasswordChanged(_UserEvent, frozen=True, kw_only=True):
    password_hash: str


@event_type("user.edited", topic=AUTH)
class UserEdited(_UserEvent, frozen=True, kw_only=True):
    """The account's new profile and roles, as a whole (fields not sent keep nothing old)."""

    roles: tuple[str, ...]
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


@event_type("user.deactivated", topic=AUTH)
class UserDeactivated(_UserEvent, frozen=True, kw_only=True):
    """The user can no longer log in, and tokens already issued to them stop working."""


@event_type("user.reactivated", topic=AUTH)
class UserReactivated(_UserEvent, frozen=True, kw_only=True):
    pass


@event_type("token.revoked", topic=AUTH)
class TokenRevoked(Event, frozen=True, kw_only=True):
    """A login session ended before its time (logout, or a refresh token used twice): its access
    and refresh tokens are refused. Also a refresh token used up by a refresh (rotation).

    ``token_id`` is the tokens' session id (their ``sid`` claim), or the used refresh token's own
    ``jti``. ``expires_at``: no token it refuses is valid after this plus the longest token
    lifetime, when the revocation may be forgotten.
    """

    token_id: str
    username: str
    expires_at: datetime

    def partition_key(self) -> str:
        return f"token:{self.token_id}"


@event_type("ldap_config.set", topic=AUTH)
class LdapConfigSet(Event, frozen=True, kw_only=True):
    """Admin → LDAP Configuration, as a whole; replaces the ``COUTURE_AUTH_*`` environment settings.

    Fields are the manual's ``AUTH_LDAP_*`` options; ``encrypted_bind_password`` is a Fernet token.
    """

    auth_type: Literal["AUTH_DB", "AUTH_LDAP"]
    server: str = ""
    search: str = ""
    uid_field: str = "uid"
    bind_user: str = ""
    encrypted_bind_password: str | None = None
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
    #: Group DN → the roles its members get.
    roles_mapping: dict[str, tuple[str, ...]] = {}

    def partition_key(self) -> str:
        return "ldap_config"


class _RoleEvent(Event, frozen=True, kw_only=True):
    name: str

    def partition_key(self) -> str:
        return f"role:{self.name}"


@event_type("role.set", topic=AUTH)
class RoleSet(_RoleEvent, frozen=True, kw_only=True):
    """A custom role created or replaced: its ``(action, resource)`` pairs.

    Per-DAG access is a pair like any other: ``("can_dag_read", "<dag_id>")`` or
    ``("can_dag_edit", "<dag_id>")``; the resource ``all_dags`` stands for every DAG.
    """

    permissions: tuple[tuple[str, str], ...]


@event_type("role.deleted", topic=AUTH)
class RoleDeleted(_RoleEvent, frozen=True, kw_only=True):
    pass


AuditOutcome = Literal["success", "denied", "failed", "error"]


@event_type("audit.recorded", topic=AUDIT)
class AuditRecorded(Event, frozen=True, kw_only=True):
    """One state-changing request or login attempt. The envelope's time is when it happened."""

    #: Who acted: the signed-in user, or for a login the username tried; None when unknown.
    username: str | None
    #: The endpoint's operation id (``trigger_dag_run``, ``post_variable``) or ``login``.
    action: str
    method: str
    path: str
    dag_id: str | None = None
    #: What else the request names (run id, variable key, connection id...), as ``name=value``.
    target: str | None = None
    source_ip: str | None = None
    outcome: AuditOutcome
    status_code: int
    request_id: str

    def partition_key(self) -> str:
        return f"audit:{self.username or self.source_ip or ''}"
