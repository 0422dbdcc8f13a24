"""Topic ``login``: failed logins, the facts every auth process folds its lockout from.

Kept apart from the ``auth`` topic (kept forever): these are not configuration, only recent ones
matter (the topic keeps a day), and a spray of made-up usernames must not grow the user directory.
The envelope's time is when the attempt was judged.
"""

from __future__ import annotations

from couture_common.events._base import Event, event_type
from couture_common.topics import LOGIN


class _LoginEvent(Event, frozen=True, kw_only=True):
    username: str

    def partition_key(self) -> str:
        return f"login:{self.username}"


@event_type("login.failed", topic=LOGIN)
class LoginFailed(_LoginEvent, frozen=True, kw_only=True):
    """Wrong credentials (or an unknown or deactivated user) for ``username``, from ``source_ip``."""

    #: The client's address as the gateway worked it out; None when unknown.
    source_ip: str | None = None


@event_type("login.failures_cleared", topic=LOGIN)
class LoginFailuresCleared(_LoginEvent, frozen=True, kw_only=True):
    """``username`` logged in: their count of failures starts again (their address's does not)."""
