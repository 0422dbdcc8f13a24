"""What each browser hears of the read models' changes: summarised per batch, filtered by RBAC,
bounded per subscriber."""

from __future__ import annotations

import asyncio

import pytest

from couture_auth.domain.permissions import BUILTIN_ROLES, DAG_READ, Principal, Role
from couture_common.eventlog import Record
from couture_common.events import (
    AuditRecorded,
    DagFileProcessed,
    DagRunCreated,
    Event,
    TaskInstanceQueued,
    VariableSet,
    envelope,
    registered_types,
)
from couture_gateway.live import (
    KIND_RULES,
    Dropped,
    HubClosed,
    LiveHub,
    LiveSettings,
    TooManyStreams,
    visible,
)
from couture_gateway.readmodels.changes import Change, kinds_of, summarise
from couture_gateway.readmodels.positions import PROJECTED_TOPICS
from tests.unit.readmodels.builders import T0

ADMIN = Principal("ada", (BUILTIN_ROLES["Admin"],))
VIEWER = Principal("vic", (BUILTIN_ROLES["Viewer"],))
#: A Viewer's pages, but only DAG ``etl``.
ETL_ONLY = Principal(
    "tess",
    (
        Role(
            "team-a",
            frozenset(p for p in BUILTIN_ROLES["Viewer"].permissions if p[0] != DAG_READ)
            | {(DAG_READ, "etl")},
        ),
    ),
)


def record(payload: Event, offset: int = 0) -> Record:
    return Record(
        topic=payload.TOPIC, partition=0, offset=offset, envelope=envelope(payload, actor="service:test")
    )


def test_a_batch_is_summarised_as_kinds_dags_and_runs_without_repeats() -> None:
    queued = [
        TaskInstanceQueued(dag_id="etl", run_id="r1", task_id=t, try_number=1, max_tries=1)
        for t in ("a", "b")
    ]
    created = DagRunCreated(
        dag_id="etl",
        run_id="r2",
        run_type="manual",
        logical_date=T0,
        data_interval_start=T0,
        data_interval_end=T0,
        dag_version="v1",
    )
    batch = [
        *queued,
        created,
        VariableSet(key="region", value="token"),
        DagFileProcessed(fileloc="/dags/two.py", version="v", dag_ids=("a", "b")),
    ]

    assert summarise(record(e, i) for i, e in enumerate(batch)) == {
        Change("task_instance", "etl", "r1"),
        Change("dag_run", "etl", "r2"),
        Change("task_instance", "etl", "r2"),
        Change("variable"),
        Change("dag", "a"),
        Change("dag", "b"),
        Change("import_error", "a"),
        Change("import_error", "b"),
    }


def test_every_projected_event_has_kinds_and_every_kind_a_permission_rule() -> None:
    projected = [cls for cls in registered_types().values() if cls.TOPIC in PROJECTED_TOPICS]
    kinds = {kind for cls in projected for kind in kinds_of(cls)}

    assert kinds <= set(KIND_RULES), kinds - set(KIND_RULES)


def test_each_user_hears_only_of_kinds_they_may_list_on_dags_they_may_read() -> None:
    changes = {
        Change("dag_run", "etl", "r1"),
        Change("task_instance", "payroll", "r9"),
        Change("variable"),
        Change("audit", "etl"),
        Change("sla_miss", "etl", "r1"),
    }

    assert visible(ADMIN, changes) == changes
    assert visible(VIEWER, changes) == {
        Change("dag_run", "etl", "r1"),
        Change("task_instance", "payroll", "r9"),
        Change("sla_miss", "etl", "r1"),
    }
    assert visible(ETL_ONLY, changes) == {Change("dag_run", "etl", "r1"), Change("sla_miss", "etl", "r1")}
    assert visible(Principal("pat", (BUILTIN_ROLES["Public"],)), changes) == frozenset()


async def test_queued_batches_are_merged_and_an_idle_wait_times_out_empty() -> None:
    hub = LiveHub()
    sub = hub.subscribe("ada", ADMIN)
    hub.publish(frozenset({Change("dag_run", "etl", "r1")}))
    hub.publish(frozenset({Change("dag_run", "etl", "r1"), Change("pool")}))

    assert await sub.next(timeout=1) == {Change("dag_run", "etl", "r1"), Change("pool")}
    assert await sub.next(timeout=0.01) == frozenset()


async def test_a_subscriber_that_falls_behind_is_dropped_with_a_resync_and_holds_nothing() -> None:
    hub = LiveHub(LiveSettings(queue_size=3))
    slow = hub.subscribe("ada", ADMIN)
    keeping_up = hub.subscribe("ada", ADMIN)
    for n in range(100):
        hub.publish(frozenset({Change("task_instance", "etl", f"r{n}")}))
        if n % 2 == 0:
            await keeping_up.next(timeout=1)

    assert slow.pending == 0, "a dropped subscriber's backlog is released at once"
    assert hub.streams_of("ada") == 1
    with pytest.raises(Dropped) as dropped:
        await slow.next(timeout=1)
    assert dropped.value.reason == "resync"
    assert keeping_up.pending <= 3


async def test_streams_per_user_are_limited_and_closing_the_hub_ends_every_stream() -> None:
    hub = LiveHub(LiveSettings(streams_per_user=2))
    first, second = hub.subscribe("ada", ADMIN), hub.subscribe("ada", ADMIN)
    with pytest.raises(TooManyStreams, match="ada already has 2 live streams open"):
        hub.subscribe("ada", ADMIN)
    other = hub.subscribe("vic", VIEWER)
    hub.unsubscribe(second)
    hub.subscribe("ada", ADMIN)

    waiting = asyncio.create_task(first.next(timeout=60))
    await asyncio.sleep(0)
    hub.close()
    for sub in (first, other):
        with pytest.raises(Dropped, match="closed"):
            await (waiting if sub is first else sub.next(timeout=60))
    with pytest.raises(HubClosed):
        hub.subscribe("vic", VIEWER)


def test_audit_records_are_heard_by_admins_only() -> None:
    audit = AuditRecorded(
        username="vic",
        action="login",
        method="POST",
        path="/auth/token",
        outcome="success",
        status_code=201,
        request_id="x",
    )
    changes = summarise([record(audit)])

    assert changes == {Change("audit")}
    assert visible(ADMIN, changes) == changes
    assert visible(VIEWER, changes) == frozenset()
