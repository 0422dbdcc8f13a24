"""The user directory and custom roles, rebuilt from the ``auth`` topic by a pure fold.

Applying an event twice changes nothing: a repeated ``UserCreated`` for a known user is ignored
(the first account wins); every other event sets a value, so setting it again is the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

import msgspec

from couture_auth.domain.permissions import BUILTIN_ROLES, Principal, Role
from couture_common.events import (
    Event,
    LdapConfigSet,
    RoleDeleted,
    RoleSet,
    TokenRevoked,
    UserCreated,
    UserDeactivated,
    UserEdited,
    UserPasswordChanged,
    UserReactivated,
)

#: The account every fresh installation starts with (the user's manual names it).
SUPERADMIN = "superadmin"
DEFAULT_ADMIN_PASSWORD = "couture@123"
ADMIN_ROLE = "Admin"


class User(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    password_hash: str
    roles: tuple[str, ...] = ()
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    active: bool = True
    password_change_required: bool = False


class UserDirectory(msgspec.Struct, frozen=True):
    users: Mapping[str, User] = msgspec.field(default_factory=lambda: MappingProxyType({}))
    #: Custom roles by name; the built-in ones are in ``permissions.BUILTIN_ROLES``.
    custom_roles: Mapping[str, Role] = msgspec.field(default_factory=lambda: MappingProxyType({}))
    #: Revoked ids (a logged-out session's ``sid``, a used refresh token's ``jti``) with the
    #: ``expires_at`` their revocation carried.
    revoked_tokens: Mapping[str, datetime] = msgspec.field(default_factory=lambda: MappingProxyType({}))
    #: Admin → LDAP Configuration, once an admin saved it.
    ldap_config: LdapConfigSet | None = None

    def get(self, username: str) -> User | None:
        return self.users.get(username)

    def is_revoked(self, token_id: str | None) -> bool:
        return token_id is not None and token_id in self.revoked_tokens

    def __len__(self) -> int:
        return len(self.users)

    def role(self, name: str) -> Role | None:
        return BUILTIN_ROLES.get(name) or self.custom_roles.get(name)

    def roles(self) -> list[Role]:
        """Every role, built-in ones first, then custom ones by name."""
        return [*BUILTIN_ROLES.values(), *(self.custom_roles[n] for n in sorted(self.custom_roles))]

    def principal(self, username: str) -> Principal | None:
        """The active user ``username`` with their roles as defined now; None if unknown or inactive.

        A role name that no longer exists grants nothing.
        """
        user = self.users.get(username)
        if user is None or not user.active:
            return None
        roles = tuple(r for name in user.roles if (r := self.role(name)) is not None)
        return Principal(username, roles, password_change_required=user.password_change_required)


def apply(directory: UserDirectory, event: Event) -> UserDirectory:
    if isinstance(event, UserCreated):
        if event.username in directory.users:
            return directory
        user = User(
            username=event.username,
            password_hash=event.password_hash,
            roles=event.roles,
            email=event.email,
            first_name=event.first_name,
            last_name=event.last_name,
            password_change_required=event.password_change_required,
        )
        return _with_user(directory, user)
    if isinstance(event, LdapConfigSet):
        return msgspec.structs.replace(directory, ldap_config=event)
    if isinstance(event, TokenRevoked):
        # Revoked again (a reused refresh token ends a logged-out session): the later expiry counts.
        revoked_until = directory.revoked_tokens.get(event.token_id)
        if revoked_until is not None and revoked_until >= event.expires_at:
            return directory
        revoked = MappingProxyType({**directory.revoked_tokens, event.token_id: event.expires_at})
        return msgspec.structs.replace(directory, revoked_tokens=revoked)
    if isinstance(event, RoleSet):
        if event.name in BUILTIN_ROLES:
            return directory
        role = Role(event.name, frozenset(event.permissions))
        return _with_roles(directory, {**directory.custom_roles, event.name: role})
    if isinstance(event, RoleDeleted):
        return _with_roles(
            directory, {name: r for name, r in directory.custom_roles.items() if name != event.name}
        )
    if not isinstance(event, UserPasswordChanged | UserEdited | UserDeactivated | UserReactivated):
        return directory
    known = directory.users.get(event.username)
    if known is None:
        return directory
    if isinstance(event, UserPasswordChanged):
        changed = msgspec.structs.replace(
            known, password_hash=event.password_hash, password_change_required=False
        )
        return _with_user(directory, changed)
    if isinstance(event, UserEdited):
        edited = msgspec.structs.replace(
            known,
            roles=event.roles,
            email=event.email,
            first_name=event.first_name,
            last_name=event.last_name,
        )
        return _with_user(directory, edited)
    active = isinstance(event, UserReactivated)
    return _with_user(directory, msgspec.structs.replace(known, active=active))


def fold(events: Iterable[Event], directory: UserDirectory | None = None) -> UserDirectory:
    # Not ``directory or ...``: a directory without users is falsy yet may hold roles.
    state = directory if directory is not None else UserDirectory()
    for event in events:
        state = apply(state, event)
    return state


def without_stale_revocations(
    directory: UserDirectory, *, now: datetime, longest_lifetime: timedelta
) -> UserDirectory:
    """The directory without revocations no token can need any more.

    A revocation's ``expires_at`` is never before the moment it was revoked, and no token of a
    revoked session is issued after that moment, so once ``expires_at + longest_lifetime`` has
    passed every token it refused has expired anyway: keeping it would only grow the set forever.
    """
    kept = {
        token_id: expires_at
        for token_id, expires_at in directory.revoked_tokens.items()
        if expires_at + longest_lifetime > now
    }
    if len(kept) == len(directory.revoked_tokens):
        return directory
    return msgspec.structs.replace(directory, revoked_tokens=MappingProxyType(kept))


def seed_events(
    directory: UserDirectory, *, password_hash: str, password_change_required: bool = False
) -> list[Event]:
    """The events that create the superadmin on first start: none once any user exists."""
    if len(directory):
        return []
    created = UserCreated(
        username=SUPERADMIN,
        password_hash=password_hash,
        roles=(ADMIN_ROLE,),
        password_change_required=password_change_required,
    )
    return [created]


def _with_user(directory: UserDirectory, user: User) -> UserDirectory:
    return msgspec.structs.replace(
        directory, users=MappingProxyType({**directory.users, user.username: user})
    )


def _with_roles(directory: UserDirectory, roles: Mapping[str, Role]) -> UserDirectory:
    return msgspec.structs.replace(directory, custom_roles=MappingProxyType(dict(roles)))
