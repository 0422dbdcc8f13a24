"""Topic ``auth`` (compacted): users. Passwords travel only as argon2 hashes, never in clear."""

from __future__ import annotations

from couture_common.events._base import Event, event_type
from couture_common.topics import AUTH


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


@event_type("user.password_changed", topic=AUTH)
class UserPasswordChanged(_UserEvent, frozen=True, kw_only=True):
    password_hash: str
