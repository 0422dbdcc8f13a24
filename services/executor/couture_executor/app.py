"""Composition root of the executor service: wires the log's consumers, the fork server and the tries.

Consumers:
* ``task-queue`` in group ``executor``: ExecuteTask commands, committed once the try has started
  (at-least-once); commands for tries already finished are acknowledged without running again.
* ``run`` (replayed, no group): XComs for ``xcom_pull`` and which tries have finished.
* ``config`` (replayed, no group): variables and connections, still encrypted.
* ``control`` (replayed, no group; every executor sees every kill): KillTask.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from couture_common.clock import utcnow
from couture_common.config_view import ConfigView
from couture_common.eventlog import Consumer, EventLog, Record, TopicPartition
from couture_common.events import ExecuteTask, KillTask, TaskHeartbeat, envelope
from couture_common.settings import Settings
from couture_common.topics import CONFIG, CONTROL, RUN, TASK_QUEUE
from couture_common.tracing import continued_span
from couture_executor.adapters.dag_files import DagFileStore
from couture_executor.adapters.zygote.client import Zygote
from couture_executor.domain.commits import CommitTracker
from couture_executor.domain.run_view import RunView
from couture_executor.domain.tries import TryKey, failure, finished_event
from couture_executor.supervisor.batching import BatchingAppender, CoalescingCommitter
from couture_executor.supervisor.offset_gate import OffsetGate
from couture_executor.supervisor.runtime_service import RuntimeService
from couture_executor.supervisor.try_runner import TryRunner

logger = logging.getLogger(__name__)

GROUP = "executor"
#: How many kills for tries not (yet) running here are remembered, so a late ExecuteTask is not run.
KILL_MEMORY = 10_000
EVICT_EVERY = timedelta(minutes=1)


class ExecutorService:
    def __init__(
        self,
        log: EventLog,
        settings: Settings,
        *,
        dag_file_store: DagFileStore,
        executor_id: str,
        hostname: str | None = None,
        kill_grace: float = 5.0,
        stop_grace: float = 30.0,
        xcom_retention: timedelta = timedelta(hours=24),
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._log = log
        self._settings = settings
        self._executor_id = executor_id
        self._slots = settings.executor_slots
        self._heartbeat_interval = settings.heartbeat_interval
        self._stop_grace = stop_grace
        self._now = now
        self._actor = f"service:executor/{executor_id}"
        self._run_view = RunView(xcom_retention)
        self._config_view = ConfigView()
        self._run_gate = OffsetGate()
        self._config_gate = OffsetGate()
        self._commits = CommitTracker()
        self._kills: OrderedDict[TryKey, str] = OrderedDict()
        self._claimed: set[TryKey] = set()
        #: In-flight commands and the try each one is about (None until its command is read).
        self._handlers: dict[asyncio.Task[None], TryKey | None] = {}
        self._stopping = False
        self._slot_freed = asyncio.Event()
        self._zygote = Zygote(parse_timeout=settings.parse_timeout)
        self._appender = BatchingAppender(log)
        self._runner = TryRunner(
            appender=self._appender,
            zygote=self._zygote,
            dag_files=dag_file_store,
            runtime=RuntimeService(
                log=log,
                run_view=self._run_view,
                config_view=self._config_view,
                config_gate=self._config_gate,
                secret_box=lambda: settings.secret_box,
                now=now,
            ),
            run_view=self._run_view,
            logs_path=settings.logs_path,
            dags_folder=settings.dags_path,
            executor_id=executor_id,
            hostname=hostname or socket.gethostname(),
            kill_grace=kill_grace,
            now=now,
        )
        self._consumers: list[Consumer] = []
        self._followers: list[asyncio.Task[None]] = []
        self._taking_work: asyncio.Task[None] | None = None
        self._committer: CoalescingCommitter | None = None
        self._queue: Consumer | None = None

    async def start(self) -> None:
        """Start the fork server, catch up with the log, then take work."""
        await self._zygote.start()
        run = self._consumer([RUN])
        config = self._consumer([CONFIG])
        control = self._consumer([CONTROL])
        self._follow(self._follow_run(run), "follow run")
        self._follow(self._follow_config(config), "follow config")
        self._follow(self._follow_control(control), "follow control")
        self._follow(self._heartbeat(), "heartbeat")
        await self._run_gate.wait_ends(await self._log.end_offsets(RUN))
        queue = self._queue = self._consumer([TASK_QUEUE], group=GROUP)
        self._committer = CoalescingCommitter(queue)
        self._taking_work = asyncio.create_task(self._take_work(queue), name="take work")
        logger.info("executor %s started with %d slots", self._executor_id, self._slots)

    @property
    def queue_partitions(self) -> frozenset[int]:
        """The ``task-queue`` partitions the executors' group gives this executor now."""
        if self._queue is None or self._stopping:
            return frozenset()
        return frozenset(tp.partition for tp in self._queue.assignment)

    async def stop(self) -> None:
        """Take no new work, let running tries finish for the grace period, then kill and report them.

        Commands not yet started are left unacknowledged, so the group hands them out again.
        """
        if self._stopping:
            return
        self._stopping = True
        if self._taking_work is not None:
            self._taking_work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._taking_work
        for handler, key in list(self._handlers.items()):
            if key not in self._runner.running:
                handler.cancel()
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=self._stop_grace)
        for key in list(self._runner.running):
            self._runner.stop(key, "The executor stopped before the task finished", retry=True)
        if self._handlers:
            await asyncio.wait(list(self._handlers))
        for follower in self._followers:
            follower.cancel()
        await asyncio.gather(*self._followers, return_exceptions=True)
        for consumer in self._consumers:
            await consumer.close()
        await self._zygote.close()
        logger.info("executor %s stopped", self._executor_id)

    def _consumer(self, topics: list[str], group: str | None = None) -> Consumer:
        consumer = self._log.consumer(topics, group=group)
        self._consumers.append(consumer)
        return consumer

    def _follow(self, loop: Coroutine[Any, Any, None], name: str) -> None:
        follower = asyncio.create_task(loop, name=name)
        follower.add_done_callback(_report_stopped_follower)
        self._followers.append(follower)

    async def _take_work(self, queue: Consumer) -> None:
        while True:
            free = self._slots - len(self._handlers)
            if free <= 0:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            for record in await queue.poll(max_records=free, timeout=1.0):
                tp = TopicPartition(record.topic, record.partition)
                self._commits.received(tp, record.offset)
                handler = asyncio.create_task(self._handle(record), name=f"try at {record.offset}")
                self._handlers[handler] = None
                handler.add_done_callback(self._release_slot)

    def _release_slot(self, handler: asyncio.Task[None]) -> None:
        self._handlers.pop(handler, None)
        self._slot_freed.set()
        if not handler.cancelled() and handler.exception() is not None:
            logger.error("a try failed in the executor itself", exc_info=handler.exception())

    async def _handle(self, record: Record) -> None:
        command = record.envelope.payload

        async def acknowledge() -> None:
            tp = TopicPartition(record.topic, record.partition)
            position = self._commits.acknowledge(tp, record.offset)
            if position is not None and self._committer is not None:
                await self._committer.commit(tp, position)

        if not isinstance(command, ExecuteTask):
            logger.warning(
                "ignoring %s on %s: not a command the executor runs", record.envelope.type, TASK_QUEUE
            )
            await acknowledge()
            return
        key = TryKey.of(command)
        current = asyncio.current_task()
        if current in self._handlers:
            self._handlers[current] = key
        if key in self._claimed or self._run_view.is_finished(key):
            await acknowledge()
            return
        self._claimed.add(key)
        try:
            await self._run_gate.wait(command.run_log_partition, command.run_log_offset)
            if self._run_view.is_finished(key):
                await acknowledge()
                return
            if self._stopping:
                return
            kill_reason = self._kills.pop(key, None)
            if kill_reason is not None:
                result = failure(kill_reason, no_retry=True)
                finished = finished_event(command, result, start_date=None, end_date=self._now())
                await self._appender.append([envelope(finished, actor=self._actor)])
                self._run_view.record_finished(key)
                await acknowledge()
                return
            attributes: dict[str, str | int] = {
                "dag_id": command.dag_id,
                "run_id": command.run_id,
                "task_id": command.task_id,
                "try_number": command.try_number,
            }
            # The try's events (started, XComs, finished) carry this span: it joins the run's trace.
            with continued_span(
                f"execute {command.dag_id}.{command.task_id}", record.envelope.trace, attributes=attributes
            ):
                await self._runner.run(command, started=acknowledge)
        finally:
            self._claimed.discard(key)

    async def _follow_run(self, consumer: Consumer) -> None:
        next_eviction = self._now() + EVICT_EVERY
        while True:
            records = await consumer.poll(timeout=EVICT_EVERY.total_seconds())
            for record in records:
                self._run_view.apply(record.envelope.payload, record.envelope.time)
            await self._run_gate.advance(_positions(records))
            if self._now() >= next_eviction:
                evicted = self._run_view.evict(self._now())
                if evicted:
                    logger.info("evicted the XComs of %d finished runs", evicted)
                next_eviction = self._now() + EVICT_EVERY

    async def _follow_config(self, consumer: Consumer) -> None:
        while True:
            records = await consumer.poll()
            for record in records:
                self._config_view.apply(record.envelope.payload)
            await self._config_gate.advance(_positions(records))

    async def _follow_control(self, consumer: Consumer) -> None:
        while True:
            for record in await consumer.poll():
                kill = record.envelope.payload
                if not isinstance(kill, KillTask):
                    continue
                key = TryKey.of(kill)
                if not self._runner.stop(key, f"Task was killed: {kill.reason}", retry=False):
                    self._kills[key] = f"Task was killed before it started: {kill.reason}"
                    while len(self._kills) > KILL_MEMORY:
                        self._kills.popitem(last=False)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            now = self._now()
            beats = [
                TaskHeartbeat(
                    dag_id=key.dag_id,
                    run_id=key.run_id,
                    task_id=key.task_id,
                    map_index=key.map_index,
                    try_number=key.try_number,
                    executor_id=self._executor_id,
                    pid=running.process.pid,
                    at=now,
                )
                for key, running in list(self._runner.running.items())
            ]
            if beats:
                await self._appender.append([envelope(beat, actor=self._actor, time=now) for beat in beats])


def _positions(records: list[Record]) -> dict[int, int]:
    positions: dict[int, int] = {}
    for record in records:
        positions[record.partition] = max(positions.get(record.partition, 0), record.offset + 1)
    return positions


def _report_stopped_follower(follower: asyncio.Task[None]) -> None:
    if not follower.cancelled() and follower.exception() is not None:
        logger.critical(
            "the executor stopped following the log (%s); tries that need it will wait",
            follower.get_name(),
            exc_info=follower.exception(),
        )
