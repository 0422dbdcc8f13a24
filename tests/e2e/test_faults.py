"""Faults on a real Kafka deployment: during 50 concurrent runs every service is killed with
SIGKILL mid-flight (an executor while it runs a try) and the broker restarted, and still every run
succeeds, no try's result is applied twice, no XCom or audit entry is lost and the read models
equal a fresh rebuild from the log.

Needs ``deploy/local/services up`` (Kafka and PostgreSQL); fails in CI without them, skips
elsewhere. The moments of the faults are drawn from a fixed seed, so a failure can be replayed.
Restarting the broker disturbs other Kafka tests running at the same time on the same machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
import socket
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient

from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.events import TaskInstanceFinished, TaskInstanceQueued, TaskInstanceStarted, XComPushed
from couture_common.topics import HEARTBEAT, RUN, TOPICS
from couture_gateway.api.audit_trail import REQUEST_ID_HEADER
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.rebuild import rebuild
from couture_gateway.readmodels.security_tables import audit_log
from couture_gateway.readmodels.tables import PROJECTED_TABLES, task_instance, task_instance_try, xcom
from tests.e2e.test_distributed_kafka import wait_for_partitions
from tests.integration.test_readmodels_postgres import _asyncpg_dsn
from tests.integration.test_readmodels_projector import dump
from tests.integration.test_services_processes import Deployment, ServiceProcess, free_port

pytestmark = pytest.mark.timeout(150)

SERVICES_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "services"
SEED = 20261124
ZOMBIE_THRESHOLD_S = 5
DAG_IDS = [f"faulty_{n}" for n in range(5)]
RUNS_PER_DAG = 10
TASK_IDS = ("warm_up", "compute", "cool_down")

#: Every run of every DAG at once; tasks long enough to be running when their executor is killed,
#: and retries so that a try lost with its executor is retried.
DAG_SOURCE = """
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator


def compute(ti):
    ti.xcom_push(key="side", value=ti.run_id)
    return 42


with DAG(
    {dag_id!r},
    start_date=datetime(2024, 1, 1),
    schedule=None,
    is_paused_upon_creation=False,
    max_active_runs={runs},
    default_args={{"retries": 2, "retry_delay": timedelta(seconds=1)}},
):
    warm_up = BashOperator(task_id="warm_up", bash_command="sleep 2")
    work = PythonOperator(task_id="compute", python_callable=compute)
    cool_down = BashOperator(task_id="cool_down", bash_command="sleep 1")
    warm_up >> work >> cool_down
