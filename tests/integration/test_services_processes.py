"""Each service as its own ``couture <service>`` process, on loopback, sharing one SQLite log file.

Cross-process wake-up goes through the log file's WAL watch; the executor has a home of its own and
fetches DAG files from the registry over HTTP, so nothing but the log file is shared.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from couture_cli.main import build_parser

COUTURE = Path(sys.executable).parent / "couture"
SERVICE_TOKEN = "s" * 40
PASSWORD = "couture@123"

#: One DAG per name: two Python tasks, the second reading the first's XCom.
DAG_SOURCE = """
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

with DAG({dag_id!r}, start_date=datetime(2024, 1, 1), schedule=None, is_paused_upon_creation=False):
    first = PythonOperator(task_id="first", python_callable=lambda: 21)
    second = PythonOperator(
        task_id="second", python_callable=lambda ti: ti.xcom_pull(task_ids="first") * 2
    )
    first >> second
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceProcess:
    """One ``couture <service>`` process; its output goes to ``<home>/<name>.log``."""

    def __init__(
        self, service: str, name: str, env: Mapping[str, str], home: Path, args: Sequence[str] = ()
    ) -> None:
        self.service = service
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / f"{name}.log"
        home.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [str(COUTURE), service, "--port", str(self.port), *args],
                env={**env, "COUTURE_HOME": str(home)},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def readiness(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.base_url}/ready", timeout=2)
        body: dict[str, Any] = answer.json()
        body["http_status"] = answer.status_code
        return body

    def wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.output()}")
            try:
                body = self.readiness()
                if body["http_status"] == 200:
                    return body
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready in {timeout} s:\n{self.output()}")

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM; the exit status once it ended by itself."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


class Deployment:
    """Services started one by one on a shared environment; all killed at the end."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root = root
        self.env = {
            **os.environ,
            "COUTURE_SERVICE_TOKEN": SERVICE_TOKEN,
            "COUTURE_ADMIN_PASSWORD": PASSWORD,
            "COUTURE_HEARTBEAT_INTERVAL": "1",
            **env,
        }
        self.shared_home = root / "home"
        self.processes: list[ServiceProcess] = []
        self._token: str | None = None

    def start(
        self,
        service: str,
        name: str | None = None,
        *,
        home: Path | None = None,
        args: Sequence[str] = (),
        **env: str,
    ) -> ServiceProcess:
        process = ServiceProcess(
            service, name or service, {**self.env, **env}, home or self.shared_home, args
        )
        self.processes.append(process)
        return process

    def close(self) -> None:
        for process in self.processes:
            process.kill()

    # -- the user's side, over the gateway's REST API ------------------------------------------

    def client(self, gateway: ServiceProcess) -> httpx.Client:
        if self._token is None:
            answer = httpx.post(
                f"{gateway.base_url}/auth/token",
                json={"username": "superadmin", "password": PASSWORD},
                timeout=10,
            )
            answer.raise_for_status()
            self._token = answer.json()["access_token"]
        return httpx.Client(
            base_url=gateway.base_url, headers={"Authorization": f"Bearer {self._token}"}, timeout=30
        )

    def wait_for_dags(self, gateway: ServiceProcess, dag_ids: set[str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        known: set[str] = set()
        with self.client(gateway) as client:
            while time.monotonic() < deadline:
                answer = client.get("/api/v2/dags", params={"limit": 100})
                known = {d["dag_id"] for d in answer.json()["dags"]}
                if dag_ids <= known:
                    return
                time.sleep(0.2)
        raise AssertionError(f"DAGs not parsed in time: {sorted(dag_ids - known)}")

    def trigger(self, gateway: ServiceProcess, dag_id: str) -> str:
        with self.client(gateway) as client:
            answer = client.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"conf": {}})
            answer.raise_for_status()
            run_id: str = answer.json()["dag_run_id"]
            return run_id

    def wait_for_runs(
        self, gateway: ServiceProcess, runs: Mapping[str, str], timeout: float = 45.0
    ) -> dict[str, str]:
        """dag_id -> the run's end state, for every (dag_id, run_id) in ``runs``."""
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        with self.client(gateway) as client:
            while time.monotonic() < deadline:
                for dag_id, run_id in runs.items():
                    if dag_id not in states:
                        answer = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
                        if answer.status_code == 200 and answer.json()["state"] in ("success", "failed"):
                            states[dag_id] = answer.json()["state"]
                if len(states) == len(runs):
                    return states
                time.sleep(0.2)
        missing = sorted(set(runs) - set(states))
        raise AssertionError(f"runs of {missing} did not finish in {timeout} s")


