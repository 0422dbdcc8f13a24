"""The scheduler service: fold the log, decide, append the decisions — and nothing else.

The loop keeps one invariant that makes live state equal replayed state: ``decide`` only ever sees
a state that is the fold of a prefix of the log. After appending its decisions the scheduler reads
them back through its consumers before deciding again (read-your-writes through the log), instead
of applying them locally out of log order.

Scale-out: the ``run`` topic is keyed by dag_id and read in the consumer group ``scheduler``, so
each scheduler owns the runs of the DAGs on the partitions the group assigns it. ``dag``,
``config``, ``pool`` and ``heartbeat`` are folded whole by every scheduler.

Pools: a pool's slots are granted by its arbiter, the scheduler owning the ``run`` partition of the
pool's index (``arbitrates``), so ownership follows the group and its revocation listener as the
DAGs' does. A try's owner asks on the ``pool`` topic, queues the try when it folds the grant, and
gives the slots back when the try leaves queued/running; alone, or arbiter of the pool, it asks,
grants and queues in one answer (see :mod:`couture_scheduler.domain.decide`). Whenever the assignment changes,
the state is rebuilt: a fresh fold of the metadata topics and of the owned ``run`` partitions from
offset 0, up to their end offsets, before the next decide — ``pool`` after the runs (a claim is
judged by its try's state), ``heartbeat`` last, since a heartbeat
counts only for a try the state already knows running (folded before the runs, every try would be
judged by its start and a restarted scheduler would fail each try running longer than the zombie
threshold). Rebalances are rare and the fold is fast,
and a rebuilt state cannot hold leftovers of a partition another scheduler now decides for. With
the SQLite log (one process) the only member owns every partition.

When the group takes partitions away, the log's revocation listener tells the scheduler before
anyone else gets them: it decides nothing more for their DAGs from then on, and a decision being
appended is let land first, so their next owner's replay holds it. (A scheduler killed outright
is not asked; the group waits out its session before moving its partitions.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from couture_common.clock import utcnow
from couture_common.eventlog.port import (
    Consumer,
    EventLog,
    EventLogError,
    Record,
    TopicPartition,
    partition_for,
)
from couture_common.events import envelope
from couture_common.services.polling import MergedPoller
from couture_common.topics import CONFIG, DAG, HEARTBEAT, POOL, RUN, TOPICS
from couture_scheduler.domain import SchedulerPolicy, SchedulerState, apply, decide
from couture_scheduler.run_traces import RunTraces

logger = logging.getLogger(__name__)

ACTOR = "service:scheduler"
#: The consumer group whose members split the ``run`` partitions (the DAGs) between them.
GROUP = "scheduler"

_META_TOPICS = (DAG, CONFIG)
_FOLDED_TOPICS = frozenset({*_META_TOPICS, RUN, POOL, HEARTBEAT})
#: How long a replay poll waits for records it knows are there (Kafka fetches are asynchronous).
_REPLAY_WAIT = 0.2


class SchedulerService:
    """Owns the runs of the DAGs on the ``run`` partitions its group assigns it (all, when alone)."""

    def __init__(
        self,
        log: EventLog,
        *,
        policy: SchedulerPolicy | None = None,
        tick: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        group: str = GROUP,
    ) -> None:
        self._log = log
        self._policy = policy or SchedulerPolicy()
        self._tick = tick
        self._clock = clock
        self._group = group
        self.state = SchedulerState()
        self._owned: frozenset[TopicPartition] = frozenset()
        self._owned_partitions: frozenset[int] = frozenset()
        self._task: asyncio.Task[None] | None = None
        #: Set when the group took partitions away: the state still holds their runs until rebuilt.
        self._revoked = False
        #: The append of the latest decision, while it is under way.
        self._appending: asyncio.Future[list[Record]] | None = None
        self._caught_up = asyncio.Event()
        self._rebuilding = True
        self._folded = asyncio.Condition()
        self._traces = RunTraces()

    @property
    def owned_partitions(self) -> frozenset[int]:
        """The ``run`` partitions whose DAGs this scheduler decides for now."""
        return self._owned_partitions

    @property
    def ready(self) -> bool:
        """Running, with a state that has caught up with the log for the partitions it owns."""
        return self._task is not None and not self._task.done() and not self._rebuilding

    def owns(self, dag_id: str) -> bool:
        return partition_for(dag_id, TOPICS[RUN].partitions) in self._owned_partitions

    def arbitrates(self, pool: str) -> bool:
        """Whether this scheduler grants ``pool``'s slots: it owns the ``run`` partition of its index."""
        return partition_for(pool, TOPICS[POOL].partitions) in self._owned_partitions

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
        """Stop deciding; an append under way completes first, so no decision is half-written."""
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
                self._rebuilding = True
                self.state = SchedulerState()
                await asyncio.sleep(self._tick)

    async def _fold_and_decide(self) -> None:
        meta = self._log.consumer(list(_META_TOPICS))
        runs = self._log.consumer([RUN], group=self._group, on_revoked=self._give_up)
        # Every pool's claims, replayed after the runs: a claim is then judged by its try's state.
        pools = self._log.consumer([POOL])
        # Heartbeats count only for tries the state knows running: replayed after the runs.
        pulse = self._log.consumer([HEARTBEAT])
        try:
            while True:
                await self._rebuild(meta, runs, pools, pulse)
                self._caught_up.set()
                await self._follow(meta, runs, pools, pulse)
        finally:
            for consumer in (meta, runs, pools, pulse):
                await consumer.close()

    async def _rebuild(self, meta: Consumer, runs: Consumer, pools: Consumer, pulse: Consumer) -> None:
        """A fresh state: everything in the metadata topics and the owned run partitions now."""
        self._rebuilding = True
        while True:
            owned = runs.assignment
            self.state = SchedulerState()
            self._traces = RunTraces()
            self._owned = owned
            self._owned_partitions = frozenset(tp.partition for tp in owned)
            self._revoked = False
            if not owned:
                # Nothing to decide for (a rebalance under way, or more schedulers than partitions):
                # no fold is needed until the group assigns partitions, which rebuilds again.
                self._rebuilding = False
                return
            for consumer in (meta, runs, pools, pulse):
                for tp in consumer.assignment:
                    consumer.seek(tp, 0)
            ends = await self._end_offsets(meta.assignment | owned | pools.assignment | pulse.assignment)
            logger.info("scheduler owns run partitions %s; replaying", sorted(self._owned_partitions))
            if await self._replay([meta, runs, pools, pulse], runs, ends):
                self._rebuilding = False
                return

    async def _replay(
        self, consumers: list[Consumer], runs: Consumer, ends: dict[TopicPartition, int]
    ) -> bool:
        """Fold up to ``ends``, one consumer after the other; False when the run assignment changed."""
        for consumer in consumers:
            while behind := [tp for tp in consumer.assignment if consumer.position(tp) < ends.get(tp, 0)]:
                records = await consumer.poll(5000, timeout=_REPLAY_WAIT)
                if self._moved(runs):
                    return False
                await self._fold(records)
                if not records and all(TOPICS[tp.topic].retention_hours is not None for tp in behind):
                    # Retention may have deleted the rest before the end offset: nothing more comes.
                    break
        return not self._moved(runs)

    async def _follow(self, meta: Consumer, runs: Consumer, pools: Consumer, pulse: Consumer) -> None:
        """Fold and decide until the group moves run partitions to or from this scheduler."""
        consumers = [meta, runs, pools, pulse]
        polls = MergedPoller(consumers, wait=self._tick)
        try:
            waiting_for: dict[TopicPartition, int] = {}
            while True:
                records = await polls.next(timeout=self._next_wakeup())
                await self._fold(records)
                if self._moved(runs):
                    # Polls in flight are let finish, not cancelled: a cancelled fetch could still
                    # take records after the rebuild's seek. Their records are read again anyway.
                    await polls.finish()
                    return
                if any(_position(consumers, tp) < offset for tp, offset in waiting_for.items()):
                    continue
                waiting_for = await self._decide_and_append()
        finally:
            polls.cancel()

    def _moved(self, runs: Consumer) -> bool:
        """Whether the group moved run partitions since the state was rebuilt for ``_owned``."""
        return self._revoked or runs.assignment != self._owned

    async def _give_up(self, revoked: frozenset[TopicPartition]) -> None:
        """Decide nothing more for the DAGs of ``revoked``; a decision being appended lands first.

        The state still holds their runs, and ``decide`` acts on every run in it: the next decide
        waits for a rebuild on what is left (``_moved``).
        """
        self._revoked = True
        self._owned -= revoked
        self._owned_partitions = frozenset(tp.partition for tp in self._owned)
        logger.info("scheduler gives up run partitions %s", sorted(tp.partition for tp in revoked))
        if self._appending is not None:
            await asyncio.wait([self._appending])

    async def _end_offsets(self, partitions: frozenset[TopicPartition]) -> dict[TopicPartition, int]:
        ends: dict[TopicPartition, int] = {}
        for topic in {tp.topic for tp in partitions}:
            for partition, end in (await self._log.end_offsets(topic)).items():
                tp = TopicPartition(topic, partition)
                if tp in partitions:
                    ends[tp] = end
        return ends

    async def _fold(self, records: list[Record]) -> None:
        state = self.state
        traces = self._traces
        for record in records:
            apply(state, record)
            traces.observe(record)
        if records:
            async with self._folded:
                self._folded.notify_all()

    async def _decide_and_append(self) -> dict[TopicPartition, int]:
        events = decide(self.state, self._clock(), self._policy, owns=self.owns, arbitrates=self.arbitrates)
        if not events:
            return {}
        batch = [envelope(e, actor=ACTOR, trace=self._traces.headers_for(e)) for e in events]
        appending = self._appending = asyncio.ensure_future(self._log.append(batch))
        try:
            appended = await asyncio.shield(appending)
        except asyncio.CancelledError:
            # Stopping: the batch is written whole (or fails whole) before the service ends.
            await asyncio.wait([appending])
            raise
        finally:
            self._appending = None
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


def _position(consumers: list[Consumer], tp: TopicPartition) -> int:
    """Where the consumer reading ``tp`` is; a partition nobody reads is never waited for."""
    for consumer in consumers:
        if tp in consumer.assignment:
            return consumer.position(tp)
    return 1 << 62
