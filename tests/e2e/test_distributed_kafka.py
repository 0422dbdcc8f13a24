"""Scale-out on a real Kafka broker: two schedulers and three executors, each its own process.

Needs ``COUTURE_KAFKA_BOOTSTRAP`` (``deploy/local/services up``); fails in CI without it, skips
elsewhere. Each test works in a topic namespace of its own, deleted afterwards.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.eventlog.port import partition_for
from couture_common.events import TaskInstanceStarted
from couture_common.topics import RUN, TASK_QUEUE, TOPICS
from tests.integration.test_services_processes import Deployment, ServiceProcess, write_dags

RUN_PARTITIONS = TOPICS[RUN].partitions


def dag_ids_on_every_partition() -> list[str]:
    """DAG ids whose run partitions cover every partition, so every scheduler owns some."""
    chosen: dict[int, str] = {}
    index = 0
    while len(chosen) < RUN_PARTITIONS:
        dag_id = f"spread_{index}"
        chosen.setdefault(partition_for(dag_id, RUN_PARTITIONS), dag_id)
        index += 1
    return [chosen[p] for p in sorted(chosen)]


@pytest.fixture
async def namespace(kafka_bootstrap: str) -> AsyncIterator[str]:
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


@pytest.fixture
def deployment(tmp_path: Path, kafka_bootstrap: str, namespace: str) -> Iterator[Deployment]:
    deployed = Deployment(
        tmp_path,
        {"COUTURE_EVENT_LOG": f"kafka://{kafka_bootstrap}?namespace={namespace}"},
    )
    try:
        yield deployed
    finally:
        deployed.close()


def wait_for_partitions(scheduler: ServiceProcess, wanted: int, timeout: float = 30.0) -> list[int]:
    deadline = time.monotonic() + timeout
    owned: list[int] = []
    while time.monotonic() < deadline:
        body = scheduler.readiness()
        owned = body["run_partitions"]
        if body["http_status"] == 200 and len(owned) == wanted:
            return owned
        time.sleep(0.2)
    raise AssertionError(f"{scheduler.name} owns {owned}, not {wanted} partitions:\n{scheduler.output()}")


def wait_for_queue_split(executors: list[ServiceProcess], timeout: float = 30.0) -> None:
    """Until the executors' group has given each of them task-queue partitions, all of them in all."""
    deadline = time.monotonic() + timeout
    held: list[list[int]] = []
    while time.monotonic() < deadline:
        held = [executor.readiness()["task_queue_partitions"] for executor in executors]
        if all(held) and sorted(p for h in held for p in h) == list(range(TOPICS[TASK_QUEUE].partitions)):
            return
        time.sleep(0.2)
    raise AssertionError(f"the executors hold task-queue partitions {held}")


async def executors_that_ran(kafka_bootstrap: str, namespace: str) -> set[str]:
    async with KafkaEventLog(kafka_bootstrap, namespace=namespace) as log:
        consumer = log.consumer([RUN])
        ends = await log.end_offsets(RUN)
        executors: set[str] = set()
        while any(consumer.position(tp) < ends[tp.partition] for tp in consumer.assignment):
            for record in await consumer.poll(5000, timeout=1):
                if isinstance(record.envelope.payload, TaskInstanceStarted):
                    executors.add(record.envelope.payload.executor_id)
        return executors


async def test_two_schedulers_and_three_executors_share_the_runs_and_a_stopped_scheduler_hands_over(
    deployment: Deployment, kafka_bootstrap: str, namespace: str
) -> None:
    dag_ids = dag_ids_on_every_partition()
    write_dags(deployment.shared_home / "dags", dag_ids)
    registry = deployment.start("registry")
    schedulers = [deployment.start("scheduler", f"scheduler-{n}") for n in (1, 2)]
    executors = [
        deployment.start(
            "executor",
            f"executor-{n}",
            home=deployment.root / f"executor-{n}",
            COUTURE_REGISTRY_URL=registry.base_url,
        )
        for n in (1, 2, 3)
    ]
    gateway = deployment.start(
        "gateway", COUTURE_DATABASE_URL=f"sqlite+aiosqlite:///{deployment.root / 'readmodels.db'}"
    )
    for process in (registry, *executors, gateway):
        process.wait_ready(timeout=40)
    # An executor that joins the group after the work is done runs nothing: wait for the split.
    wait_for_queue_split(executors)
    split = [wait_for_partitions(scheduler, RUN_PARTITIONS // 2) for scheduler in schedulers]
    assert sorted(split[0] + split[1]) == list(range(RUN_PARTITIONS))
    deployment.wait_for_dags(gateway, set(dag_ids))

    first = {dag_id: deployment.trigger(gateway, dag_id) for dag_id in dag_ids}

    assert deployment.wait_for_runs(gateway, first) == dict.fromkeys(dag_ids, "success")
    assert len(await executors_that_ran(kafka_bootstrap, namespace)) == 3

    assert schedulers[0].terminate() == 0
    assert wait_for_partitions(schedulers[1], RUN_PARTITIONS) == list(range(RUN_PARTITIONS))
    second = {dag_id: deployment.trigger(gateway, dag_id) for dag_id in dag_ids}

    assert deployment.wait_for_runs(gateway, second) == dict.fromkeys(dag_ids, "success")
    for process in (*executors, schedulers[1], gateway, registry):
        assert process.terminate() == 0, f"{process.name} did not stop cleanly:\n{process.output()}"
