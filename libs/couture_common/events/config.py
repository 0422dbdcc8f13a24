"""Topic ``config`` (compacted): variables, connections and pools. Secrets are Fernet tokens here."""

from __future__ import annotations

from couture_common.events._base import Event, event_type
from couture_common.topics import CONFIG


@event_type("variable.set", topic=CONFIG)
class VariableSet(Event, frozen=True, kw_only=True):
    """``value`` is always a Fernet token: variables are encrypted before they enter the log."""

    key: str
    value: str
    description: str | None = None

    def partition_key(self) -> str:
        return f"variable:{self.key}"


@event_type("variable.deleted", topic=CONFIG)
class VariableDeleted(Event, frozen=True, kw_only=True):
    key: str

    def partition_key(self) -> str:
        return f"variable:{self.key}"


@event_type("connection.set", topic=CONFIG)
class ConnectionSet(Event, frozen=True, kw_only=True):
    """One connection entry. Several entries may share ``conn_id``; one is picked at random per use.

    ``entry_id`` names this entry; ``password`` and ``extra`` are Fernet tokens (or None).
    """

    entry_id: str
    conn_id: str
    conn_type: str
    description: str | None = None
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    extra: str | None = None

    def partition_key(self) -> str:
        return f"connection:{self.entry_id}"


@event_type("connection.deleted", topic=CONFIG)
class ConnectionDeleted(Event, frozen=True, kw_only=True):
    entry_id: str
    conn_id: str

    def partition_key(self) -> str:
        return f"connection:{self.entry_id}"


@event_type("pool.set", topic=CONFIG)
class PoolSet(Event, frozen=True, kw_only=True):
    name: str
    slots: int
    description: str | None = None
    include_deferred: bool = False

    def partition_key(self) -> str:
        return f"pool:{self.name}"


@event_type("pool.deleted", topic=CONFIG)
class PoolDeleted(Event, frozen=True, kw_only=True):
    name: str

    def partition_key(self) -> str:
        return f"pool:{self.name}"
