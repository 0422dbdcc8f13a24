"""Airflow's official Python client (apache-airflow-client 3.x) against the gateway over HTTP.

The gateway runs in-process under uvicorn on a loopback port, on its own thread and event loop,
with a real SQLite event log, read models and projector. Every call must deserialize in the
client, whose models validate answers strictly.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import airflow_client.client as af
import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet

from couture_common.dagspec import DagSpec, ScheduleSpec, TaskSpec
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import (
    DagFileProcessed,
    DagImportFailed,
    DagParsed,
    DagRunCreated,
    Event,
    TaskInstanceFinished,
    TaskInstanceQueued,
    TaskInstanceScheduled,
    TaskInstanceStarted,
    XComPushed,
    envelope,
)
from couture_common.settings import Settings
from couture_gateway.app import create_app
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.projector import Projector, position_after

T = TypeVar("T")


@dataclass
class Gateway:
    url: str
    loop: asyncio.AbstractEventLoop
    log: SqliteEventLog
    projector: Projector
    settings: Settings

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the gateway's own event loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def append(self, *events: Event) -> None:
        async def go() -> None:
            records = await self.log.append([envelope(e, actor="service:test") for e in events])
            await self.projector.wait_for(position_after(records), timeout=10)

        self.run(go())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    # An operator-set admin password needs no change at first login (the manual's default does).
    settings = Settings(
        home=tmp_path, fernet_key=Fernet.generate_key().decode(), admin_password="couture@123"
    )
    port = _free_port()
    ready: list[Gateway] = []
    loop = asyncio.new_event_loop()
    servers: list[uvicorn.Server] = []

    async def serve() -> None:
        (tmp_path / "data").mkdir()
        log = SqliteEventLog(tmp_path / "data" / "events.db", sync="normal")
        await log.start()
        engine = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'readmodels.db'}")
        projector = Projector(engine, log)
        await projector.start()
        projecting = asyncio.create_task(projector.run())
        app = create_app(log=log, engine=engine, settings=settings, projector=projector)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        servers.append(server)
        ready.append(Gateway(f"http://127.0.0.1:{port}", loop, log, projector, settings))
        try:
            await server.serve()
        finally:
            projecting.cancel()
            await asyncio.gather(projecting, return_exceptions=True)
            await projector.close()
            await engine.dispose()
            await log.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (servers and servers[0].started):
        assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.01)
    try:
        yield ready[0]
    finally:
        servers[0].should_exit = True
        thread.join(30)
        loop.close()


@pytest.fixture
def client(gateway: Gateway) -> Iterator[af.ApiClient]:
    answer = httpx.post(
        f"{gateway.url}/auth/token", json={"username": "superadmin", "password": "couture@123"}
    )
    assert answer.status_code == 201
    configuration = af.Configuration(host=gateway.url, access_token=answer.json()["access_token"])
    with af.ApiClient(configuration) as api_client:
        yield api_client


def _seed_dag(gateway: Gateway, dag_id: str) -> None:
    spec = DagSpec(
        dag_id=dag_id,
        fileloc=f"/dags/{dag_id}.py",
        schedule=ScheduleSpec(kind="cron", cron="0 0 * * *", display="@daily"),
        start_date=datetime(2024, 1, 1, tzinfo=UTC),
        tags=("sales",),
        tasks=(
            TaskSpec(task_id="extract", operator="BashOperator", execution_timeout=90.5),
            TaskSpec(task_id="load", operator="PythonOperator", upstream=("extract",)),
        ),
    )
    version = hashlib.sha256(dag_id.encode()).hexdigest()
    gateway.append(
        DagParsed(dag_id=dag_id, version=version, spec=spec),
        DagFileProcessed(fileloc=spec.fileloc, version=version, dag_ids=(dag_id,)),
        DagImportFailed(
            fileloc="/dags/broken.py", version="b" * 64, stacktrace="SyntaxError: invalid syntax"
        ),
    )
    blob = gateway.settings.blobs_path / "dags" / f"{version}.py"
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_text("from airflow import DAG\n")


def test_dags_runs_and_tasks_through_the_official_client(gateway: Gateway, client: af.ApiClient) -> None:
    _seed_dag(gateway, "etl")
    dags = af.DAGApi(client)
    listed = dags.get_dags(limit=10, order_by=["dag_id"])
    assert [d.dag_id for d in listed.dags] == ["etl"]
    assert listed.total_entries == 1
    dag = dags.get_dag("etl")
    assert dag.is_paused is True
    assert [t.name for t in dag.tags] == ["sales"]
    assert dags.patch_dag("etl", af.DAGPatchBody(is_paused=False)).is_paused is False
    assert dags.get_dag("etl").is_paused is False
    assert dags.get_dag_details("etl").catchup is True
    assert dags.get_dag_tags().tags == ["sales"]

    tasks = af.TaskApi(client).get_tasks("etl")
    assert [t.task_id for t in tasks.tasks] == ["extract", "load"]
    timeout = tasks.tasks[0].execution_timeout
    assert timeout is not None
    assert (timeout.seconds, timeout.microseconds) == (90, 500000)

    runs = af.DagRunApi(client)
    run = runs.trigger_dag_run(
        "etl",
        af.TriggerDAGRunPostBody(
            dag_run_id="from_client", logical_date=datetime(2024, 2, 1, tzinfo=UTC), conf={"rows": 10}
        ),
    )
    assert (run.dag_run_id, run.state.value, run.conf) == ("from_client", "queued", {"rows": 10})
    listed_runs = runs.get_dag_runs("etl")
    assert [r.dag_run_id for r in listed_runs.dag_runs] == ["from_client"]
    assert runs.get_dag_run("etl", "from_client").run_type.value == "manual"
    batch = runs.get_list_dag_runs_batch("~", af.DAGRunsBatchBody(dag_ids=["etl"]))
    assert batch.total_entries == 1
    with pytest.raises(af.ApiException) as conflict:
        runs.trigger_dag_run("etl", af.TriggerDAGRunPostBody(dag_run_id="from_client"))
    assert conflict.value.status == 409

    stats = af.DagStatsApi(client).get_dag_stats(dag_ids=["etl"])
    assert stats.dags[0].dag_id == "etl"
    assert af.DagSourceApi(client).get_dag_source("etl").content == "from airflow import DAG\n"
    assert af.TaskInstanceApi(client).get_task_instances("~", "~").task_instances == []
    assert af.EventLogApi(client).get_event_logs(dag_id="etl").total_entries >= 1


def test_config_monitoring_and_errors_through_the_official_client(
    gateway: Gateway, client: af.ApiClient
) -> None:
    _seed_dag(gateway, "etl")
    variables = af.VariableApi(client)
    created = variables.post_variable(af.VariableBody(key="db_password", value="hunter2"))
    assert created.value == "***"
    variables.post_variable(af.VariableBody(key="region", value="eu"))
    assert [v.key for v in variables.get_variables().variables] == ["db_password", "region"]
    assert variables.get_variable("region").value == "eu"
    bulk = variables.bulk_variables(
        af.BulkBodyVariableBody(
            actions=[
                af.ActionsInner4(
                    af.BulkCreateActionVariableBody(
                        action="create", entities=[af.VariableBody(key="zone", value="a")]
                    )
                )
            ]
        )
    )
    assert bulk.create is not None
    assert bulk.create.success == ["zone"]

    pools = af.PoolApi(client)
    pools.post_pool(af.PoolBody(name="spark", slots=4))
    assert [p.name for p in pools.get_pools().pools] == ["default_pool", "spark"]
    assert pools.get_pool("spark").open_slots == 4

    connections = af.ConnectionApi(client)
    connections.post_connection(
        af.ConnectionBody(connection_id="warehouse", conn_type="postgres", host="db", password="s3cr3t")
    )
    fetched = connections.get_connection("warehouse")
    assert (fetched.host, fetched.password) == ("db", None)

    errors = af.ImportErrorApi(client).get_import_errors()
    assert [e.filename for e in errors.import_errors] == ["/dags/broken.py"]
    assert af.VersionApi(client).get_version().version
    assert af.MonitorApi(client).get_health().metadatabase.status == "healthy"

    with pytest.raises(af.ApiException) as missing:
        af.DAGApi(client).get_dag("nope")
    assert missing.value.status == 404


def test_the_client_without_a_token_is_refused(gateway: Gateway) -> None:
    with af.ApiClient(af.Configuration(host=gateway.url)) as anonymous:
        with pytest.raises(af.ApiException) as refused:
            af.DAGApi(anonymous).get_dags()
        assert refused.value.status == 401
        assert af.VersionApi(anonymous).get_version().version


def test_task_instances_logs_xcoms_and_clears_through_the_official_client(
    gateway: Gateway, client: af.ApiClient
) -> None:
    _seed_dag(gateway, "etl")
    start = datetime(2024, 2, 1, tzinfo=UTC)
    af.DagRunApi(client).trigger_dag_run("etl", af.TriggerDAGRunPostBody(dag_run_id="r1", logical_date=start))
    version = hashlib.sha256(b"etl").hexdigest()
    gateway.append(
        DagRunCreated(
            dag_id="etl",
            run_id="r1",
            run_type="manual",
            logical_date=start,
            data_interval_start=start,
            data_interval_end=start,
            dag_version=version,
        ),
        TaskInstanceScheduled(dag_id="etl", run_id="r1", task_id="extract", try_number=1),
        TaskInstanceQueued(dag_id="etl", run_id="r1", task_id="extract", try_number=1, max_tries=1),
        TaskInstanceStarted(
            dag_id="etl",
            run_id="r1",
            task_id="extract",
            try_number=1,
            hostname="worker",
            pid=7,
            executor_id="e1",
            start_date=start,
        ),
        XComPushed(
            dag_id="etl", run_id="r1", task_id="extract", try_number=1, key="return_value", value="[1, 2]"
        ),
        TaskInstanceFinished(
            dag_id="etl", run_id="r1", task_id="extract", try_number=1, state="failed", end_date=start
        ),
    )
    log = gateway.settings.logs_path / "dag_id=etl" / "run_id=r1" / "task_id=extract" / "attempt=1.log"
    log.parent.mkdir(parents=True)
    log.write_text('starting\n{"event": "boom", "level": "error", "timestamp": "2024-02-01T00:00:01Z"}\n')

    tis = af.TaskInstanceApi(client)
    listed = tis.get_task_instances("etl", "r1")
    assert {ti.task_id: ti.state.value if ti.state else None for ti in listed.task_instances} == {
        "extract": "failed",
        "load": None,
    }
    extract = tis.get_task_instance("etl", "r1", "extract")
    assert (extract.try_number, extract.hostname) == (1, "worker")
    assert [t.try_number for t in tis.get_task_instance_tries("etl", "r1", "extract").task_instances] == [1]
    assert tis.get_task_instance_try_details("etl", "r1", "extract", 1).state.value == "failed"  # type: ignore[union-attr]
    logs = tis.get_log("etl", "r1", "extract", 1)
    lines = logs.content.actual_instance
    assert isinstance(lines, list)
    assert [line.event for line in lines if isinstance(line, af.StructuredLogMessage)] == ["starting", "boom"]

    xcom = af.XComApi(client)
    assert [x.key for x in xcom.get_xcom_entries("etl", "r1", "extract").xcom_entries] == ["return_value"]
    entry = xcom.get_xcom_entry(
        dag_id="etl", dag_run_id="r1", task_id="extract", xcom_key="return_value", deserialize=True
    )
    assert isinstance(entry.actual_instance, af.XComResponseNative)
    assert entry.actual_instance.value == [1, 2]

    dry = tis.post_clear_task_instances("etl", af.ClearTaskInstancesBody(dry_run=True, only_failed=True))
    assert [ti.task_id for ti in dry.task_instances] == ["extract"]
    marked = tis.patch_task_instance("etl", "r1", "extract", af.PatchTaskInstanceBody(new_state="success"))
    assert [ti.state.value for ti in marked.task_instances] == ["success"]  # type: ignore[union-attr]
    # A dry-run clear of a run answers task instances, which this client cannot tell apart from its
    # NewTaskResponse (both oneOf schemas match); the real clear answers the run.
    cleared = af.DagRunApi(client).clear_dag_run("etl", "r1", af.DAGRunClearBody(dry_run=False))
    assert isinstance(cleared.actual_instance, af.DAGRunResponse)
    assert cleared.actual_instance.dag_run_id == "r1"
    finished = af.DagRunApi(client).patch_dag_run("etl", "r1", af.DAGRunPatchBody(state="success"))
    assert finished.state.value == "success"
