"""Variables and connections as the ``config`` topic states them, still encrypted.

Secrets stay Fernet tokens here; they are decrypted only when a task asks (see the runtime
service), so a dump of the executor's memory or a log line never holds them in clear.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from couture_common.events import ConnectionDeleted, ConnectionSet, Event, VariableDeleted, VariableSet


class ConfigView:
    def __init__(self) -> None:
        self._variables: dict[str, str] = {}
        self._connections: dict[str, dict[str, ConnectionSet]] = {}

    def apply(self, event: Event) -> None:
        match event:
            case VariableSet():
                self._variables[event.key] = event.value
            case VariableDeleted():
                self._variables.pop(event.key, None)
            case ConnectionSet():
                for entries in self._connections.values():
                    entries.pop(event.entry_id, None)
                self._connections.setdefault(event.conn_id, {})[event.entry_id] = event
            case ConnectionDeleted():
                entries = self._connections.get(event.conn_id, {})
                entries.pop(event.entry_id, None)
                if not entries:
                    self._connections.pop(event.conn_id, None)

    def variable_token(self, key: str) -> str | None:
        return self._variables.get(key)

    def connection(
        self, conn_id: str, choose: Callable[[Sequence[ConnectionSet]], ConnectionSet]
    ) -> ConnectionSet | None:
        """One entry of ``conn_id``, picked by ``choose`` (at random in the service), or None."""
        entries = self._connections.get(conn_id)
        if not entries:
            return None
        return choose(sorted(entries.values(), key=lambda e: e.entry_id))
