"""How fast the projector replays the event log into the read models (standalone: SQLite both sides).

    .venv/bin/python bench/projector_replay.py [--events 200000] [--batch-size 2000] [--dags 50]

Appends a realistic history (DAG parses, variables, scheduled runs of 5-task DAGs: every try
scheduled, queued, started, pushing an XCom and finishing, one try in ten retried, a few manual
triggers) to a fresh SQLite event log, then prints:
* the log's own read rate (a consumer reading every record, decoding included), the ceiling;
* ``rebuild`` events/s: drop the read models and replay from offset 0, as an operator would;
* how much of the replay is reading the log, and how much is folding and writing SQL.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from couture_common.dagspec import DagSpec, ScheduleSpec, TaskSpec
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import (
    DagFileProcessed,
    DagParsed,
    DagRunCreated,
    DagRunFinished,
    DagRunRequested,
    DagRunStarted,
    Envelope,
    Event,
    TaskInstanceFinished,
    TaskInstanceQueued,
    TaskInstanceScheduled,
    TaskInstanceStarted,
    VariableSet,
    XComPushed,
    envelope,
)
from couture_common.events.run import TryOutcome
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.positions import PROJECTED_TOPICS
from couture_gateway.readmodels.projector import rebuild

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TASKS = ("extract", "clean", "transform", "load", "report")


class History:
    def __init__(self) -> None:
        self.now = T0
        self.count = 0

    def at(self, payload: Event, actor: str = "service:scheduler") -> Envelope:
        self.now += timedelta(milliseconds=20)
        self.count += 1
        return envelope(payload, actor=actor, time=self.now)

    def batches(self, events: int, dags: int) -> Iterator[list[Envelope]]:
        for d in range(dags):
            spec = DagSpec(
                dag_id=f"dag_{d:03}",
                fileloc=f"/dags/dag_{d:03}.py",
                schedule=ScheduleSpec(kind="cron", cron="0 * * * *", display="@hourly"),
                tasks=tuple(
                    TaskSpec(
                        task_id=t, operator="BashOperator", upstream=(TASKS[i - 1],) if i else (), retries=1
                    )
                    for i, t in enumerate(TASKS)
                ),
                start_date=T0,
                tags=("bench",),
            )
            yield [
                self.at(DagParsed(dag_id=spec.dag_id, version="v1", spec=spec), "service:registry"),
                self.at(
                    DagFileProcessed(fileloc=spec.fileloc, version="v1", dag_ids=(spec.dag_id,)),
                    "service:registry",
                ),
            ]
        yield [self.at(VariableSet(key=f"var_{i}", value="gAAAA-token"), "user:alice") for i in range(20)]
        hour = 0
        while self.count < events:
            logical = T0 + timedelta(hours=hour)
            for d in range(dags):
                if self.count >= events:
                    return
                yield list(self._run(f"dag_{d:03}", logical, manual=(hour + d) % 25 == 0))
            hour += 1

    def _run(self, dag_id: str, logical: datetime, manual: bool) -> Iterator[Envelope]:
        run_id = f"{'manual' if manual else 'scheduled'}__{logical.isoformat()}"
        if manual:
            yield self.at(DagRunRequested(dag_id=dag_id, run_id=run_id, logical_date=logical), "user:bob")
        yield self.at(
            DagRunCreated(
                dag_id=dag_id,
                run_id=run_id,
                run_type="manual" if manual else "scheduled",
                logical_date=logical,
                data_interval_start=logical,
                data_interval_end=logical + timedelta(hours=1),
                dag_version="v1",
            )
        )
        yield self.at(DagRunStarted(dag_id=dag_id, run_id=run_id))
        for i, task_id in enumerate(TASKS):
            tries = 2 if (self.count + i) % 10 == 0 else 1
            for number in range(1, tries + 1):
                key: dict[str, Any] = {
                    "dag_id": dag_id,
                    "run_id": run_id,
                    "task_id": task_id,
                    "try_number": number,
                }
                start = self.now
                yield self.at(TaskInstanceScheduled(**key))
                yield self.at(TaskInstanceQueued(**key, max_tries=1))
                yield self.at(
                    TaskInstanceStarted(
                        **key, hostname="worker-1", pid=1000, executor_id="x1", start_date=start
                    ),
                    "service:executor",
                )
                yield self.at(
                    XComPushed(**key, key="return_value", value='{"rows": 1000}'), "service:executor"
                )
                outcome: TryOutcome = "success" if number == tries else "up_for_retry"
                yield self.at(
                    TaskInstanceFinished(**key, state=outcome, start_date=start, end_date=self.now),
                    "service:executor",
                )
        yield self.at(DagRunFinished(dag_id=dag_id, run_id=run_id, state="success"))


async def read_rate(log: SqliteEventLog, batch_size: int) -> tuple[int, float]:
    consumer = log.consumer(list(PROJECTED_TOPICS))
    start, count = time.perf_counter(), 0
    while records := await consumer.poll(batch_size, timeout=0):
        count += len(records)
    elapsed = time.perf_counter() - start
    await consumer.close()
    return count, elapsed


async def main(events: int, batch_size: int, dags: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with SqliteEventLog(folder / "events.db", sync="normal") as log:
            history = History()
            start = time.perf_counter()
            for batch in history.batches(events, dags):
                await log.append(batch)
            print(f"appended {history.count} events in {time.perf_counter() - start:.1f} s")

            count, read_seconds = await read_rate(log, batch_size)
            print(f"log read (poll + decode, no projection): {count / read_seconds:,.0f} events/s")

            engine = await open_readmodels(f"sqlite+aiosqlite:///{folder / 'readmodels.db'}")
            start, cpu_start = time.perf_counter(), time.process_time()
            replayed = await rebuild(engine, log, batch_size=batch_size)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            await engine.dispose()
            print(f"rebuild: {replayed} events in {elapsed:.2f} s = {replayed / elapsed:,.0f} events/s")
            # CPU time of all this process's threads: what the figure would be on an idle core.
            print(f"  CPU {cpu:.2f} s = {replayed / cpu:,.0f} events per CPU-second")
            reading = replayed * read_seconds / count
            print(
                f"  of which reading the log ~{reading:.2f} s; folding and SQL "
                f"{elapsed - reading:.2f} s = {(elapsed - reading) / replayed * 1e6:.1f} us/event"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000, help="events in the history (default 200000)")
    parser.add_argument(
        "--batch-size", type=int, default=2000, help="records per projector poll (default 2000)"
    )
    parser.add_argument("--dags", type=int, default=50, help="DAGs in the history (default 50)")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.batch_size, args.dags))