"""


@dataclass
class Cluster:
    """The deployment's processes by role; a restart keeps the role's name, home and port."""

    deployment: Deployment
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    settings: dict[str, tuple[str, Path, dict[str, str]]] = field(default_factory=dict)

    def start(
        self, role: str, service: str, home: Path, port: int | None = None, **env: str
    ) -> ServiceProcess:
        self.settings[role] = (service, home, env)
        # argparse keeps the last --port: a restarted service answers where its peers call it.
        args = ["--port", str(port)] if port is not None else []
        process = self.deployment.start(service, role, home=home, args=args, **env)
        if port is not None:
            process.port = port
            process.base_url = f"http://127.0.0.1:{port}"
        self.processes[role] = process
        return process

    def kill_and_restart(self, role: str) -> None:
        old = self.processes[role]
        old.kill()
        service, home, env = self.settings[role]
        self.start(role, service, home, old.port, **env).wait_ready(timeout=40)

    def __getitem__(self, role: str) -> ServiceProcess:
        return self.processes[role]


def restart_broker() -> None:
    subprocess.run([str(SERVICES_SCRIPT), "restart-kafka"], check=True, stdout=subprocess.DEVNULL, timeout=90)


def trigger_all(
    deployment: Deployment, gateway: ServiceProcess, audited: list[str]
) -> dict[tuple[str, str], str]:
    """Triggers every run; ``audited`` gets the request id of each (an audited write)."""
    runs: dict[tuple[str, str], str] = {}
    with deployment.client(gateway) as client:
        for n in range(RUNS_PER_DAG):
            for dag_id in DAG_IDS:
                answer = client.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"conf": {"n": n}})
                answer.raise_for_status()
                runs[(dag_id, answer.json()["dag_run_id"])] = "queued"
                audited.append(answer.headers[REQUEST_ID_HEADER])
    return runs


def poll_states(
    deployment: Deployment, gateway: ServiceProcess, runs: dict[tuple[str, str], str], audited: list[str]
) -> None:
    """Updates ``runs`` with what the gateway says, and writes a variable (an audited write whose
    request id goes to ``audited`` when it succeeded); a gateway that is down answers nothing."""
    try:
        with deployment.client(gateway) as client:
            # A new key each time: a write that timed out here may still have gone through.
            variable = {"key": f"during_faults_{uuid.uuid4().hex}", "value": "x"}
            written = client.post("/api/v2/variables", json=variable, timeout=5)
            if written.status_code == 201:
                audited.append(written.headers[REQUEST_ID_HEADER])
            for dag_id, run_id in [key for key, state in runs.items() if state not in ("success", "failed")]:
                answer = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}", timeout=5)
                if answer.status_code == 200:
                    runs[(dag_id, run_id)] = answer.json()["state"]
    except httpx.HTTPError:
        pass


_TI_EVENTS = (TaskInstanceFinished, TaskInstanceQueued, TaskInstanceStarted, XComPushed)
TiKey = tuple[str, str, str]
TryKey = tuple[str, str, str, int]


@dataclass(frozen=True)
class RunHistory:
    """What the run topic says about each task instance, keyed by (dag_id, run_id, task_id)."""

    first_outcomes: dict[TiKey, dict[int, str]]
    queued_tries: dict[TiKey, set[int]]
    xcoms: dict[TiKey, dict[int, dict[str, str]]]
    duplicate_results: int
    #: Starts of a try after its first: a try handed over by a lost executor and started again.
    repeated_starts: int
    #: Tries started and not finished (yet), with the executor that started them.
    running: dict[TryKey, str]
    #: A try's first result: when it was decided, and its error.
    first_results: dict[TryKey, tuple[datetime, str | None]]
    #: The latest heartbeat of each try.
    last_heartbeats: dict[TryKey, datetime]


async def _read_to_end(log: KafkaEventLog, topic: str) -> list[Any]:
    consumer = log.consumer([topic])
    ends = await log.end_offsets(topic)
    payloads: list[Any] = []
    while any(consumer.position(tp) < ends[tp.partition] for tp in consumer.assignment):
        payloads += [(r.envelope, r.envelope.payload) for r in await consumer.poll(5000, timeout=1)]
    await consumer.close()
    return payloads


async def read_run_topic(bootstrap: str, namespace: str) -> RunHistory:
    first: dict[TiKey, dict[int, str]] = defaultdict(dict)
    queued: dict[TiKey, set[int]] = defaultdict(set)
    xcoms: dict[TiKey, dict[int, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    duplicates = 0
    started: dict[TryKey, str] = {}
    repeated_starts = 0
    results: dict[TryKey, tuple[datetime, str | None]] = {}
    heartbeats: dict[TryKey, datetime] = {}
    async with KafkaEventLog(bootstrap, namespace=namespace) as log:
        for envelope_, event in await _read_to_end(log, RUN):
            if isinstance(
                event, TaskInstanceFinished | TaskInstanceQueued | TaskInstanceStarted | XComPushed
            ):
                key = (event.dag_id, event.run_id, event.task_id)
            if isinstance(event, TaskInstanceStarted):
                repeated_starts += (*key, event.try_number) in started
                started[(*key, event.try_number)] = event.executor_id
            elif isinstance(event, TaskInstanceQueued):
                queued[key].add(event.try_number)
            elif isinstance(event, TaskInstanceFinished):
                if event.try_number in first[key]:
                    duplicates += 1
                else:
                    first[key][event.try_number] = event.state
                    results[(*key, event.try_number)] = (envelope_.time, event.error)
            elif isinstance(event, XComPushed):
                xcoms[key][event.try_number][event.key] = event.value
        for _, beat in await _read_to_end(log, HEARTBEAT):
            try_key = (beat.dag_id, beat.run_id, beat.task_id, beat.try_number)
            heartbeats[try_key] = max(beat.at, heartbeats.get(try_key, beat.at))
    running = {key: executor for key, executor in started.items() if key not in results}
    return RunHistory(first, queued, xcoms, duplicates, repeated_starts, running, results, heartbeats)


Tables = dict[str, list[dict[str, Any]]]
#: table -> primary key -> column -> (live value, rebuilt value), for the columns that differ.
Differences = dict[str, dict[tuple[Any, ...], dict[str, tuple[Any, Any]]]]


def differences(live: Tables, rebuilt: Tables) -> Differences:
    found: Differences = {}
    for table in PROJECTED_TABLES:
        keys = [c.name for c in table.primary_key.columns]
        live_rows = {tuple(r[k] for k in keys): r for r in live[table.name]}
        rebuilt_rows = {tuple(r[k] for k in keys): r for r in rebuilt[table.name]}
        for key in live_rows.keys() | rebuilt_rows.keys():
            mine, theirs = live_rows.get(key, {}), rebuilt_rows.get(key, {})
            changed = {
                c: (mine.get(c), theirs.get(c))
                for c in mine.keys() | theirs.keys()
                if mine.get(c) != theirs.get(c)
            }
            if changed:
                found.setdefault(table.name, {})[key] = changed
    return found


async def rows(url: str, table: sa.Table) -> list[dict[str, Any]]:
    engine = await open_readmodels(url)
    try:
        async with engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(sa.select(table))).mappings()]
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Outcome:
    """What a deployment under faults left behind, for the tests below to judge."""

    runs: dict[tuple[str, str], str]
    history: RunHistory
    readmodels_url: str
    rebuild_url: str
    event_log: tuple[str, str]
    logs: str
    #: Request ids of the audited writes that succeeded (triggers, variables set during faults).
    audited: list[str]
    #: The try that was running on the executor when it was killed.
    killed_try: TryKey


def triggered_and_faulted(root: Path, kafka_bootstrap: str, namespace: str, readmodels_url: str) -> Outcome:
    deployment = Deployment(
        root,
        {
            "COUTURE_EVENT_LOG": f"kafka://{kafka_bootstrap}?namespace={namespace}",
            "COUTURE_ZOMBIE_THRESHOLD": str(ZOMBIE_THRESHOLD_S),
        },
    )
    try:
        return _triggered_and_faulted(deployment, kafka_bootstrap, namespace, readmodels_url)
    finally:
        deployment.close()


def kill_an_executor_mid_try(cluster: Cluster, kafka_bootstrap: str, namespace: str) -> TryKey:
    """Kill -9 (and restart) an executor while a try it started has not finished; that try."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        roles = {f"{socket.gethostname()}-{cluster[r].process.pid}": r for r in ("executor-1", "executor-2")}
        running = asyncio.run(read_run_topic(kafka_bootstrap, namespace)).running
        ours = [key for key, executor in running.items() if executor in roles]
        # A long task's latest try has the most left to run: reading the topic takes a while, and
        # a try that finishes meanwhile is not killed mid-try (the compute task takes ~0.1 s).
        longest = [key for key in ours if key[2] == "warm_up"] or [
            key for key in ours if key[2] == "cool_down"
        ]
        if longest:
            chosen = longest[-1]
            cluster.kill_and_restart(roles[running[chosen]])
            # On a loaded machine the try may have ended while the topic was read: then it was not
            # killed mid-try (its result is in the log, and no longer from its dead executor).
            result = asyncio.run(read_run_topic(kafka_bootstrap, namespace)).first_results.get(chosen)
            if result is None or (result[1] or "").startswith("Detected zombie"):
                return chosen
            continue
        time.sleep(0.2)
    raise AssertionError("no try was running on an executor to kill")


