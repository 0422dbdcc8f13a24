"""The read models on the real PostgreSQL of ``deploy/local/services``: the same projector code as
SQLite, giving the same tables; crashes, rebuilds, concurrent projectors and migrations there too.

Each test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from couture_common.eventlog import partition_for
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import VariableSet
from couture_common.topics import RUN, TOPICS
from couture_gateway.readmodels import store
from couture_gateway.readmodels.migrations import SCHEMA_VERSION, open_readmodels
from couture_gateway.readmodels.projector import Projector, log_ends, position_after, stored_offsets
from couture_gateway.readmodels.rebuild import RebuildError, rebuild
from couture_gateway.readmodels.rowset import RowSet, Scope
from couture_gateway.readmodels.tables import PROJECTED_TABLES, dag_run, schema_version, variable
from tests.integration.test_cli import COUTURE
from tests.integration.test_readmodels_migrations import NEW_IN_2
from tests.integration.test_readmodels_projector import (
    POSTGRES_CRASH_PAST_100,
    Clock,
    append_all,
    check_a_failed_commit_drops_the_batch_folded_behind_it,
    check_a_pipelined_batch_sees_what_the_batch_before_changed_in_other_scopes,
    dump,
    project_all,
    realistic_history,
)
from tests.unit.readmodels.test_store import check_round_trip

NewDatabase = Callable[[], Awaitable[str]]


def _asyncpg_dsn(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def new_database(postgres_url: str) -> AsyncIterator[NewDatabase]:
    """Creates empty databases on the server, each dropped after the test."""
    server = sa.make_url(postgres_url)
    created: list[str] = []

    async def create() -> str:
        name = f"couture_test_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(_asyncpg_dsn(server))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        created.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    yield create
    admin = await asyncpg.connect(_asyncpg_dsn(server))
    try:
        for name in created:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[SqliteEventLog]:
    async with SqliteEventLog(tmp_path / "events.db", sync="normal") as opened:
        yield opened


@pytest.fixture
async def engine(new_database: NewDatabase) -> AsyncIterator[AsyncEngine]:
    opened = await open_readmodels(await new_database())
    yield opened
    await opened.dispose()


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    opened = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'readmodels.db'}")
    yield opened
    await opened.dispose()


async def test_postgres_and_sqlite_project_a_history_into_equal_tables(
    log: SqliteEventLog, engine: AsyncEngine, sqlite_engine: AsyncEngine
) -> None:
    batches = realistic_history()
    await append_all(log, batches)

    applied = await project_all(engine, log)

    assert engine.dialect.name == "postgresql"
    assert applied == sum(len(b) for b in batches)
    await project_all(sqlite_engine, log)
    assert await dump(engine) == await dump(sqlite_engine)


_CRASH = """
CREATE FUNCTION simulated_crash() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'simulated crash'; END $$;
CREATE TRIGGER crash BEFORE INSERT OR UPDATE ON projection_offsets
FOR EACH ROW EXECUTE FUNCTION simulated_crash();
"""


async def test_a_crash_before_commit_applies_nothing_and_a_restart_applies_it_once(
    log: SqliteEventLog, engine: AsyncEngine, sqlite_engine: AsyncEngine
) -> None:
    batches = realistic_history(dags=2, runs=3)
    half = len(batches) // 2
    await append_all(log, batches[:half])
    await project_all(engine, log, batch_size=50)
    await append_all(log, batches[half:])
    before_crash = await dump(engine)
    async with engine.begin() as conn:
        # The process dies after the rows are written and before the offsets commit with them.
        for statement in _CRASH.split(";\n"):
            await conn.execute(sa.text(statement))

    crashing = Projector(engine, log, batch_size=50)
    await crashing.start()
    with pytest.raises(sa.exc.DBAPIError, match="simulated crash"):
        await crashing.step()
    await crashing.close()
    assert await dump(engine) == before_crash
    async with engine.begin() as conn:
        await conn.execute(sa.text("DROP TRIGGER crash ON projection_offsets"))

    await project_all(engine, log, batch_size=50)

    await project_all(sqlite_engine, log)
    assert await dump(engine) == await dump(sqlite_engine)


async def test_rebuild_from_offset_zero_gives_identical_tables(
    log: SqliteEventLog, engine: AsyncEngine
) -> None:
    projector = Projector(engine, log, batch_size=37)
    await projector.start()
    for batch in realistic_history(dags=3, runs=4):
        await log.append(batch)
        if len(batch) > 2:
            await projector.catch_up()
    await projector.catch_up()
    await projector.close()
    live = await dump(engine)

    replayed = await rebuild(engine, log)

    assert replayed == sum([sum((await log.end_offsets(t)).values()) for t in ("dag", "config", "run")])
    assert await dump(engine) == live


async def test_a_failed_commit_in_a_pipelined_replay_drops_the_batch_folded_behind_it(
    log: SqliteEventLog, engine: AsyncEngine, tmp_path: Path
) -> None:
    await check_a_failed_commit_drops_the_batch_folded_behind_it(
        engine, log, tmp_path, POSTGRES_CRASH_PAST_100, "DROP TRIGGER crash ON projection_offsets"
    )


async def test_a_pipelined_batch_sees_what_the_batch_before_changed_in_other_scopes(
    log: SqliteEventLog, engine: AsyncEngine, tmp_path: Path
) -> None:
    await check_a_pipelined_batch_sees_what_the_batch_before_changed_in_other_scopes(engine, log, tmp_path)


async def test_a_rebuild_in_small_batches_gives_the_tables_of_one_batch(
    log: SqliteEventLog, engine: AsyncEngine, sqlite_engine: AsyncEngine
) -> None:
    await append_all(log, realistic_history())
    await project_all(sqlite_engine, log)

    # Pipelined on PostgreSQL by default: each batch is folded while the one before is written.
    await rebuild(engine, log, batch_size=7)

    assert await dump(engine) == await dump(sqlite_engine)


async def test_a_rebuild_in_parallel_shares_gives_the_tables_of_a_serial_projection(
    log: SqliteEventLog, engine: AsyncEngine, sqlite_engine: AsyncEngine
) -> None:
    await append_all(log, realistic_history(dags=8, runs=5))
    total = sum((await log_ends(log)).values())
    await project_all(sqlite_engine, log)

    # This process and two workers, each its share of the run partitions, in batches of 7.
    replayed = await rebuild(engine, log, batch_size=7, workers=3)

    assert replayed == total
    assert await dump(engine) == await dump(sqlite_engine)
    async with engine.connect() as conn:
        assert await stored_offsets(conn) == {tp: end for tp, end in (await log_ends(log)).items() if end > 0}


async def test_a_failed_partition_stops_the_rebuild_naming_it_and_loses_nothing(
    log: SqliteEventLog, engine: AsyncEngine, sqlite_engine: AsyncEngine
) -> None:
    await append_all(log, realistic_history(dags=8, runs=5))
    await project_all(sqlite_engine, log)
    broken = partition_for("dag_5", TOPICS[RUN].partitions)
    # A record of dag_5's late in its partition cannot be decoded: that share fails part-way.
    with sqlite3.connect(log.path) as db:
        offset, payload = db.execute(
            'SELECT "offset", payload FROM events WHERE topic = \'run\' AND "partition" = ? '
            "AND type = 'xcom.pushed' AND key = 'dag_5' ORDER BY \"offset\" DESC LIMIT 1",
            (broken,),
        ).fetchone()
    _set_payload(log, broken, offset, b"{")

    failing = rf"rebuilding run\[{broken}\] failed: .*run\[{broken}\] offset {offset}: .* is corrupt"
    with pytest.raises(RebuildError, match=failing):
        await rebuild(engine, log, batch_size=7, workers=3)

    # What the shares committed stands with its offsets: a projector applies the rest, once.
    _set_payload(log, broken, offset, payload)
    await project_all(engine, log, batch_size=50)
    assert await dump(engine) == await dump(sqlite_engine)


def _set_payload(log: SqliteEventLog, partition: int, offset: int, payload: bytes) -> None:
    """Overwrite a ``run`` record's payload in the log's file, as a damaged disk would."""
    with sqlite3.connect(log.path) as db:
        db.execute(
            'UPDATE events SET payload = ? WHERE topic = \'run\' AND "partition" = ? AND "offset" = ?',
            (payload, partition, offset),
        )


async def test_a_worker_killed_mid_rebuild_fails_it_and_loses_nothing(
    log: SqliteEventLog, engine: AsyncEngine, sqlite_engine: AsyncEngine
) -> None:
    await append_all(log, realistic_history(dags=8, runs=30))
    await project_all(sqlite_engine, log)

    # Batches of 3 keep the worker busy for seconds; it is killed once it applied some.
    rebuilding = asyncio.ensure_future(rebuild(engine, log, batch_size=3, workers=2))
    victim = await _worker_once_it_applied_some(engine)
    os.kill(victim, signal.SIGKILL)

    with pytest.raises(RebuildError, match=r"the rebuild worker folding run\[\d\] exited with code -9"):
        async with asyncio.timeout(30):
            await rebuilding
    await project_all(engine, log, batch_size=50)
    assert await dump(engine) == await dump(sqlite_engine)


async def _worker_once_it_applied_some(engine: AsyncEngine) -> int:
    async with asyncio.timeout(30):
        while True:
            workers = [p for p in multiprocessing.active_children() if p.name == "couture-rebuild"]
            async with engine.connect() as conn:
                applied = await conn.scalar(
                    sa.text("SELECT count(*) FROM projection_offsets WHERE topic = 'run'")
                )
            if workers and workers[0].pid is not None and (applied or 0) >= 2:
                return workers[0].pid
            await asyncio.sleep(0.05)


async def test_a_rebuild_refuses_a_bad_number_of_workers(
    engine: AsyncEngine, sqlite_engine: AsyncEngine, log: SqliteEventLog
) -> None:
    with pytest.raises(ValueError, match="workers must be an integer of at least 1, not 0"):
        await rebuild(engine, log, workers=0)
    with pytest.raises(ValueError, match="workers: SQLite read models are rebuilt by one process"):
        await rebuild(sqlite_engine, log, workers=2)


async def test_the_cli_rebuilds_in_parallel_and_names_a_bad_workers_option(
    log: SqliteEventLog, new_database: NewDatabase, sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    await append_all(log, realistic_history(dags=8, runs=3))
    await project_all(sqlite_engine, log)
    url = await new_database()
    env = {
        **os.environ,
        "COUTURE_HOME": str(tmp_path / "home"),
        "COUTURE_EVENT_LOG": log.url,
        "COUTURE_DATABASE_URL": url,
    }

    def couture(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(COUTURE), "projections", "rebuild", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = await asyncio.to_thread(couture, "--workers", "0")
    assert refused.returncode == 2 and "--workers must be at least 1, not 0" in refused.stderr
    rebuilt = await asyncio.to_thread(couture, "--workers", "3")
    assert rebuilt.returncode == 0, rebuilt.stderr
    total = sum((await log_ends(log)).values())
    assert f"Rebuilt read models from {total} events" in rebuilt.stdout
    engine = await open_readmodels(url)
    try:
        assert await dump(engine) == await dump(sqlite_engine)
    finally:
        await engine.dispose()


async def test_rows_sent_as_json_are_stored_as_sqlalchemy_stores_them(engine: AsyncEngine) -> None:
    """The store sends PostgreSQL its rows as one JSON document: edge values arrive as SQLAlchemy's
    own insert stores them, and a value too long for its column is refused, never cut."""
    odd = {
        "dag_id": 'dag "quoted" \\ back\nslash \u00e9\U0001f600',
        "run_id": "r",
        "state": "success",
        "run_type": "manual",
        "triggered_by": "rest_api",
        "run_after": datetime(2024, 6, 30, tzinfo=UTC),
        "logical_date": datetime(2024, 6, 30, 14, 30, tzinfo=timezone(timedelta(hours=2, minutes=30))),
        "start_date": datetime(2024, 1, 1, 0, 0, 0, 1),  # naive: taken as UTC
        "conf": {"nested": {"none": None, "list": [1, 2.5, "x"]}, "big": 2**62},
        "note": "",
    }
    template = {c.name: None for c in dag_run.c} | {"clear_number": 0, "external_trigger": False}
    ours = template | odd
    theirs = ours | {"run_id": "r2"}
    async with engine.begin() as conn:
        rows = RowSet()
        rows.add_loaded(Scope(dag_run.name, ("dag_id", "run_id"), (ours["dag_id"], "r")), [])
        rows.put(dag_run, {c.name: ours.get(c.name) for c in dag_run.c})
        await store.write(conn, rows.changes())
        await conn.execute(sa.insert(dag_run), [{c.name: theirs.get(c.name) for c in dag_run.c}])
        stored = {
            r["run_id"]: {k: v for k, v in r.items() if k != "run_id"}
            for r in (await conn.execute(sa.select(dag_run))).mappings()
        }
    assert stored["r"] == stored["r2"]
    assert stored["r"]["start_date"] == datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert stored["r"]["conf"] == odd["conf"]

    too_long = RowSet()
    too_long.add_loaded(Scope(dag_run.name, ("dag_id", "run_id"), ("d", "x" * 300)), [])
    too_long.put(
        dag_run, {c.name: (ours | {"dag_id": "d", "run_id": "x" * 300}).get(c.name) for c in dag_run.c}
    )
    with pytest.raises(sa.exc.DBAPIError, match="value too long"):
        async with engine.begin() as conn:
            await store.write(conn, too_long.changes())


async def test_two_projectors_on_one_database_apply_each_event_once(
    log: SqliteEventLog, engine: AsyncEngine, sqlite_engine: AsyncEngine
) -> None:
    await append_all(log, realistic_history(dags=3, runs=4))

    await asyncio.gather(project_all(engine, log, batch_size=40), project_all(engine, log, batch_size=60))

    await project_all(sqlite_engine, log)
    assert await dump(engine) == await dump(sqlite_engine)


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
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        await projector.close()


async def test_every_column_type_round_trips_through_the_store(engine: AsyncEngine) -> None:
    for table in PROJECTED_TABLES:
        await check_round_trip(engine, table)


async def test_a_new_database_is_created_at_the_latest_version_once(new_database: NewDatabase) -> None:
    url = await new_database()
    for _ in range(2):
        engine = await open_readmodels(url)
        await engine.dispose()

    engine = await open_readmodels(url)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(sa.select(schema_version.c.version))).scalars().all()
        assert versions == [SCHEMA_VERSION]
    finally:
        await engine.dispose()


async def test_a_version_1_database_gains_the_next_dagrun_columns(new_database: NewDatabase) -> None:
    url = await new_database()
    engine = await open_readmodels(url)
    async with engine.begin() as conn:
        # Back to the shape version 1 had.
        for column in NEW_IN_2:
            await conn.execute(sa.text(f"ALTER TABLE dag DROP COLUMN {column}"))
        await conn.execute(sa.delete(schema_version))
        await conn.execute(sa.insert(schema_version).values(version=1, applied_at=sa.func.now()))
    await engine.dispose()

    engine = await open_readmodels(url)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(sa.select(schema_version.c.version))).scalars().all()
            columns = await conn.run_sync(lambda sync: sa.inspect(sync).get_columns("dag"))
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        assert set(NEW_IN_2) <= {c["name"] for c in columns}
    finally:
        await engine.dispose()
