"""A scheduler started again rebuilds its state from the log and judges running tries by their
latest heartbeat, not by their start (real scheduler service on a real SQLite log)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from couture_common.clock import utcnow
from couture_common.eventlog.port import EventLog, TopicPartition
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import ExecuteTask, TaskHeartbeat, TaskInstanceFinished, envelope
from couture_common.topics import RUN, TASK_QUEUE
from couture_scheduler.domain import SchedulerPolicy
from couture_scheduler.service import SchedulerService
from tests.unit.scheduler.driver import dag_spec, parsed, started, task, trigger

THRESHOLD_S = 60.0


async def read_topic(log: EventLog, topic: str) -> list[object]:
    ends = await log.end_offsets(topic)
    consumer = log.consumer([topic])
    payloads: list[object] = []
    try:
        while any(consumer.position(TopicPartition(topic, p)) < end for p, end in ends.items()):
            payloads += [r.envelope.payload for r in await consumer.poll(5000, timeout=1)]
    finally:
        await consumer.close()
    return payloads


async def queued_command(log: EventLog) -> ExecuteTask:
    for _ in range(100):
        commands = [c for c in await read_topic(log, TASK_QUEUE) if isinstance(c, ExecuteTask)]
        if commands:
            return commands[0]
        await asyncio.sleep(0.05)
    raise AssertionError("the scheduler sent no ExecuteTask")


async def test_a_restarted_scheduler_keeps_a_long_running_try_that_heartbeats(tmp_path: Path) -> None:
    policy = SchedulerPolicy(zombie_threshold=THRESHOLD_S)
    async with SqliteEventLog(tmp_path / "events.db") as log:
        await log.append([envelope(e, actor="test") for e in parsed(dag_spec("long", task("t")))])
        await log.append([envelope(trigger("long", "r1"), actor="test")])
        before = SchedulerService(log, policy=policy, tick=0.1)
        await before.start()
        command = await queued_command(log)
        await before.stop()
        # The try has run for longer than the threshold, and heart-beats still.
        now = utcnow()
        beat = TaskHeartbeat(
            dag_id="long", run_id="r1", task_id="t", try_number=1, executor_id="executor-1", pid=1001, at=now
        )
        await log.append(
            [
                envelope(started(command, now - timedelta(seconds=3 * THRESHOLD_S)), actor="test"),
                envelope(beat, actor="test"),
            ]
        )

        after = SchedulerService(log, policy=policy, tick=0.1)
        await after.start()
        await after.wait_caught_up()
        await asyncio.sleep(0.5)
        await after.stop()

        assert [e for e in await read_topic(log, RUN) if isinstance(e, TaskInstanceFinished)] == []
