"""The projector on a real SQLite event log: a realistic history, crashes before commit, rebuilds,
two projectors at once, and read-your-writes."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from couture_common.dagspec import DagSpec, ScheduleSpec, TaskSpec
from couture_common.eventlog import TopicPartition
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import (
    DagFileProcessed,
    DagImportFailed,
    DagParsed,
    DagPausedSet,
    DagRunCreated,
    DagRunFinished,
    DagRunRequested,
    DagRunStarted,
    Envelope,
    Event,
    PoolSet,
    TaskInstanceFinished,
    TaskInstanceQueued,
    TaskInstanceRendered,
    TaskInstanceScheduled,
    TaskInstancesCleared,
    TaskInstanceStarted,
    VariableSet,
    XComPushed,
    envelope,
)
from couture_gateway.readmodels.changes import Change, changes_of
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.projector import Projector, position_after, stored_offsets
from couture_gateway.readmodels.rebuild import rebuild
from couture_gateway.readmodels.tables import (
    PROJECTED_TABLES,
    dag,
    dag_run,
    event_log,
    task_instance,
    task_instance_try,
    variable,
    xcom,
)

T0 = datetime(2024, 3, 1, tzinfo=UTC)
TASKS = ("extract", "transform", "load")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def envelope(self, payload: Event, actor: str = "service:scheduler") -> Envelope:
        self.now += timedelta(milliseconds=250)
        return envelope(payload, actor=actor, time=self.now)


def dag_spec(dag_id: str) -> DagSpec:
    return DagSpec(
        dag_id=dag_id,
        fileloc=f"/dags/{dag_id}.py",
        schedule=ScheduleSpec(kind="cron", cron="0 * * * *", display="@hourly"),
        tasks=tuple(
            TaskSpec(task_id=t, operator="BashOperator", upstream=(TASKS[i - 1],) if i else (), retries=2)
            for i, t in enumerate(TASKS)
        ),
        start_date=T0,
        is_paused_upon_creation=False,
    )


def realistic_history(dags: int = 4, runs: int = 6) -> list[list[Envelope]]:
    """Batches as the services append them: parses, config, triggers, tries with retries and
    XComs, an import error, a clear and its rerun."""
    clock = Clock()
    batches: list[list[Envelope]] = [
        [clock.envelope(VariableSet(key="env", value="gAAAA-token"), "user:alice")],
        [clock.envelope(PoolSet(name="spark", slots=4), "user:alice")],
    ]
    for d in range(dags):
        dag_id = f"dag_{d}"
        batches.append(
            [
                clock.envelope(
                    DagParsed(dag_id=dag_id, version="v1", spec=dag_spec(dag_id)), "service:registry"
                ),
                clock.envelope(
                    DagFileProcessed(fileloc=f"/dags/{dag_id}.py", version="v1", dag_ids=(dag_id,)),
                    "service:registry",
                ),
            ]
        )
    batches.append(
        [clock.envelope(DagImportFailed(fileloc="/dags/broken.py", version="x", stacktrace="SyntaxError"))]
    )
    for r in range(runs):
        for d in range(dags):
            dag_id, logical = f"dag_{d}", T0 + timedelta(hours=r)
            run_id = f"scheduled__{logical.isoformat()}"
            if r == 2:
                batches.append(
                    [
                        clock.envelope(
                            DagRunRequested(dag_id=dag_id, run_id=f"manual__{r}", logical_date=logical),
                            "user:bob",
                        )
                    ]
                )
            batches.append(
                [
                    scheduled_run(clock, dag_id, run_id, logical),
                    clock.envelope(DagRunStarted(dag_id=dag_id, run_id=run_id)),
                ]
            )
            for task_id in TASKS:
                tries = 2 if (r + d) % 3 == 0 and task_id == "transform" else 1
                for try_number in range(1, tries + 1):
                    batches.append(
                        _a_try(clock, dag_id, run_id, task_id, try_number, last=try_number == tries)
                    )
            batches.append([clock.envelope(DagRunFinished(dag_id=dag_id, run_id=run_id, state="success"))])
            if r == runs - 1 and d == 0:
                batches.append(
                    [
                        clock.envelope(
                            TaskInstancesCleared(dag_id=dag_id, run_id=run_id, task_ids=("load",)),
                            "user:carol",
                        )
                    ]
                )
                batches.append(_a_try(clock, dag_id, run_id, "load", 2, last=True))
                batches.append(
                    [
                        clock.envelope(DagRunStarted(dag_id=dag_id, run_id=run_id)),
                        clock.envelope(DagRunFinished(dag_id=dag_id, run_id=run_id, state="success")),
                    ]
                )
                batches.append([clock.envelope(DagPausedSet(dag_id=dag_id, is_paused=True), "user:carol")])
    return batches


def scheduled_run(clock: Clock, dag_id: str, run_id: str, logical: datetime) -> Envelope:
    return clock.envelope(
        DagRunCreated(
            dag_id=dag_id,
            run_id=run_id,
            run_type="scheduled",
            logical_date=logical,
            data_interval_start=logical,
            data_interval_end=logical + timedelta(hours=1),
            dag_version="v1",
        )
    )


def _a_try(
    clock: Clock, dag_id: str, run_id: str, task_id: str, try_number: int, last: bool
) -> list[Envelope]:
    key: dict[str, Any] = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "try_number": try_number}
    started = clock.now
    return [
        clock.envelope(TaskInstanceScheduled(**key)),
        clock.envelope(TaskInstanceQueued(**key, max_tries=2)),
        clock.envelope(
            TaskInstanceStarted(
                **key, hostname="w1", pid=100 + try_number, executor_id="x1", start_date=started
            ),
            "service:executor",
        ),
        clock.envelope(
            TaskInstanceRendered(
                **key, rendered_fields={"bash_command": f"echo {run_id}", "env": {"K": "***"}}
            ),
            "service:executor",
        ),
        clock.envelope(
            XComPushed(**key, key="return_value", value=f'"{task_id}-{try_number}"'), "service:executor"
        ),
        clock.envelope(
            TaskInstanceFinished(
                **key, state="success" if last else "up_for_retry", start_date=started, end_date=clock.now
            ),
            "service:executor",
        ),
    ]


async def dump(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    async with engine.connect() as conn:
        return {
            t.name: [
                dict(r)
                for r in (await conn.execute(sa.select(t).order_by(*t.primary_key.columns))).mappings()
            ]
            for t in PROJECTED_TABLES
        }


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[SqliteEventLog]:
    async with SqliteEventLog(tmp_path / "events.db", sync="normal") as opened:
        yield opened


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    opened = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'readmodels.db'}")
    yield opened
    await opened.dispose()


async def append_all(log: SqliteEventLog, batches: list[list[Envelope]]) -> None:
    for batch in batches:
        await log.append(batch)


async def project_all(engine: AsyncEngine, log: SqliteEventLog, batch_size: int = 2000) -> int:
    projector = Projector(engine, log, batch_size=batch_size)
    await projector.start()
    try:
        return await projector.catch_up()
    finally:
        await projector.close()


async def test_a_realistic_history_is_what_the_api_lists(log: SqliteEventLog, engine: AsyncEngine) -> None:
    batches = realistic_history()
    await append_all(log, batches)

    applied = await project_all(engine, log)

    assert applied == sum(len(b) for b in batches)
    tables = await dump(engine)
    assert [(d["dag_id"], d["is_paused"]) for d in tables[dag.name]] == [
        ("dag_0", True),
        ("dag_1", False),
        ("dag_2", False),
        ("dag_3", False),
    ]
    assert len(tables[dag_run.name]) == 4 * 6 + 4
    assert {r["state"] for r in tables[dag_run.name] if r["run_type"] == "scheduled"} == {"success"}
    assert len(tables[task_instance.name]) == 4 * 6 * 3
    assert {t["state"] for t in tables[task_instance.name]} == {"success"}
    retried = [t for t in tables[task_instance_try.name] if t["try_number"] == 2]
    assert retried and all(t["state"] == "success" for t in retried)
    # Each task keeps only the XComs of its last try.
    assert {(x["try_number"], x["value"]) for x in tables[xcom.name] if x["task_id"] == "transform"} == {
        (1, '"transform-1"'),
        (2, '"transform-2"'),
    }
    assert len(tables[xcom.name]) == len(tables[task_instance.name])
    assert [v["key"] for v in tables[variable.name]] == ["env"]
    assert [e["event"] for e in tables[event_log.name]].count("trigger") == 4


async def test_a_crash_before_commit_applies_nothing_and_a_restart_applies_it_once(
    log: SqliteEventLog, engine: AsyncEngine, tmp_path: Path
) -> None:
    batches = realistic_history(dags=2, runs=3)
    half = len(batches) // 2
    await append_all(log, batches[:half])
    await project_all(engine, log, batch_size=50)
    await append_all(log, batches[half:])
    before_crash = await dump(engine)

    async with engine.begin() as conn:
        # The process dies after the rows are written and before the offsets commit with them.
        for change in ("INSERT", "UPDATE"):
            await conn.execute(
                sa.text(
                    f"CREATE TRIGGER crash_on_{change} BEFORE {change} ON projection_offsets "
                    "BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
                )
            )
    crashing = Projector(engine, log, batch_size=50)
    await crashing.start()
    with pytest.raises(sa.exc.DBAPIError, match="simulated crash"):
        await crashing.step()
    await crashing.close()
    assert await dump(engine) == before_crash
    async with engine.begin() as conn:
        for change in ("INSERT", "UPDATE"):
            await conn.execute(sa.text(f"DROP TRIGGER crash_on_{change}"))

    await project_all(engine, log, batch_size=50)

    reference = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}")
    await project_all(reference, log)
    assert await dump(engine) == await dump(reference)
    await reference.dispose()


async def test_rebuild_from_offset_zero_gives_identical_tables(
    log: SqliteEventLog, engine: AsyncEngine
) -> None:
    projector = Projector(engine, log, batch_size=37)
    await projector.start()
    for batch in realistic_history():
        await log.append(batch)
        if len(batch) > 2:
            await projector.catch_up()
    await projector.catch_up()
    await projector.close()
    live = await dump(engine)

    replayed = await rebuild(engine, log)

    assert replayed == sum([sum((await log.end_offsets(t)).values()) for t in ("dag", "config", "run")])
    assert await dump(engine) == live


@pytest.mark.parametrize("pipelined", [False, True])
async def test_a_rebuild_in_small_batches_gives_the_tables_of_one_batch_and_restores_durability_and_gc(
    log: SqliteEventLog, engine: AsyncEngine, pipelined: bool
) -> None:
    await append_all(log, realistic_history())
    await project_all(engine, log)
    whole = await dump(engine)
    collector = gc.get_threshold()

    # Runs straddle batches: each batch takes the previous one's rows instead of reading them.
    await rebuild(engine, log, batch_size=7, pipelined=pipelined)

    assert await dump(engine) == whole
    # The rebuild collects garbage less often, and only for its own duration.
    assert (gc.get_threshold(), gc.get_freeze_count()) == (collector, 0)
    connections = [await engine.connect() for _ in range(3)]
    try:
        # The rebuild commits without fsync; the pool's connections are back to the usual setting.
        assert [await c.scalar(sa.text("PRAGMA synchronous")) for c in connections] == [1, 1, 1]
    finally:
        for c in connections:
            await c.close()


#: Fails the first batch that would store a ``run`` offset past 100: a batch in mid-history.
_PAST_100 = "NEW.topic = 'run' AND NEW.next_offset > 100"
SQLITE_CRASH_PAST_100 = (
    "CREATE TRIGGER crash BEFORE UPDATE ON projection_offsets "
    f"WHEN {_PAST_100} BEGIN SELECT RAISE(ABORT, 'simulated crash'); END",
)
POSTGRES_CRASH_PAST_100 = (
    "CREATE FUNCTION crash_past_100() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF {_PAST_100} THEN RAISE EXCEPTION 'simulated crash'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER crash BEFORE UPDATE ON projection_offsets FOR EACH ROW EXECUTE FUNCTION crash_past_100()",
)


async def check_a_failed_commit_drops_the_batch_folded_behind_it(
    engine: AsyncEngine, log: SqliteEventLog, tmp_path: Path, crash: tuple[str, ...], uncrash: str
) -> None:
    """A pipelined replay whose batch fails at its commit leaves the tables a serial projection
    leaves at the same failure (the next batch, folded meanwhile, lands nowhere); once the fault
    is gone, the same projector converges on the tables of a one-batch projection.
    References are projected into SQLite under ``tmp_path``."""
    await append_all(log, realistic_history())
    async with engine.begin() as conn:
        for statement in crash:
            await conn.execute(sa.text(statement))
    serial_reference = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'serial.db'}")
    whole_reference = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'whole.db'}")
    try:
        async with serial_reference.begin() as conn:
            await conn.execute(sa.text(SQLITE_CRASH_PAST_100[0]))
        serial = Projector(serial_reference, log, batch_size=7)
        await serial.start()
        with pytest.raises(sa.exc.DBAPIError, match="simulated crash"):
            await serial.catch_up()
        await serial.close()
        await project_all(whole_reference, log)

        async with engine.connect() as held:
            pipelined = Projector(engine, log, batch_size=7, connection=held)
            await pipelined.start()
            try:
                # The batch after the failing one is folded while the failing one's writes run.
                with pytest.raises(sa.exc.DBAPIError, match="simulated crash"):
                    await pipelined.replay()
                async with engine.connect() as conn:
                    assert pipelined.applied == await stored_offsets(conn)
                assert pipelined.applied == serial.applied
                assert 0 < max(n for tp, n in pipelined.applied.items() if tp.topic == "run") <= 100
                assert await dump(engine) == await dump(serial_reference)

                async with engine.begin() as conn:
                    await conn.execute(sa.text(uncrash))
                await pipelined.replay()
            finally:
                await pipelined.close()
        assert await dump(engine) == await dump(whole_reference)
    finally:
        await serial_reference.dispose()
        await whole_reference.dispose()


async def test_a_failed_commit_in_a_pipelined_replay_drops_the_batch_folded_behind_it(
    log: SqliteEventLog, engine: AsyncEngine, tmp_path: Path
) -> None:
    await check_a_failed_commit_drops_the_batch_folded_behind_it(
        engine, log, tmp_path, SQLITE_CRASH_PAST_100, "DROP TRIGGER crash"
    )


async def check_a_pipelined_batch_sees_what_the_batch_before_changed_in_other_scopes(
    engine: AsyncEngine, log: SqliteEventLog, tmp_path: Path
) -> None:
    """The batch before changes dag_0's row through its file's scope; the next one reads that row
    through the DAG's own scope, from the database before the change is written, and must see it."""
    await append_all(log, realistic_history(dags=2, runs=1))
    await project_all(engine, log)
    clock, later = Clock(), T0 + timedelta(hours=5)
    clock.now = later

    # Batch 1 (of 7 run records): dag_0's file no longer defines it, and 7 records of dag_1.
    # Batch 2: a scheduled run of dag_0, which moves dag_0's next run on its row.
    await append_all(
        log,
        [
            [clock.envelope(DagFileProcessed(fileloc="/dags/dag_0.py", version="v2", dag_ids=()))],
            [
                scheduled_run(clock, "dag_1", "later", later),
                clock.envelope(DagRunStarted(dag_id="dag_1", run_id="later")),
            ],
            _a_try(clock, "dag_1", "later", "extract", 1, last=True),
            [scheduled_run(clock, "dag_0", "later", later)],
        ],
    )
    async with engine.connect() as held:
        projector = Projector(engine, log, batch_size=7, connection=held)
        await projector.start()
        try:
            await projector.replay()
        finally:
            await projector.close()

    reference = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'one-batch.db'}")
    try:
        await project_all(reference, log)
        tables = await dump(engine)
        assert tables == await dump(reference)
        dag_0 = next(d for d in tables[dag.name] if d["dag_id"] == "dag_0")
        assert (dag_0["is_active"], dag_0["last_automated_data_interval_start"]) == (False, later)
    finally:
        await reference.dispose()


