"""The scheduler service: fold the log, decide, append the decisions — and nothing else.

The loop keeps one invariant that makes live state equal replayed state: ``decide`` only ever sees
a state that is the fold of a prefix of the log. After appending its decisions the scheduler reads
them back through its consumers before deciding again (read-your-writes through the log), instead
of applying them locally out of log order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from couture_common.clock import utcnow
from couture_common.eventlog.port import Consumer, EventLog, EventLogError, Record, TopicPartition
from couture_common.events import envelope
from couture_common.services.polling import MergedPoller
from couture_common.topics import CONFIG, DAG, HEARTBEAT, RUN
from couture_scheduler.domain import SchedulerPolicy, SchedulerState, apply, decide

logger = logging.getLogger(__name__)

ACTOR = "service:scheduler"


class SchedulerService:
    """Owns the runs of every DAG (one scheduler per deployment in standalone mode)."""

    def __init__(
        self,
        log: EventLog,
        *,
        policy: SchedulerPolicy | None = None,
        tick: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._log = log
        self._policy = policy or SchedulerPolicy()
        self._tick = tick
        self._clock = clock
        self.state = SchedulerState()
        self._task: asyncio.Task[None] | None = None
        self._caught_up = asyncio.Event()
        self._folded = asyncio.Condition()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scheduler")

    async def wait_caught_up(self) -> None:
        """Until the state has folded everything that was in the log when the service started."""
        await self._caught_up.wait()

    async def wait_folded(self, topics: Sequence[str], timeout: float = 30.0) -> None:
        """Until the state has folded everything in ``topics`` that is in the log now."""
        ends = {
            (topic, partition): end
            for topic in topics
            for partition, end in (await self._log.end_offsets(topic)).items()
        }

        def reached() -> bool:
            offsets = self.state.offsets
            return all(
                offsets.get(topic, {}).get(partition, -1) + 1 >= end
                for (topic, partition), end in ends.items()
            )

        async with asyncio.timeout(timeout), self._folded:
            await self._folded.wait_for(reached)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._fold_and_decide()
                return
            except EventLogError:
                # decide drains the state's to-do bookkeeping; after a failed append only a fresh
                # fold of the log restores it, so rebuild rather than decide on a drifted state.
                logger.exception("scheduler append failed; rebuilding state from the log")
                self.state = SchedulerState()
                await asyncio.sleep(self._tick)

    async def _fold_and_decide(self) -> None:
        consumers: list[Consumer] = [
            self._log.consumer([DAG, CONFIG, HEARTBEAT]),
            self._log.consumer([RUN]),
        ]
        poller = MergedPoller(consumers)
        try:
            await self._replay(consumers)
            self._caught_up.set()
            waiting_for: dict[TopicPartition, int] = {}
            while True:
                records = await poller.poll(timeout=self._next_wakeup())
                await self._fold(records)
                if any(_position(consumers, tp) < offset for tp, offset in waiting_for.items()):
                    continue
                waiting_for = await self._decide_and_append()
        finally:
            await poller.close()
            for consumer in consumers:
                await consumer.close()

    async def _replay(self, consumers: list[Consumer]) -> None:
        for consumer in consumers:
            while True:
                records = await consumer.poll(5000, timeout=0)
                if not records:
                    break
                await self._fold(records)

    async def _fold(self, records: list[Record]) -> None:
        state = self.state
        for record in records:
            apply(state, record)
        if records:
            async with self._folded:
                self._folded.notify_all()

    async def _decide_and_append(self) -> dict[TopicPartition, int]:
        events = decide(self.state, self._clock(), self._policy)
        if not events:
            return {}
        appended = await self._log.append([envelope(e, actor=ACTOR) for e in events])
        waiting: dict[TopicPartition, int] = {}
        for record in appended:
            if record.topic in _FOLDED_TOPICS:
                tp = TopicPartition(record.topic, record.partition)
                waiting[tp] = max(waiting.get(tp, 0), record.offset + 1)
        return waiting

    def _next_wakeup(self) -> float:
        timers = self.state.timers
        if not timers:
            return self._tick
        due = (timers[0][0] - self._clock()).total_seconds()
        return min(self._tick, max(due, 0.0))


_FOLDED_TOPICS = frozenset({DAG, CONFIG, HEARTBEAT, RUN})


def _position(consumers: list[Consumer], tp: TopicPartition) -> int:
    """Where the consumer reading ``tp`` is; a partition nobody reads is never waited for."""
    for consumer in consumers:
        if tp in consumer.assignment:
            return consumer.position(tp)
    return 1 << 62
