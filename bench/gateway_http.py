"""HTTP benchmarks against a real ``couture standalone`` process on loopback.

    python bench/gateway_http.py [--triggers 30] [--clients 50] [--requests 40]

Prints trigger (POST dagRuns over HTTP) -> first task start p50/p99, and GET dagRun latency
p50/p99 with N concurrent clients. Bounded: a fixed number of requests per client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

DAG = """
from datetime import datetime
from airflow import DAG
from airflow.operators.python import PythonOperator

with DAG("http_bench", start_date=datetime(2024, 1, 1), schedule=None, max_active_runs=1000) as dag:
    PythonOperator(task_id="only", python_callable=lambda: None, do_xcom_push=False)
"""


ADMIN_PASSWORD = "bench-admin-password"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_healthy(client: httpx.AsyncClient) -> None:
    for _ in range(600):
        try:
            if (await client.get("/api/v2/monitor/health")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("couture standalone did not start")


async def first_start(client: httpx.AsyncClient, headers: dict[str, str], triggers: int) -> list[float]:
    delays = []
    for _ in range(triggers):
        sent = datetime.now(UTC)
        answer = await client.post("/api/v2/dags/http_bench/dagRuns", json={}, headers=headers)
        answer.raise_for_status()
        run_id = answer.json()["dag_run_id"]
        url = f"/api/v2/dags/http_bench/dagRuns/{run_id}/taskInstances/only"
        for _ in range(1000):
            ti = await client.get(url, headers=headers)
            if ti.status_code == 200 and ti.json().get("start_date"):
                started = datetime.fromisoformat(ti.json()["start_date"])
                delays.append((started - sent).total_seconds() * 1000)
                break
            await asyncio.sleep(0.005)
    return delays


async def concurrent_gets(
    base: str, headers: dict[str, str], run_id: str, clients: int, requests: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    url = f"/api/v2/dags/http_bench/dagRuns/{run_id}"

    async def one_client() -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            for _ in range(requests):
                started = time.perf_counter()
                (await client.get(url)).raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return latencies, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--triggers", type=int, default=30)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="GETs per client")
    args = parser.parse_args()
    couture = Path(sys.executable).parent / "couture"
    with tempfile.TemporaryDirectory(prefix="couture-http-bench-") as tmp:
        home = Path(tmp)
        (home / "dags").mkdir()
        (home / "dags" / "http_bench.py").write_text(DAG)
        port = free_port()
        # An operator-chosen admin password: no forced change at first login.
        env = {
            **os.environ,
            "COUTURE_HOME": str(home),
            "COUTURE_PORT": str(port),
            "COUTURE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
        server = await asyncio.create_subprocess_exec(
            str(couture), "standalone", env=env, stdout=asyncio.subprocess.DEVNULL, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                await wait_healthy(client)
                token = (
                    await client.post(
                        "/auth/token", json={"username": "superadmin", "password": ADMIN_PASSWORD}
                    )
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                for _ in range(100):
                    if (await client.get("/api/v2/dags/http_bench", headers=headers)).status_code == 200:
                        break
                    await asyncio.sleep(0.1)
                (
                    await client.patch("/api/v2/dags/http_bench", json={"is_paused": False}, headers=headers)
                ).raise_for_status()
                delays = await first_start(client, headers, args.triggers)
                print(
                    f"trigger over HTTP -> first task start ({len(delays)} runs): "
                    f"p50 {statistics.median(delays):.1f} ms, p99 {percentile(delays, 99):.1f} ms"
                )
                runs = (await client.get("/api/v2/dags/http_bench/dagRuns", headers=headers)).json()
                run_id = runs["dag_runs"][0]["dag_run_id"]
            latencies, wall = await concurrent_gets(base, headers, run_id, args.clients, args.requests)
            print(
                f"GET dagRun with {args.clients} concurrent clients ({len(latencies)} requests): "
                f"p50 {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
                f"{len(latencies) / wall:.0f} requests/s"
            )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            await asyncio.wait_for(server.wait(), 30)


if __name__ == "__main__":
    asyncio.run(main())
