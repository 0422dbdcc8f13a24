"""The faust stream processors (``couture streams``) against the real broker.

Events are appended through ``KafkaEventLog``; the worker runs in this process on its own
namespace and is stopped and started again to show what survives a restart. Needs
``COUTURE_KAFKA_BOOTSTRAP`` (``deploy/local/services up``); fails in CI without it, skips elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient

from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.events import AuditRecorded, Envelope, TaskInstanceFinished, TaskInstanceStarted, envelope
from couture_common.settings import Settings
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.projector import Projector
from couture_gateway.readmodels.security_tables import audit_log
from couture_streams.worker import StreamsConfigError, run_streams
from tests.integration import test_readmodels_postgres
from tests.integration.test_readmodels_postgres import NewDatabase

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

#: Empty PostgreSQL databases, each dropped after the test.
new_database = test_readmodels_postgres.new_database


@pytest.fixture
async def namespace(kafka_bootstrap: str) -> AsyncIterator[str]:
    """A namespace of this test's own on the shared broker; its topics are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}."
    yield prefix
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        ours = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


class Worker:
    """``couture streams`` in this process: started by ``start``, stopped by ``stop``."""

    def __init__(self, bootstrap: str, namespace: str, home: Path, database_url: str | None = None) -> None:
        self.settings = Settings(
            home=home, database_url=database_url or f"sqlite+aiosqlite:///{home / 'readmodels.db'}"
        )
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stop = asyncio.Event()
        log = KafkaEventLog(self.bootstrap, namespace=self.namespace, client_id="couture-streams")
        self._task = asyncio.create_task(
            run_streams(self.settings, log, web_host="127.0.0.1", web_port=self.port, stop=self._stop)
        )

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, timeout=30)

    async def durations(self, dag_id: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=5) as client:
            return await client.get(f"{self.url}/couture/task-durations/{dag_id}/")