def write_dags(folder: Path, dag_ids: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for dag_id in dag_ids:
        (folder / f"{dag_id}.py").write_text(DAG_SOURCE.format(dag_id=dag_id))


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    events = tmp_path / "log" / "events.db"
    deployed = Deployment(tmp_path, {"COUTURE_EVENT_LOG": f"sqlite:///{events}"})
    try:
        yield deployed
    finally:
        deployed.close()


def test_four_processes_run_a_triggered_dag_and_each_stops_gracefully(deployment: Deployment) -> None:
    write_dags(deployment.shared_home / "dags", ["apart"])
    registry = deployment.start("registry")
    registry.wait_ready()
    scheduler = deployment.start("scheduler")
    # The executor shares nothing with the registry but the log: DAG files come over HTTP.
    executor = deployment.start(
        "executor", home=deployment.root / "executor-home", COUTURE_REGISTRY_URL=registry.base_url
    )
    gateway = deployment.start(
        "gateway",
        COUTURE_DATABASE_URL=f"sqlite+aiosqlite:///{deployment.root / 'readmodels.db'}",
    )
    assert scheduler.wait_ready()["run_partitions"] == list(range(8))
    executor.wait_ready()
    gateway.wait_ready()
    deployment.wait_for_dags(gateway, {"apart"})

    run_id = deployment.trigger(gateway, "apart")

    assert deployment.wait_for_runs(gateway, {"apart": run_id}) == {"apart": "success"}
    cached = list((deployment.root / "executor-home" / "cache" / "dags").glob("*.py"))
    assert [path.read_text() for path in cached] == [DAG_SOURCE.format(dag_id="apart")]
    assert not (deployment.root / "executor-home" / "blobs").exists()
    for process in (executor, scheduler, gateway, registry):
        assert process.terminate() == 0, f"{process.name} did not stop cleanly:\n{process.output()}"


def test_the_registry_serves_dag_versions_only_to_holders_of_the_service_token(
    deployment: Deployment,
) -> None:
    write_dags(deployment.shared_home / "dags", ["served"])
    registry = deployment.start("registry")
    registry.wait_ready()
    version = _stored_version(deployment.shared_home, timeout=20)
    url = f"{registry.base_url}/internal/dag-versions/{version}"

    assert httpx.get(url, timeout=5).status_code == 401
    wrong = httpx.get(url, headers={"Authorization": f"Bearer {'x' * 40}"}, timeout=5)
    assert wrong.status_code == 401
    right = httpx.get(url, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}, timeout=5)
    assert right.status_code == 200
    assert right.content == DAG_SOURCE.format(dag_id="served").encode()
    unknown = httpx.get(
        f"{registry.base_url}/internal/dag-versions/{'0' * 64}",
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        timeout=5,
    )
    assert unknown.status_code == 404
    assert registry.terminate() == 0


def test_a_lone_scheduler_answers_health_and_readiness_and_exits_0_on_sigterm(deployment: Deployment) -> None:
    scheduler = deployment.start("scheduler")
    scheduler.wait_ready()
    assert scheduler.readiness()["status"] == "ready"
    assert httpx.get(f"{scheduler.base_url}/health", timeout=2).json()["status"] == "alive"
    assert scheduler.terminate() == 0


def test_a_short_service_token_is_refused_naming_the_variable(deployment: Deployment) -> None:
    executor = deployment.start(
        "executor", COUTURE_SERVICE_TOKEN="short", COUTURE_REGISTRY_URL="http://127.0.0.1:1"
    )
    assert executor.process.wait(20) == 2
    assert "COUTURE_SERVICE_TOKEN: Value error, must be at least 32 characters, not 5" in executor.output()
    assert "short" not in executor.output()