async def test_a_pipelined_batch_sees_what_the_batch_before_changed_in_other_scopes(
    log: SqliteEventLog, engine: AsyncEngine, tmp_path: Path
) -> None:
    await check_a_pipelined_batch_sees_what_the_batch_before_changed_in_other_scopes(engine, log, tmp_path)


async def test_two_projectors_on_one_database_apply_each_event_once(
    log: SqliteEventLog, engine: AsyncEngine, tmp_path: Path
) -> None:
    await append_all(log, realistic_history(dags=3, runs=4))

    await asyncio.gather(project_all(engine, log, batch_size=40), project_all(engine, log, batch_size=60))

    reference = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}")
    await project_all(reference, log)
    assert await dump(engine) == await dump(reference)
    await reference.dispose()


async def test_each_of_two_projectors_announces_every_change_whichever_applied_it(
    log: SqliteEventLog, engine: AsyncEngine
) -> None:
    # Two gateways on one database: each streams live changes to its own browsers.
    batches = realistic_history(dags=3, runs=4)
    await append_all(log, batches)
    heard: list[set[Change]] = [set(), set()]
    projectors = [Projector(engine, log, batch_size=size) for size in (40, 60)]
    for projector, changes in zip(projectors, heard, strict=True):
        projector.add_listener(changes.update)
        await projector.start()
    first, second = projectors
    applied = [0, 0]
    try:
        # Each wins some batches and loses others: a projector's step after the other's commit is
        # refused (it follows the winner), its next one applies.
        for turn in [0, 1, 1, 0, 0] * 4:
            applied[turn] += await projectors[turn].step()
        applied[0] += await first.catch_up()
        applied[1] += await second.catch_up()
    finally:
        for projector in projectors:
            await projector.close()

    expected = {change for batch in batches for env in batch for change in changes_of(env.payload)}
    assert sum(applied) == sum(len(b) for b in batches)
    # Both applied some batches and lost others, or the test shows nothing.
    assert all(applied), applied
    assert heard == [expected, expected]


