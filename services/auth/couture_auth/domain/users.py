"""The user directory, rebuilt from the ``auth`` topic by a pure fold.

Applying an event twice changes nothing: a repeated ``UserCreated`` for a known user is ignored
(the first account wins), and a password change sets the same hash again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import msgspec

from couture_common.events import Event, UserCreated, UserPasswordChanged

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


class UserDirectory(msgspec.Struct, frozen=True):
    users: Mapping[str, User] = msgspec.field(default_factory=lambda: MappingProxyType({}))

    def get(self, username: str) -> User | None:
        return self.users.get(username)

    def __len__(self) -> int:
        return len(self.users)


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
        )
        return _with(directory, user)
    if isinstance(event, UserPasswordChanged):
        known = directory.users.get(event.username)
        if known is None:
            return directory
        return _with(directory, msgspec.structs.replace(known, password_hash=event.password_hash))
    return directory


def fold(events: Iterable[Event], directory: UserDirectory | None = None) -> UserDirectory:
    state = directory or UserDirectory()
    for event in events:
        state = apply(state, event)
    return state


def seed_events(directory: UserDirectory, *, password_hash: str) -> list[Event]:
    """The events that create the superadmin on first start: none once any user exists."""
    if len(directory):
        return []
    return [UserCreated(username=SUPERADMIN, password_hash=password_hash, roles=(ADMIN_ROLE,))]


def _with(directory: UserDirectory, user: User) -> UserDirectory:
    return UserDirectory(MappingProxyType({**directory.users, user.username: user}))
