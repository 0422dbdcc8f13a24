"""How the API writes: an event appended to the log, then a bounded wait for the read models.

The append is the commit point: once it returns, the change is durable and the caller gets its
2xx. Waiting for the projector afterwards only makes the answer, and an immediate GET, show the
change (read-your-writes); a slow projector delays the answer, it never loses the write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from couture_common.eventlog import EventLog, Record
from couture_common.events import Event, envelope


class Projection(Protocol):
    async def wait_for(self, records: Sequence[Record], timeout: float) -> bool:
        """True once every record is applied to the read models; False when ``timeout`` passed."""


class EventWriter:
    def __init__(self, log: EventLog, projection: Projection, *, actor: str, timeout: float) -> None:
        self._log = log
        self._projection = projection
        self._actor = actor
        self._timeout = timeout

    @property
    def actor(self) -> str:
        return self._actor

    async def append(self, *events: Event) -> list[Record]:
        records = await self._log.append([envelope(e, actor=self._actor) for e in events])
        await self._projection.wait_for(records, self._timeout)
        return records
