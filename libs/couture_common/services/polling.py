"""Wait on several consumers at once without busy polling."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from couture_common.eventlog.port import Consumer, Record


class MergedPoller:
    """Waits on several consumers at once, one poll in flight per consumer, none dropped.

    Each poll is bounded by ``wait`` seconds, so the polls in flight can be let finish.
    """

    def __init__(self, consumers: Sequence[Consumer], *, wait: float) -> None:
        self._consumers = list(consumers)
        self._wait = wait
        self._pending: dict[int, asyncio.Task[list[Record]]] = {}

    async def next(self, timeout: float) -> list[Record]:
        for index, consumer in enumerate(self._consumers):
            if index not in self._pending:
                self._pending[index] = asyncio.ensure_future(consumer.poll(2000, timeout=self._wait))
        done, _ = await asyncio.wait(
            self._pending.values(), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        records: list[Record] = []
        for index in sorted(self._pending):
            task = self._pending[index]
            if task in done:
                del self._pending[index]
                records.extend(task.result())
        return records

    async def finish(self) -> None:
        """Let the polls in flight end; what they read is dropped."""
        if self._pending:
            await asyncio.wait(self._pending.values())
        pending, self._pending = self._pending, {}
        for task in pending.values():
            task.result()

    def cancel(self) -> None:
        for task in self._pending.values():
            task.cancel()
        self._pending.clear()
