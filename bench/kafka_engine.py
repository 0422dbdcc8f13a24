"""Engine benchmarks on the distributed deployment: each service its own process, over Kafka.

    eval "$(deploy/local/services up)"
    .venv/bin/python bench/kafka_engine.py [--chain 100] [--parallel 500] [--triggers 20]
                                           [--executors 1,3] [--slots 32]

Starts ``couture registry``, ``couture scheduler`` and ``couture executor`` processes on loopback
over the broker at COUTURE_KAFKA_BOOTSTRAP, in a topic namespace of their own (deleted at the end),
and measures what ``bench/engine.py`` measures on SQLite, from the events themselves:
* inter-task latency p50/p99 in a chain of no-op tasks (upstream TaskInstanceFinished.end_date to
  downstream TaskInstanceStarted.start_date);
* trigger -> first task start p50/p99 (DagRunRequested's time to the first start);
* no-op tasks per second with N independent tasks in one run, once per executor count in
  ``--executors`` (executors are added between the measurements, the group spreading the
  task-queue partitions over them).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from engine import (
    bench_chain,
    bench_first_start,
    bench_parallel,
    open_bench_dags,
    percentile,
    starts_and_ends,
    write_bench_dags,
)
from eventlog_kafka import drop_namespace

from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.eventlog.port import Record
from couture_common.events import DagParsed, TaskInstanceQueued
from couture_common.topics import DAG

COUTURE = Path(sys.executable).parent / "couture"
SERVICE_TOKEN = "bench-service-token-" + "x" * 24


class Service:
    """One ``couture <service>`` process with its output in ``<home>/<name>.log``."""

    def __init__(self, service: str, name: str, home: Path, env: dict[str, str]) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.port = _free_port()
        self.log_path = home / f"{name}.log"
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [str(COUTURE), service, "--port", str(self.port)],
                env={**env, "COUTURE_HOME": str(home)},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise SystemExit(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
                try:
                    if (await client.get(f"http://127.0.0.1:{self.port}/ready")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise SystemExit(f"{self.name} not ready in {timeout} s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_parsed(log: KafkaEventLog, dag_ids: set[str], timeout: float = 60.0) -> None:
    consumer = log.consumer([DAG])
    parsed: set[str] = set()
    try:
        async with asyncio.timeout(timeout):
            while not dag_ids <= parsed:
                for record in await consumer.poll(1000, timeout=1):
                    if isinstance(record.envelope.payload, DagParsed):
                        parsed.add(record.envelope.payload.dag_id)
    finally:
        await consumer.close()


def print_chain_breakdown(records: list[Record], n: int) -> None:
    """Where the inter-task latency goes: upstream end -> the scheduler's TaskInstanceQueued
    (delivery to the scheduler, fold, decide) and that -> the downstream start (delivery of the
    command to the executor, its wait for the run topic, the fork)."""
    starts, ends = starts_and_ends(records)
    queued = {
        r.envelope.payload.task_id: r.envelope.time
        for r in records
        if isinstance(r.envelope.payload, TaskInstanceQueued)
    }
    tasks = [f"t{i:04d}" for i in range(n)]
    to_queued = [(queued[b] - ends[a]).total_seconds() * 1000 for a, b in itertools.pairwise(tasks)]
    to_start = [(starts[b] - queued[b]).total_seconds() * 1000 for b in tasks[1:]]
    for what, values in (("upstream end -> queued", to_queued), ("queued -> downstream start", to_start)):
        print(f"  {what}: p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms")


async def measure(args: argparse.Namespace, bootstrap: str, namespace: str, root: Path) -> None:
    home = root / "home"
    (home / "dags").mkdir(parents=True)
    write_bench_dags(home / "dags", chain=args.chain, parallel=args.parallel)
    env = {
        **os.environ,
        "COUTURE_EVENT_LOG": f"kafka://{bootstrap}?namespace={namespace}",
        "COUTURE_SERVICE_TOKEN": SERVICE_TOKEN,
        "COUTURE_EXECUTOR_SLOTS": str(args.slots),
    }
    services: list[Service] = []
    try:
        registry = Service("registry", "registry", home, env)
        services.append(registry)
        await registry.ready()
        executor_env = {**env, "COUTURE_REGISTRY_URL": f"http://127.0.0.1:{registry.port}"}
        services.append(Service("scheduler", "scheduler", home, env))
        services.append(Service("executor", "executor-1", root / "executor-1", executor_env))
        for service in services:
            await service.ready()
        executors = 1
        async with KafkaEventLog(bootstrap, namespace=namespace, client_id="bench") as log:
            await wait_parsed(log, {"bench_chain", "bench_fan", "bench_first"})
            await open_bench_dags(log, args.parallel)
            await asyncio.sleep(0.5)
            chain = await bench_chain(log, args.chain)
            print_chain_breakdown(chain, args.chain)
            await bench_first_start(log, args.triggers)
            for wanted in args.executors:
                while executors < wanted:
                    executors += 1
                    name = f"executor-{executors}"
                    added = Service("executor", name, root / name, executor_env)
                    services.append(added)
                    await added.ready()
                # Let the executor group rebalance the task-queue partitions over its members.
                await asyncio.sleep(args.settle)
                print(f"with {executors} executor(s) of {args.slots} slots:", end=" ", flush=True)
                await bench_parallel(log, args.parallel, run_id=f"fan_{executors}")
    finally:
        for service in reversed(services):
            service.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--chain", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=500)
    parser.add_argument("--triggers", type=int, default=20)
    parser.add_argument(
        "--executors",
        type=lambda text: sorted({int(n) for n in text.split(",")}),
        default=[1, 3],
        help="executor counts to measure tasks/s with, e.g. 1,2,3",
    )
    parser.add_argument("--slots", type=int, default=32, help="slots per executor")
    parser.add_argument(
        "--settle", type=float, default=5.0, help="seconds for the executor group to rebalance"
    )
    args = parser.parse_args()
    bootstrap = os.environ.get("COUTURE_KAFKA_BOOTSTRAP")
    if not bootstrap:
        raise SystemExit('COUTURE_KAFKA_BOOTSTRAP is not set: eval "$(deploy/local/services up)"')
    namespace = f"bench-{uuid.uuid4().hex[:12]}."
    print(f"Kafka at {bootstrap}, namespace {namespace} python={sys.version.split()[0]}")
    try:
        with tempfile.TemporaryDirectory(prefix="couture-kafka-bench-") as tmp:
            await measure(args, bootstrap, namespace, Path(tmp))
    finally:
        await drop_namespace(bootstrap, namespace)


if __name__ == "__main__":
    asyncio.run(main())