async def test_a_pipelined_replay_beside_another_projector_applies_and_announces_each_event_once(
    log: SqliteEventLog, engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    batches = realistic_history(dags=3, runs=4)
    await append_all(log, batches)
    heard: set[Change] = set()
    async with engine.connect() as held:
        pipelined = Projector(engine, log, batch_size=40, connection=held)
        pipelined.add_listener(heard.update)
        await pipelined.start()
        try:
            await asyncio.gather(pipelined.replay(), project_all(engine, log, batch_size=60))
        finally:
            await pipelined.close()

    # The batches either lost, and the one folded behind it, are announced as the winner's.
    assert "another projector applied these events first" in caplog.text
    assert heard == {change for batch in batches for env in batch for change in changes_of(env.payload)}
    reference = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}")
    await project_all(reference, log)
    assert await dump(engine) == await dump(reference)
    await reference.dispose()


async def test_a_caller_waits_until_its_own_write_is_visible(
    log: SqliteEventLog, engine: AsyncEngine
) -> None:
    projector = Projector(engine, log)
    await projector.start()
    running = asyncio.create_task(projector.run())
    try:
        records = await log.append(
            [Clock().envelope(VariableSet(key="fresh", value="gAAAA-t"), "user:alice")]
        )

        await projector.wait_for(position_after(records), timeout=10)

        async with engine.connect() as conn:
            assert await conn.scalar(sa.select(variable.c.key)) == "fresh"
        # Topics the read models do not project cannot hold a caller up.
        await projector.wait_for({TopicPartition("task-queue", 0): 10**9}, timeout=1)
        with pytest.raises(TimeoutError):
            await projector.wait_for({TopicPartition("config", 0): 99}, timeout=0.2)
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        await projector.close()


async def test_a_projector_rides_out_a_passing_database_error(
    log: SqliteEventLog, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with engine.begin() as conn:
        # Every offset write fails (no such table) until the trigger is dropped.
        await conn.execute(
            sa.text(
                "CREATE TRIGGER broken BEFORE INSERT ON projection_offsets "
                "BEGIN INSERT INTO no_such_table VALUES (1); END"
            )
        )
    projector = Projector(engine, log)
    await projector.start()
    running = asyncio.create_task(projector.run(retry_delay=0.05))
    try:
        records = await log.append([Clock().envelope(VariableSet(key="k", value="gAAAA-t"), "user:alice")])
        with pytest.raises(TimeoutError):
            await projector.wait_for(position_after(records), timeout=0.3)
        async with engine.begin() as conn:
            await conn.execute(sa.text("DROP TRIGGER broken"))

        await projector.wait_for(position_after(records), timeout=10)

        assert not running.done()
        assert "projecting failed, retrying" in caplog.text
        assert "gAAAA-t" not in caplog.text
        async with engine.connect() as conn:
            assert await conn.scalar(sa.select(sa.func.count()).select_from(variable)) == 1
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        await projector.close()
