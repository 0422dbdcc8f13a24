"""Wait on several consumers at once without busy polling."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from couture_common.eventlog.port import Consumer, Record


class MergedPoller:
    """Polls several consumers concurrently and returns whatever any of them delivered.

    A poll that did not finish in one call keeps running into the next one, so no records are
    dropped and no consumer is polled twice at once.
    """

    def __init__(self, consumers: Sequence[Consumer], *, max_records: int = 2000) -> None:
        self._consumers = list(consumers)
        self._max_records = max_records
        self._pending: dict[int, asyncio.Task[list[Record]]] = {}

    async def poll(self, timeout: float | None) -> list[Record]:
        for index, consumer in enumerate(self._consumers):
            if index not in self._pending:
                self._pending[index] = asyncio.ensure_future(consumer.poll(self._max_records, timeout=None))
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

    async def close(self) -> None:
        for task in self._pending.values():
            task.cancel()
        for task in self._pending.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._pending.clear()