def _stored_version(home: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = list((home / "blobs" / "dags").glob("*.py"))
        if stored:
            return stored[0].stem
        time.sleep(0.1)
    raise AssertionError("the registry stored no DAG file version")


HANDOVER_DAG = """
import time
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator


def slow_first_try(ti):
    if ti.try_number == 1:
        time.sleep(120)


with DAG("handover", start_date=datetime(2024, 1, 1), schedule=None, is_paused_upon_creation=False):
    PythonOperator(
        task_id="work", python_callable=slow_first_try, retries=2, retry_delay=timedelta(seconds=0)
    )
"""


def test_a_stopped_executor_hands_its_running_try_back_and_another_finishes_it(
    deployment: Deployment,
) -> None:
    (deployment.shared_home / "dags").mkdir(parents=True)
    (deployment.shared_home / "dags" / "handover.py").write_text(HANDOVER_DAG)
    registry = deployment.start("registry")
    registry.wait_ready()
    scheduler = deployment.start("scheduler")
    gateway = deployment.start(
        "gateway", COUTURE_DATABASE_URL=f"sqlite+aiosqlite:///{deployment.root / 'readmodels.db'}"
    )
    first = deployment.start(
        "executor",
        "executor-1",
        home=deployment.root / "executor-1",
        args=["--grace", "1"],
        COUTURE_REGISTRY_URL=registry.base_url,
    )
    for process in (scheduler, gateway, first):
        process.wait_ready()
    deployment.wait_for_dags(gateway, {"handover"})
    run_id = deployment.trigger(gateway, "handover")
    _wait_for_task_state(deployment, gateway, run_id, "running")

    assert first.terminate() == 0, first.output()
    second = deployment.start(
        "executor", "executor-2", home=deployment.root / "executor-2", COUTURE_REGISTRY_URL=registry.base_url
    )

    assert deployment.wait_for_runs(gateway, {"handover": run_id}) == {"handover": "success"}
    with deployment.client(gateway) as client:
        ti = client.get(f"/api/v2/dags/handover/dagRuns/{run_id}/taskInstances/work").json()
    assert (ti["state"], ti["try_number"]) == ("success", 2)
    assert second.terminate() == 0


def _wait_for_task_state(
    deployment: Deployment, gateway: ServiceProcess, run_id: str, state: str, timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    seen = None
    with deployment.client(gateway) as client:
        while time.monotonic() < deadline:
            answer = client.get(f"/api/v2/dags/handover/dagRuns/{run_id}/taskInstances/work")
            seen = answer.json().get("state") if answer.status_code == 200 else None
            if seen == state:
                return
            time.sleep(0.1)
    raise AssertionError(f"the task is {seen}, not {state}, after {timeout} s")


@pytest.mark.parametrize("service", ["scheduler", "executor", "registry", "auth", "gateway"])
def test_each_service_command_says_what_it_serves_and_how_it_is_configured(
    service: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([service, "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "/health and /ready" in text
    assert "COUTURE_* variables" in text


def test_a_token_from_the_auth_service_opens_the_registry_to_its_user(deployment: Deployment) -> None:
    auth = deployment.start("auth")
    auth.wait_ready()
    registry = deployment.start("registry")
    registry.wait_ready()
    login = f"{auth.base_url}/auth/token"

    wrong = httpx.post(login, json={"username": "superadmin", "password": "nope"}, timeout=10)
    right = httpx.post(login, json={"username": "superadmin", "password": PASSWORD}, timeout=10)

    assert wrong.status_code == 401
    assert right.status_code == 201
    files = f"{registry.base_url}/api/couture/dags/files"
    bearer = {"Authorization": f"Bearer {right.json()['access_token']}"}
    assert httpx.get(files, timeout=5).status_code == 401
    assert httpx.get(files, headers=bearer, timeout=5).status_code == 200
    assert auth.terminate() == 0
    assert registry.terminate() == 0
