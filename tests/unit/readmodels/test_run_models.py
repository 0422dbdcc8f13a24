"""Given run-topic events, the dag_run, task_instance, task_instance_try, xcom and sla_miss rows."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import msgspec

from couture_common.events import (
    DagParsed,
    DagRunCreated,
    DagRunDeleted,
    DagRunFinished,
    DagRunRejected,
    DagRunRequested,
    DagRunStarted,
    DagRunStateSet,
    Event,
    SlaMissed,
    TaskInstanceFinished,
    TaskInstanceQueued,
    TaskInstanceScheduled,
    TaskInstancesCleared,
    TaskInstanceStarted,
    TaskInstanceStateDecided,
    TaskInstanceStateSet,
    XComPushed,
)
from couture_common.events.run import TryOutcome
from couture_gateway.readmodels.tables import (
    dag_run,
    event_log,
    sla_miss,
    task_instance,
    task_instance_try,
    xcom,
)

from .builders import T0, ReadModels, spec

RUN = "scheduled__2024-01-01T00:00:00+00:00"


def created(run_id: str = RUN) -> DagRunCreated:
    return DagRunCreated(
        dag_id="etl",
        run_id=run_id,
        run_type="scheduled",
        logical_date=T0,
        data_interval_start=T0,
        data_interval_end=T0 + timedelta(days=1),
        dag_version="v1",
    )


def a_try(task_id: str, try_number: int, outcome: TryOutcome = "success", run_id: str = RUN) -> list[Event]:
    """The events of one try, as the scheduler and the executor send them."""
    key: dict[str, Any] = {"dag_id": "etl", "run_id": run_id, "task_id": task_id, "try_number": try_number}
    return [
        TaskInstanceScheduled(**key),
        TaskInstanceQueued(**key, max_tries=1, pool="default_pool"),
        TaskInstanceStarted(
            **key,
            hostname="worker-1",
            pid=4242,
            executor_id="executor-1",
            start_date=T0 + timedelta(hours=try_number),
            log_path=f"logs/etl/{task_id}/{try_number}.log",
        ),
        TaskInstanceFinished(
            **key,
            state=outcome,
            end_date=T0 + timedelta(hours=try_number, seconds=30),
            error="exit code 1" if outcome != "success" else None,
        ),
    ]


def pushed(try_number: int, key: str, value: str) -> XComPushed:
    return XComPushed(
        dag_id="etl", run_id=RUN, task_id="extract", try_number=try_number, key=key, value=value
    )


async def a_created_run(models: ReadModels) -> None:
    await models.given(DagParsed(dag_id="etl", version="v1", spec=spec()))
    await models.given(created(), DagRunStarted(dag_id="etl", run_id=RUN))


async def test_a_created_run_lists_every_task_with_no_state(models: ReadModels) -> None:
    await a_created_run(models)

    run = await models.one(dag_run, run_id=RUN)
    assert (run["state"], run["run_type"], run["triggered_by"]) == ("running", "scheduled", "timetable")
    assert run["data_interval_end"] == T0 + timedelta(days=1)
    tis = await models.rows(task_instance)
    assert [(t["task_id"], t["state"], t["try_number"], t["max_tries"]) for t in tis] == [
        ("extract", None, 0, 1),
        ("load", None, 0, 1),
    ]


async def test_a_triggered_run_is_queued_at_once_and_accepted_later(models: ReadModels) -> None:
    await models.given(DagParsed(dag_id="etl", version="v1", spec=spec()))
    await models.given(
        DagRunRequested(dag_id="etl", run_id="manual__1", logical_date=T0, conf={"x": 1}), actor="user:alice"
    )

    run = await models.one(dag_run, run_id="manual__1")
    assert (run["state"], run["dag_version"], run["conf"]) == ("queued", None, {"x": 1})
    assert (run["triggered_by"], run["triggering_user_name"]) == ("rest_api", "alice")
    assert [e["event"] for e in await models.rows(event_log)] == ["trigger"]

    accepted = DagRunCreated(
        dag_id="etl",
        run_id="manual__1",
        run_type="manual",
        logical_date=T0,
        data_interval_start=T0,
        data_interval_end=T0,
        conf={"x": 1},
        dag_version="v1",
        external_trigger=True,
    )
    await models.given(accepted)
    run = await models.one(dag_run, run_id="manual__1")
    assert (run["dag_version"], run["triggering_user_name"], run["queued_at"]) == (
        "v1",
        "alice",
        T0 + timedelta(seconds=2),
    )
    assert len(await models.rows(task_instance)) == 2


async def test_a_rejected_trigger_disappears_but_never_takes_an_existing_run(models: ReadModels) -> None:
    await a_created_run(models)
    await models.given(
        DagRunRequested(dag_id="etl", run_id="manual__x", logical_date=T0),
        DagRunRequested(dag_id="etl", run_id=RUN, logical_date=T0),
        actor="user:alice",
    )
    await models.given(
        DagRunRejected(dag_id="etl", run_id="manual__x", reason="DAG is paused"),
        DagRunRejected(dag_id="etl", run_id=RUN, reason="run_id exists"),
    )

    assert [r["run_id"] for r in await models.rows(dag_run)] == [RUN]
    assert [e["event"] for e in await models.rows(event_log)] == [
        "trigger",
        "trigger",
        "trigger_rejected",
        "trigger_rejected",
    ]


async def test_a_retried_task_keeps_one_row_per_try(models: ReadModels) -> None:
    await a_created_run(models)
    await models.given(*a_try("extract", 1, "up_for_retry"), *a_try("extract", 2, "success"))

    ti = await models.one(task_instance, task_id="extract")
    assert (ti["state"], ti["try_number"], ti["hostname"], ti["pid"]) == ("success", 2, "worker-1", 4242)
    assert ti["start_date"] == T0 + timedelta(hours=2)
    assert ti["duration"] == 30.0
    tries = await models.rows(task_instance_try, task_id="extract")
    assert [(t["try_number"], t["state"], t["log_path"], t["error"]) for t in tries] == [
        (1, "failed", "logs/etl/extract/1.log", "exit code 1"),
        (2, "success", "logs/etl/extract/2.log", None),
    ]


async def test_a_late_result_of_an_earlier_try_changes_nothing(models: ReadModels) -> None:
    await a_created_run(models)
    first_try = a_try("extract", 1, "up_for_retry")
    await models.given(*first_try, *a_try("extract", 2, "success"))
    before = await models.dump()

    await models.given(
        first_try[-1],
        TaskInstanceFinished(
            dag_id="etl", run_id=RUN, task_id="extract", try_number=2, state="failed", end_date=T0
        ),
    )

    assert await models.dump() == before


async def test_every_event_applied_twice_gives_the_same_tables(models: ReadModels) -> None:
    await a_created_run(models)
    await models.given(
        *a_try("extract", 1, "up_for_retry"),
        pushed(1, "k", "1"),
        *a_try("extract", 2),
        pushed(2, "k", "2"),
        SlaMissed(dag_id="etl", run_id=RUN, task_id="load", logical_date=T0, deadline=T0),
        TaskInstanceStateDecided(dag_id="etl", run_id=RUN, task_id="load", state="upstream_failed"),
        DagRunFinished(dag_id="etl", run_id=RUN, state="failed"),
    )
    once = await models.dump()

    for record in list(models.history):
        await models.apply(record)
    await models.apply(*models.history)

    assert await models.dump() == once


async def test_clearing_runs_the_task_again_and_ignores_the_cleared_try(models: ReadModels) -> None:
    await a_created_run(models)
    first = a_try("extract", 1, "success")
    await models.given(*first[:3], DagRunFinished(dag_id="etl", run_id=RUN, state="failed"))
    await models.given(
        TaskInstancesCleared(dag_id="etl", run_id=RUN, task_ids=("extract",)), actor="user:alice"
    )

    ti = await models.one(task_instance, task_id="extract")
    assert (ti["state"], ti["try_number"], ti["max_tries"], ti["start_date"]) == (None, 1, 2, None)
    run = await models.one(dag_run, run_id=RUN)
    assert (run["state"], run["end_date"], run["clear_number"]) == ("queued", None, 1)

    await models.given(first[3])
    assert (await models.one(task_instance, task_id="extract"))["state"] is None

    await models.given(*a_try("extract", 2, "success"))
    assert (await models.one(task_instance, task_id="extract"))["state"] == "success"
    assert [e["event"] for e in await models.rows(event_log)] == ["clear"]


async def test_marking_a_run_failed_fails_running_tasks_and_skips_the_rest(models: ReadModels) -> None:
    await a_created_run(models)
    await models.given(*a_try("extract", 1)[:3])
    await models.given(DagRunStateSet(dag_id="etl", run_id=RUN, state="failed"), actor="user:alice")

    assert {t["task_id"]: t["state"] for t in await models.rows(task_instance)} == {
        "extract": "failed",
        "load": "skipped",
    }
    assert (await models.one(task_instance_try, task_id="extract"))["state"] == "failed"
    assert (await models.one(dag_run, run_id=RUN))["state"] == "failed"
    entry = (await models.rows(event_log))[-1]
    assert (entry["event"], json.loads(entry["extra"])) == ("dag_run.set_state", {"state": "failed"})


async def test_marking_a_run_success_succeeds_every_unfinished_task(models: ReadModels) -> None:
    await a_created_run(models)
    await models.given(*a_try("extract", 1, "failed"))
    await models.given(DagRunStateSet(dag_id="etl", run_id=RUN, state="success"), actor="user:alice")

    assert {t["task_id"]: t["state"] for t in await models.rows(task_instance)} == {
        "extract": "failed",
        "load": "success",
    }


async def test_a_task_marked_by_a_user_ignores_its_running_tries_result(models: ReadModels) -> None:
    await a_created_run(models)
    running = a_try("extract", 1, "failed")
    await models.given(*running[:3])
    await models.given(
        TaskInstanceStateSet(dag_id="etl", run_id=RUN, task_id="extract", state="success"), actor="user:bob"
    )
    await models.given(running[3])

    assert (await models.one(task_instance, task_id="extract"))["state"] == "success"
    assert (await models.one(task_instance_try, task_id="extract"))["state"] == "success"
    entry = await models.one(event_log)
    assert (entry["event"], entry["owner"], entry["task_id"], entry["try_number"]) == (
        "task_instance.set_state",
        "bob",
        "extract",
        1,
    )


async def test_the_scheduler_settles_only_tasks_that_have_not_started(models: ReadModels) -> None:
    await a_created_run(models)
    await models.given(*a_try("extract", 1)[:3])
    await models.given(
        TaskInstanceStateDecided(dag_id="etl", run_id=RUN, task_id="extract", state="upstream_failed"),
        TaskInstanceStateDecided(dag_id="etl", run_id=RUN, task_id="load", state="skipped"),
    )

    assert {t["task_id"]: t["state"] for t in await models.rows(task_instance)} == {
        "extract": "running",
        "load": "skipped",
    }


async def test_a_new_try_drops_the_xcoms_of_earlier_tries(models: ReadModels) -> None:
    await a_created_run(models)
    await models.given(
        *a_try("extract", 1, "up_for_retry")[:3],
        pushed(1, "rows", "10"),
        XComPushed(
            dag_id="etl", run_id=RUN, task_id="extract", try_number=1, key="return_value", value='"a"'
        ),
        a_try("extract", 1, "up_for_retry")[3],
        *a_try("extract", 2)[:3],
        XComPushed(
            dag_id="etl", run_id=RUN, task_id="extract", try_number=2, key="return_value", value='"b"'
        ),
    )
    await models.given(pushed(1, "late", "0"))

    assert [(x["key"], x["value"], x["try_number"]) for x in await models.rows(xcom)] == [
        ("return_value", '"b"', 2)
    ]


async def test_deleting_a_run_deletes_its_tasks_tries_and_xcoms(models: ReadModels) -> None:
    await a_created_run(models)
    await models.given(
        *a_try("extract", 1),
        pushed(1, "k", "1"),
        SlaMissed(dag_id="etl", run_id=RUN, task_id="load", logical_date=T0, deadline=T0),
    )
    await models.given(DagRunDeleted(dag_id="etl", run_id=RUN), actor="user:alice")

    for table in (dag_run, task_instance, task_instance_try, xcom, sla_miss):
        assert await models.rows(table) == [], table.name
    assert (await models.rows(event_log))[-1]["event"] == "dag_run.delete"


async def test_an_sla_miss_is_recorded_once_per_task_instance(models: ReadModels) -> None:
    await a_created_run(models)
    miss = SlaMissed(
        dag_id="etl", run_id=RUN, task_id="load", logical_date=T0, deadline=T0 + timedelta(hours=1)
    )
    await models.given(miss)
    first = await models.one(sla_miss)
    await models.given(miss)

    assert await models.rows(sla_miss) == [first]
    assert first["deadline"] == T0 + timedelta(hours=1)


async def test_a_run_that_ends_early_skips_its_unfinished_tasks(models: ReadModels) -> None:
    await a_created_run(models)
    await models.given(*a_try("extract", 1))
    await models.given(DagRunFinished(dag_id="etl", run_id=RUN, state="failed", reason="dagrun_timeout"))

    assert {t["task_id"]: t["state"] for t in await models.rows(task_instance)} == {
        "extract": "success",
        "load": "skipped",
    }


async def test_late_events_of_a_deleted_run_leave_nothing_behind(models: ReadModels) -> None:
    await a_created_run(models)
    running = a_try("extract", 1)
    await models.given(*running[:3])
    await models.given(DagRunDeleted(dag_id="etl", run_id=RUN), actor="user:alice")

    await models.given(running[3], pushed(1, "return_value", "1"))

    for table in (dag_run, task_instance, task_instance_try, xcom):
        assert await models.rows(table) == [], table.name


async def test_a_task_that_starts_after_the_run_gets_no_instance(models: ReadModels) -> None:
    later = spec()
    tasks = (later.tasks[0], msgspec.structs.replace(later.tasks[1], start_date=T0 + timedelta(days=30)))
    await models.given(
        DagParsed(dag_id="etl", version="v1", spec=msgspec.structs.replace(later, tasks=tasks))
    )
    await models.given(created())

    assert [t["task_id"] for t in await models.rows(task_instance)] == ["extract"]
