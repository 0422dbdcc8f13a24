"""A real ``couture standalone`` process for end-to-end tests, driven over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

FIXTURE_DAGS = Path(__file__).parent.parent / "fixtures" / "dags"
COUTURE = Path(sys.executable).parent / "couture"
FINISHED_RUN = frozenset({"success", "failed"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Standalone:
    """Starts, kills and restarts one product process on one COUTURE_HOME."""

    def __init__(self, home: Path, *, env: Mapping[str, str] | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "COUTURE_HOME": str(home),
            "COUTURE_PORT": str(self.port),
            "COUTURE_HEARTBEAT_INTERVAL": "1",
            "COUTURE_ZOMBIE_THRESHOLD": "5",
            # Set by the operator, so the superadmin need not change it at first login.
            "COUTURE_ADMIN_PASSWORD": "couture@123",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self._token: str | None = None

    def start(self, timeout: float = 60.0) -> None:
        log = open(self.home / f"standalone-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(COUTURE), "standalone"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"couture standalone exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("couture standalone did not become healthy")

    def kill9(self) -> None:
        """SIGKILL the whole process group: the server and its fork server and task processes."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    # -- HTTP ------------------------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            answer = httpx.post(
                f"{self.base_url}/auth/token",
                json={"username": "superadmin", "password": "couture@123"},
                timeout=10,
            )
            answer.raise_for_status()
            self._token = answer.json()["access_token"]
        return self._token

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.token()}"}, timeout=30
        )

    def upload(self, names: Iterable[str]) -> dict[str, Any]:
        return self.upload_sources({name: (FIXTURE_DAGS / name).read_text() for name in names})

    def upload_sources(self, sources: Mapping[str, str]) -> dict[str, Any]:
        files = [("files", (name, text.encode(), "text/x-python")) for name, text in sources.items()]
        with self.client() as client:
            answer = client.post("/api/couture/dags/files", files=files)
            answer.raise_for_status()
            result: dict[str, Any] = answer.json()
            return result

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 30.0) -> None:
        wanted = set(dag_ids)
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while time.monotonic() < deadline:
                known = {
                    d["dag_id"] for d in client.get("/api/v2/dags", params={"limit": 100}).json()["dags"]
                }
                if wanted <= known:
                    return
                time.sleep(0.1)
        raise TimeoutError(f"DAGs not parsed in time: {sorted(wanted - known)}")

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        with self.client() as client:
            client.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
            answer = client.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"conf": conf or {}})
            answer.raise_for_status()
            run_id: str = answer.json()["dag_run_id"]
            return run_id

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while time.monotonic() < deadline:
                answer = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
                if answer.status_code == 200 and answer.json()["state"] in FINISHED_RUN:
                    run: dict[str, Any] = answer.json()
                    return run
                time.sleep(0.1)
        raise TimeoutError(f"run {dag_id}/{run_id} did not finish")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, tuple[str | None, int]]:
        with self.client() as client:
            answer = client.get(
                f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100}
            )
            answer.raise_for_status()
            return {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in answer.json()["task_instances"]}
