"""Variables and connections as the ``config`` topic states them, still encrypted.

Secrets stay Fernet tokens here; they are decrypted only where a clear value is needed (a task
asking, ``couture variables get``), so a dump of memory or a log line never holds them in clear.
Used by the executor and the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from couture_common.events import ConnectionDeleted, ConnectionSet, Event, VariableDeleted, VariableSet


class ConfigView:
    def __init__(self) -> None:
        self._variables: dict[str, VariableSet] = {}
        self._connections: dict[str, dict[str, ConnectionSet]] = {}

    def apply(self, event: Event) -> None:
        match event:
            case VariableSet():
                self._variables[event.key] = event
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
        variable = self._variables.get(key)
        return None if variable is None else variable.value

    def variable(self, key: str) -> VariableSet | None:
        return self._variables.get(key)

    def variable_keys(self) -> list[str]:
        return sorted(self._variables)

    def connection_entries(self) -> list[ConnectionSet]:
        """Every entry, ordered by conn_id then entry_id."""
        return [
            entry
            for conn_id in sorted(self._connections)
            for entry in sorted(self._connections[conn_id].values(), key=lambda e: e.entry_id)
        ]

    def connection(
        self, conn_id: str, choose: Callable[[Sequence[ConnectionSet]], ConnectionSet]
    ) -> ConnectionSet | None:
        """One entry of ``conn_id``, picked by ``choose`` (at random in the service), or None."""
        entries = self._connections.get(conn_id)
        if not entries:
            return None
        return choose(sorted(entries.values(), key=lambda e: e.entry_id))
