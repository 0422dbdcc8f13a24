"""How the API writes: an event appended to the log, then a bounded wait for the read models.

The append is the commit point: once it returns, the change is durable and the caller gets its
2xx. Waiting for the projector afterwards only makes the answer, and an immediate GET, show the
change (read-your-writes); a slow projector delays the answer, it never loses the write.
"""

from __future__ import annotations

import contextlib

from couture_common.eventlog import EventLog, Record
from couture_common.events import Event, envelope
from couture_gateway.readmodels.projector import Projector, position_after


class EventWriter:
    def __init__(self, log: EventLog, projector: Projector, *, actor: str, timeout: float) -> None:
        self._log = log
        self._projector = projector
        self._actor = actor
        self._timeout = timeout

    @property
    def actor(self) -> str:
        return self._actor

    async def append(self, *events: Event) -> list[Record]:
        """Append ``events`` atomically; return once they are in the read models or the bound passed."""
        records = await self._log.append([envelope(e, actor=self._actor) for e in events])
        # On timeout the events are durable all the same; the answer may just not show them yet.
        with contextlib.suppress(TimeoutError):
            await self._projector.wait_for(position_after(records), self._timeout)
        return records