def _triggered_and_faulted(
    deployment: Deployment, kafka_bootstrap: str, namespace: str, readmodels_url: str
) -> Outcome:
    started = time.monotonic()
    dags = deployment.shared_home / "dags"
    dags.mkdir(parents=True)
    for dag_id in DAG_IDS:
        (dags / f"{dag_id}.py").write_text(DAG_SOURCE.format(dag_id=dag_id, runs=RUNS_PER_DAG))
    cluster = Cluster(deployment)
    home = deployment.shared_home
    registry = cluster.start("registry", "registry", home, port=free_port())
    registry.wait_ready(timeout=40)
    for name in ("scheduler-1", "scheduler-2"):
        cluster.start(name, "scheduler", home, port=free_port())
    for name in ("executor-1", "executor-2"):
        cluster.start(
            name, "executor", deployment.root / name, port=free_port(), COUTURE_REGISTRY_URL=registry.base_url
        )
    gateway = cluster.start("gateway", "gateway", home, port=free_port(), COUTURE_DATABASE_URL=readmodels_url)
    for role in ("executor-1", "executor-2", "gateway"):
        cluster[role].wait_ready(timeout=40)
    partitions = TOPICS[RUN].partitions
    owned = [
        wait_for_partitions(cluster[s], partitions // 2, timeout=40) for s in ("scheduler-1", "scheduler-2")
    ]
    assert sorted(owned[0] + owned[1]) == list(range(partitions))
    deployment.wait_for_dags(gateway, set(DAG_IDS), timeout=40)

    audited: list[str] = []
    runs = trigger_all(deployment, gateway, audited)
    killed: list[TryKey] = []
    kills: list[tuple[str, Callable[[], None]]] = [
        (role, functools.partial(cluster.kill_and_restart, role))
        for role in ("scheduler-1", "gateway", "registry")
    ]
    kills.append(
        ("executor", lambda: killed.append(kill_an_executor_mid_try(cluster, kafka_bootstrap, namespace)))
    )
    chance = random.Random(SEED)
    chance.shuffle(kills)
    # The broker goes last: its restart takes seconds, and the kills must land while tasks run.
    faults = [*kills, ("broker", restart_broker)]
    moments = sorted(chance.uniform(0.5, 6.0) for _ in faults)
    faults_began, began_at = time.monotonic(), datetime.now(UTC)
    landed: list[str] = []
    for moment, (what, inflict) in zip(moments, faults, strict=True):
        time.sleep(max(0.0, faults_began + moment - time.monotonic()))
        at = time.monotonic() - faults_began
        inflict()
        landed.append(f"{what} at {at:.1f} s (back at {time.monotonic() - faults_began:.1f} s)")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and any(s not in ("success", "failed") for s in runs.values()):
        poll_states(deployment, cluster["gateway"], runs, audited)
        time.sleep(0.5)
    logs = "\n".join(f"--- {p.name}\n{p.output()}" for p in cluster.processes.values())
    print(f"{len(runs)} runs ended {time.monotonic() - started:.1f} s after the start; faults: {landed}")
    for role in ("executor-1", "executor-2", "scheduler-1", "scheduler-2", "registry"):
        cluster[role].terminate()
    history = asyncio.run(read_run_topic(kafka_bootstrap, namespace))
    # The runs' ends came through the gateway's projector; what follows them (the last task
    # instances' try records, the last audit entries) is applied within its next poll.
    time.sleep(2)
    cluster["gateway"].terminate()
    retried = sum(len(by_try) > 1 for by_try in history.first_outcomes.values())
    print(
        f"{retried} task instances retried; {history.repeated_starts} tries started again; "
        f"{history.duplicate_results} duplicate results in the log; "
        f"{len(audited)} audited writes; killed mid-try: {killed}"
    )
    for key, (decided, error) in sorted(history.first_results.items()):
        if error and error.startswith("Detected zombie"):
            beat = history.last_heartbeats.get(key)
            silent = (decided - beat).total_seconds() if beat else None
            print(
                f"zombie {key}: decided at {(decided - began_at).total_seconds():.1f} s, "
                f"{silent} s after its last heartbeat"
            )
    return Outcome(runs, history, readmodels_url, "", (kafka_bootstrap, namespace), logs, audited, killed[0])


async def _create_databases(server: sa.URL, names: list[str]) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(server))
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _drop_databases(server: sa.URL, names: list[str]) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(server))
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _drop_topics(kafka_bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        ours = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def outcome(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, postgres_url: str
) -> Iterator[Outcome]:
    """One deployment run under faults, shared by the tests of this module (it takes a minute)."""
    suffix = uuid.uuid4().hex[:12]
    namespace = f"test-{suffix}."
    server = sa.make_url(postgres_url)
    names = [f"couture_test_{suffix}_live", f"couture_test_{suffix}_rebuilt"]
    asyncio.run(_create_databases(server, names))
    urls = [server.set(database=name).render_as_string(hide_password=False) for name in names]
    try:
        faulted = triggered_and_faulted(
            tmp_path_factory.mktemp("faults"), kafka_bootstrap, namespace, urls[0]
        )
        yield dataclasses.replace(faulted, rebuild_url=urls[1])
    finally:
        asyncio.run(_drop_databases(server, names))
        asyncio.run(_drop_topics(kafka_bootstrap, namespace))


def test_every_run_succeeds_although_each_service_was_killed_and_the_broker_restarted(
    outcome: Outcome,
) -> None:
    assert outcome.runs == dict.fromkeys(outcome.runs, "success"), outcome.logs
    assert len(outcome.runs) == len(DAG_IDS) * RUNS_PER_DAG


async def test_each_try_has_one_applied_result_the_first_in_the_log(outcome: Outcome) -> None:
    tis = {
        (r["dag_id"], r["run_id"], r["task_id"]): r for r in await rows(outcome.readmodels_url, task_instance)
    }
    history = outcome.history

    assert set(tis) == {(dag_id, run_id, task_id) for dag_id, run_id in outcome.runs for task_id in TASK_IDS}
    for key, ti in tis.items():
        outcomes = history.first_outcomes[key]
        # The final try is the last one queued, it succeeded, and every earlier try ended as a
        # retry by its first result, not by a later duplicate.
        assert (ti["state"], ti["try_number"]) == ("success", max(history.queued_tries[key])), key
        assert outcomes == {n: "up_for_retry" for n in range(1, ti["try_number"])} | {
            ti["try_number"]: "success"
        }
    for row in await rows(outcome.readmodels_url, task_instance_try):
        key = (row["dag_id"], row["run_id"], row["task_id"])
        # A try's own record says failed where the task instance went on to be retried.
        outcome_of_try = history.first_outcomes[key][row["try_number"]]
        assert row["state"] == ("failed" if outcome_of_try == "up_for_retry" else outcome_of_try), row


async def test_every_xcom_of_a_final_try_is_in_the_read_models(outcome: Outcome) -> None:
    tis = {
        (r["dag_id"], r["run_id"], r["task_id"]): r for r in await rows(outcome.readmodels_url, task_instance)
    }
    pushed = {
        (*key, name): (tis[key]["try_number"], value)
        for key, by_try in outcome.history.xcoms.items()
        for name, value in by_try.get(tis[key]["try_number"], {}).items()
    }

    stored = {
        (r["dag_id"], r["run_id"], r["task_id"], r["key"]): (r["try_number"], r["value"])
        for r in await rows(outcome.readmodels_url, xcom)
    }

    assert len(pushed) == 2 * len(outcome.runs)
    assert stored == pushed


async def _live_and_rebuilt(outcome: Outcome) -> tuple[Tables, Tables]:
    live = await open_readmodels(outcome.readmodels_url)
    fresh = await open_readmodels(outcome.rebuild_url)
    try:
        async with KafkaEventLog(outcome.event_log[0], namespace=outcome.event_log[1]) as log:
            await rebuild(fresh, log)
        return await dump(live), await dump(fresh)
    finally:
        await live.dispose()
        await fresh.dispose()


@pytest.fixture(scope="module")
def rebuilt_differences(outcome: Outcome) -> Differences:
    return differences(*asyncio.run(_live_and_rebuilt(outcome)))


def test_the_read_models_equal_a_rebuild_from_offset_0(rebuilt_differences: Differences) -> None:
    assert rebuilt_differences == {}


async def test_every_audited_write_is_in_the_audit_trail(outcome: Outcome) -> None:
    trail = {r["request_id"] for r in await rows(outcome.readmodels_url, audit_log)}

    assert len(outcome.audited) > len(outcome.runs), "no variable was written while the faults landed"
    assert sorted(set(outcome.audited) - trail) == []


def test_the_try_running_on_the_killed_executor_was_found_a_zombie_and_retried(outcome: Outcome) -> None:
    dag_id, run_id, task_id, try_number = outcome.killed_try
    _, error = outcome.history.first_results[outcome.killed_try]

    assert error is not None and error.startswith("Detected zombie"), error
    assert outcome.history.first_outcomes[(dag_id, run_id, task_id)][try_number] == "up_for_retry"
