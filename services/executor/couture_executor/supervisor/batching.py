"""Group commit for the many tries of one executor.

Thirty-two tries starting and finishing at once would otherwise make sixty-four appends and
thirty-two commits, each a durable write. Callers that arrive while a write is in flight share the
next one. One caller's events still go in one append, so they stay atomic together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from couture_common.eventlog import Consumer, EventLog, TopicPartition
from couture_common.events import Envelope


class BatchingAppender:
    def __init__(self, log: EventLog) -> None:
        self._log = log
        self._pending: list[tuple[Sequence[Envelope], asyncio.Future[None]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def append(self, envelopes: Sequence[Envelope]) -> None:
        """Durably append ``envelopes`` (together with other callers' batches)."""
        done = asyncio.get_running_loop().create_future()
        self._pending.append((envelopes, done))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write(), name="append batch")
        await done

    async def _write(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._log.append([e for envelopes, _ in batch for e in envelopes])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)


class CoalescingCommitter:
    """Commits the newest position per partition; positions that arrive during a commit ride the next."""

    def __init__(self, consumer: Consumer) -> None:
        self._consumer = consumer
        self._pending: dict[TopicPartition, int] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._committing: asyncio.Task[None] | None = None

    async def commit(self, tp: TopicPartition, position: int) -> None:
        self._pending[tp] = max(position, self._pending.get(tp, 0))
        done = asyncio.get_running_loop().create_future()
        self._waiters.append(done)
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit(), name="commit task-queue")
        await done

    async def _commit(self) -> None:
        while self._pending:
            offsets, self._pending = self._pending, {}
            waiters, self._waiters = self._waiters, []
            try:
                await self._consumer.commit(offsets)
            except Exception as exc:
                for done in waiters:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for done in waiters:
                    if not done.done():
                        done.set_result(None)