@pytest.fixture
async def worker(kafka_bootstrap: str, namespace: str, tmp_path: Path) -> AsyncIterator[Worker]:
    running = Worker(kafka_bootstrap, namespace, tmp_path)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def log(kafka_bootstrap: str, namespace: str) -> AsyncIterator[KafkaEventLog]:
    async with KafkaEventLog(kafka_bootstrap, namespace=namespace) as opened:
        yield opened


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 30) -> Any:
    """The first result of ``check`` that is neither None nor False, polled for ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        with contextlib.suppress(httpx.TransportError):
            result = await check()
            if result is not None and result is not False:
                return result
        if loop.time() > deadline:
            raise AssertionError(f"not reached within {timeout} s; last: {result!r}")
        await asyncio.sleep(0.2)


def login(index: int, outcome: str = "success") -> Envelope:
    return envelope(
        AuditRecorded(
            username=f"user{index}",
            action="login",
            method="POST",
            path="/auth/token",
            source_ip="10.0.0.7",
            outcome=outcome,  # type: ignore[arg-type]
            status_code=200 if outcome == "success" else 401,
            request_id=f"req-{index}",
        ),
        actor=f"user{index}",
        time=T0 + timedelta(seconds=index),
    )


def try_of(
    dag_id: str, task_id: str, run_id: str, *, start: float, end: float, state: str = "success"
) -> list[Envelope]:
    return [
        envelope(
            TaskInstanceStarted(
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                try_number=1,
                hostname="worker-1",
                pid=4242,
                executor_id="executor-1",
                start_date=T0 + timedelta(seconds=start),
            ),
            actor="executor",
        ),
        envelope(
            TaskInstanceFinished(
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                try_number=1,
                state=state,  # type: ignore[arg-type]
                end_date=T0 + timedelta(seconds=end),
            ),
            actor="executor",
        ),
    ]


async def audit_rows(url: str) -> list[dict[str, Any]]:
    """The ``audit_log`` rows at ``url``; the worker migrates its database, so this reader does not."""
    engine = await open_readmodels(url, migrate_schema=False)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(sa.select(audit_log).order_by(audit_log.c.audit_log_id))
            return [dict(row) for row in result.mappings()]
    finally:
        await engine.dispose()


async def test_audit_entries_reach_the_read_model_as_the_projector_writes_them(
    worker: Worker, log: KafkaEventLog, tmp_path: Path
) -> None:
    await log.append([login(i, "success" if i % 3 else "failed") for i in range(30)])

    rows = await eventually(lambda: _all_rows(worker.settings.database, 30))

    assert sorted(row["username"] for row in rows) == sorted(f"user{i}" for i in range(30))
    assert sum(row["outcome"] == "failed" for row in rows) == 10
    rebuilt = tmp_path / "rebuilt.db"
    engine = await open_readmodels(f"sqlite+aiosqlite:///{rebuilt}")
    projector = Projector(engine, log)
    try:
        await projector.start()
        await projector.catch_up()
    finally:
        await projector.close()
        await engine.dispose()
    assert rows == await audit_rows(f"sqlite+aiosqlite:///{rebuilt}")


async def test_audit_entries_are_written_once_across_a_restart(worker: Worker, log: KafkaEventLog) -> None:
    await log.append([login(i) for i in range(5)])
    await eventually(lambda: _all_rows(worker.settings.database, 5))

    await worker.stop()
    await log.append([login(i) for i in range(5, 8)])
    await worker.start()

    rows = await eventually(lambda: _all_rows(worker.settings.database, 8))
    await asyncio.sleep(1)
    assert len(await audit_rows(worker.settings.database)) == len(rows) == 8
    assert len({row["request_id"] for row in rows}) == 8


async def test_audit_entries_reach_postgresql(
    kafka_bootstrap: str, namespace: str, log: KafkaEventLog, new_database: NewDatabase, tmp_path: Path
) -> None:
    worker = Worker(kafka_bootstrap, namespace, tmp_path, database_url=await new_database())
    await log.append([login(i) for i in range(12)])
    await worker.start()
    try:
        rows = await eventually(lambda: _all_rows(worker.settings.database, 12))
    finally:
        await worker.stop()

    assert sorted(row["request_id"] for row in rows) == sorted(f"req-{i}" for i in range(12))
    assert {row["when"] for row in rows} == {T0 + timedelta(seconds=i) for i in range(12)}


async def test_task_durations_are_served_per_dag_and_survive_a_restart(
    worker: Worker, log: KafkaEventLog
) -> None:
    await log.append(
        try_of("etl", "extract", "r1", start=0, end=2)
        + try_of("etl", "extract", "r2", start=60, end=64)
        + try_of("etl", "load", "r1", start=2, end=3, state="failed")
        + try_of("billing", "invoice", "r1", start=0, end=10)
    )

    etl = await eventually(lambda: _durations(worker, "etl", tasks=2, count=2))

    assert etl["tasks"]["extract"] == {
        "count": 2,
        "mean_seconds": 3.0,
        "min_seconds": 2.0,
        "max_seconds": 4.0,
        "last_seconds": 4.0,
        "total_seconds": 6.0,
        "outcomes": {"success": 2},
        "running": 0,
    }
    assert etl["tasks"]["load"]["outcomes"] == {"failed": 1}
    billing = await eventually(lambda: _durations(worker, "billing", tasks=1, count=1))
    assert billing["tasks"]["invoice"]["mean_seconds"] == 10.0
    unknown = await worker.durations("nothing-here")
    assert unknown.status_code == 404
    assert "nothing-here" in unknown.json()["detail"]

    await worker.stop()
    await log.append(try_of("etl", "extract", "r3", start=120, end=126))
    await worker.start()

    after = await eventually(lambda: _durations(worker, "etl", tasks=2, count=3))
    assert after["tasks"]["extract"]["total_seconds"] == 12.0
    assert after["tasks"]["load"] == etl["tasks"]["load"]


async def test_the_worker_refuses_an_event_log_that_is_not_kafka(tmp_path: Path) -> None:
    from couture_common.eventlog.factory import open_event_log

    settings = Settings(home=tmp_path)
    with pytest.raises(StreamsConfigError, match="COUTURE_EVENT_LOG=kafka://"):
        await run_streams(
            settings, open_event_log(f"sqlite:///{tmp_path / 'events.db'}"), web_host="127.0.0.1", web_port=1
        )


async def _all_rows(url: str, expected: int) -> list[dict[str, Any]] | None:
    try:
        rows = await audit_rows(url)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return None  # the worker has not created the tables yet
    return rows if len(rows) >= expected else None


async def _durations(worker: Worker, dag_id: str, *, tasks: int, count: int) -> dict[str, Any] | None:
    response = await worker.durations(dag_id)
    if response.status_code != 200:
        return None
    body: dict[str, Any] = response.json()
    if len(body["tasks"]) < tasks or max(t["count"] for t in body["tasks"].values()) < count:
        return None
    return body


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_two_workers_share_the_dags_and_one_takes_over_when_the_other_stops(
    kafka_bootstrap: str, namespace: str, log: KafkaEventLog, tmp_path: Path
) -> None:
    dags = [f"dag{i}" for i in range(8)]
    await log.append(
        [e for i, dag_id in enumerate(dags) for e in try_of(dag_id, "t", "r1", start=0, end=i + 1)]
    )
    first = Worker(kafka_bootstrap, namespace, tmp_path / "first")
    second = Worker(kafka_bootstrap, namespace, tmp_path / "second")
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    await first.start()
    await second.start()
    try:
        redirected = await eventually(lambda: _served_through(first, dags), timeout=60)
        assert 0 < redirected < len(dags), "each worker holds some of the DAGs"

        await second.stop()

        assert await eventually(lambda: _served_through(first, dags, redirected=0), timeout=60) == 0
    finally:
        await first.stop()
        await second.stop()


async def test_couture_streams_runs_until_sigterm(
    kafka_bootstrap: str, namespace: str, tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "COUTURE_HOME": str(tmp_path),
        "COUTURE_EVENT_LOG": f"kafka://{kafka_bootstrap}?namespace={namespace}",
        "COUTURE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'readmodels.db'}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "couture_cli.main", "streams", "--port", str(port), env=env
    )
    try:

        async def answers() -> bool:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(f"http://127.0.0.1:{port}/couture/task-durations/none/")
            return response.status_code == 404

        await eventually(answers)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _served_through(worker: Worker, dags: list[str], *, redirected: int | None = None) -> int | None:
    """How many of ``dags`` ``worker`` redirected to another worker, once every one was served."""
    count = 0
    async with httpx.AsyncClient(timeout=5, follow_redirects=True) as client:
        for i, dag_id in enumerate(dags):
            response = await client.get(f"{worker.url}/couture/task-durations/{dag_id}/")
            if response.status_code != 200 or response.json()["tasks"]["t"]["last_seconds"] != i + 1:
                return None
            count += bool(response.history)
    if redirected is not None and count != redirected:
        return None
    return count
