"""Topic ``run``: DAG runs, task instances and their tries, XComs and SLA misses.

Every change here is safe to apply twice. Task-instance results carry ``try_number`` and are
applied only when they move the instance's ``(try_number, try_phase)`` forward, like the
scheduler's own fold: a redelivered or late result for a try that already ended, or that a user
cleared or marked, changes nothing.
"""

from __future__ import annotations

import functools
import operator
from datetime import datetime
from typing import Any

from couture_common.clock import ensure_utc
from couture_common.events import (
    DagRunCreated,
    DagRunDeleted,
    DagRunFinished,
    DagRunNoteSet,
    DagRunRejected,
    DagRunRequested,
    DagRunStarted,
    DagRunStateSet,
    SlaMissed,
    TaskInstanceFinished,
    TaskInstanceNoteSet,
    TaskInstanceQueued,
    TaskInstanceScheduled,
    TaskInstancesCleared,
    TaskInstanceStarted,
    TaskInstanceStateDecided,
    TaskInstanceStateSet,
    XComPushed,
)
from couture_gateway.readmodels.fold import audit
from couture_gateway.readmodels.fold.context import Context
from couture_gateway.readmodels.fold.schedule import following_logical_date
from couture_gateway.readmodels.rowset import KEYS, Row, RowSet, Scope
from couture_gateway.readmodels.tables import (
    dag,
    dag_run,
    dag_version,
    sla_miss,
    task_instance,
    task_instance_try,
    xcom,
)

FINISHED = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
#: States the scheduler may still settle without running the task (as its own fold allows).
_UNSTARTED = frozenset({None, "scheduled", "up_for_retry"})
_IN_FLIGHT = frozenset({"queued", "running"})
_RUN_ENDED = frozenset({"success", "failed"})
_AUTOMATED = frozenset({"scheduled", "backfill"})

# try_phase: how far the current try got.
SCHEDULED, QUEUED, RUNNING, DONE = 1, 2, 3, 4

_RUN_TABLES = (dag_run, task_instance, task_instance_try, xcom, sla_miss)


def run_scopes(event: Any) -> list[Scope]:
    scopes = _of_run(event.dag_id, event.run_id)
    if isinstance(event, DagRunCreated):
        return [
            *scopes,
            Scope(dag_version.name, ("dag_id", "version"), (event.dag_id, event.dag_version)),
            Scope(dag.name, ("dag_id",), (event.dag_id,)),
        ]
    if isinstance(event, TaskInstancesCleared):
        # The run's version is only known once its row is read: load them all (clears are rare).
        return [*scopes, Scope(dag_version.name, ("dag_id",), (event.dag_id,))]
    return scopes


@functools.lru_cache(maxsize=4096)
def _of_run(dag_id: str, run_id: str) -> list[Scope]:
    # Cached: a run's events come in streaks and this is on every event's path. Callers never mutate.
    return [Scope(t.name, ("dag_id", "run_id"), (dag_id, run_id)) for t in _RUN_TABLES]


# --- DAG runs ------------------------------------------------------------------------------------


def _triggered_by(run_type: str, triggered_by_task: str | None, ctx: Context) -> str:
    """Airflow's DagRunTriggeredByType for how this run came to be."""
    if run_type == "scheduled":
        return "timetable"
    if run_type == "backfill":
        return "backfill"
    if run_type == "dataset_triggered":
        return "asset"
    if triggered_by_task is not None:
        return "operator"
    return "rest_api" if ctx.user else "cli"


def requested(rows: RowSet, event: DagRunRequested, ctx: Context) -> None:
    key = (event.dag_id, event.run_id)
    if rows.get(dag_run, key) is None:
        # Shown as queued at once so the caller can read back the run it triggered.
        rows.put(
            dag_run,
            {
                "dag_id": event.dag_id,
                "run_id": event.run_id,
                "state": "queued",
                "run_type": event.run_type,
                "logical_date": event.logical_date,
                "run_after": event.logical_date,
                "data_interval_start": event.data_interval_start,
                "data_interval_end": event.data_interval_end,
                "queued_at": ctx.time,
                "start_date": None,
                "end_date": None,
                "last_scheduling_decision": None,
                "conf": event.conf,
                "external_trigger": True,
                "triggered_by": _triggered_by(event.run_type, event.triggered_by_task, ctx),
                "triggering_user_name": ctx.user,
                "triggered_by_task": event.triggered_by_task,
                "note": event.note,
                "dag_version": None,
                "clear_number": 0,
            },
        )
    audit.record(
        rows,
        ctx,
        "trigger",
        dag_id=event.dag_id,
        run_id=event.run_id,
        logical_date=event.logical_date,
        extra={"run_type": event.run_type, "triggered_by_task": event.triggered_by_task},
    )


def created(rows: RowSet, event: DagRunCreated, ctx: Context) -> None:
    key = (event.dag_id, event.run_id)
    run = rows.get(dag_run, key)
    if run is not None and run["dag_version"] is not None:
        return
    rows.put(
        dag_run,
        {
            "dag_id": event.dag_id,
            "run_id": event.run_id,
            "state": run["state"] if run else "queued",
            "run_type": event.run_type,
            "logical_date": event.logical_date,
            "run_after": event.logical_date,
            "data_interval_start": event.data_interval_start,
            "data_interval_end": event.data_interval_end,
            "queued_at": run["queued_at"] if run else ctx.time,
            "start_date": None,
            "end_date": None,
            "last_scheduling_decision": ctx.time,
            "conf": event.conf,
            "external_trigger": event.external_trigger,
            "triggered_by": run["triggered_by"]
            if run
            else _triggered_by(event.run_type, event.triggered_by_task, ctx),
            "triggering_user_name": run["triggering_user_name"] if run else None,
            "triggered_by_task": event.triggered_by_task,
            "note": event.note,
            "dag_version": event.dag_version,
            "clear_number": 0,
        },
    )
    if event.run_type in _AUTOMATED:
        _record_automated_interval(rows, event)
    version = rows.get(dag_version, (event.dag_id, event.dag_version))
    if version is None:
        return
    # Every task of the run's DAG version gets an instance with no state, as in Airflow, except a
    # task that starts after, or ended before, this run's logical date.
    for task in version["spec"]["tasks"]:
        start, end = _spec_date(task.get("start_date")), _spec_date(task.get("end_date"))
        if start is not None and start > event.logical_date:
            continue
        if end is not None and end < event.logical_date:
            continue
        ti_key = (event.dag_id, event.run_id, task["task_id"], -1)
        if rows.get(task_instance, ti_key) is None:
            rows.put(task_instance, _new_ti(ti_key, task))


def _record_automated_interval(rows: RowSet, event: DagRunCreated) -> None:
    """A scheduled or backfill run moves the DAG's next run past its interval (never back)."""
    row = rows.get(dag, (event.dag_id,))
    last = None if row is None else row["last_automated_data_interval_start"]
    if row is None or (last is not None and event.data_interval_start <= last):
        return
    rows.update(
        dag,
        row,
        last_automated_data_interval_start=event.data_interval_start,
        last_automated_data_interval_end=event.data_interval_end,
        next_dagrun_logical_date=following_logical_date(row, event.data_interval_end),
    )


def _spec_date(value: str | None) -> datetime | None:
    return None if value is None else ensure_utc(datetime.fromisoformat(value))


def rejected(rows: RowSet, event: DagRunRejected, ctx: Context) -> None:
    run = rows.get(dag_run, (event.dag_id, event.run_id))
    # Only a request the scheduler never accepted goes; a duplicate run_id leaves the real run alone.
    if run is not None and run["dag_version"] is None:
        rows.delete(dag_run, (event.dag_id, event.run_id))
    audit.record(
        rows,
        ctx,
        "trigger_rejected",
        dag_id=event.dag_id,
        run_id=event.run_id,
        extra={"reason": event.reason},
    )


def started(rows: RowSet, event: DagRunStarted, ctx: Context) -> None:
    run = rows.get(dag_run, (event.dag_id, event.run_id))
    if run is not None and run["state"] == "queued":
        rows.update(dag_run, run, state="running", start_date=ctx.time, last_scheduling_decision=ctx.time)


def finished(rows: RowSet, event: DagRunFinished, ctx: Context) -> None:
    run = rows.get(dag_run, (event.dag_id, event.run_id))
    if run is None or run["state"] in _RUN_ENDED:
        return
    rows.update(dag_run, run, state=event.state, end_date=ctx.time, last_scheduling_decision=ctx.time)
    # A run that ended early (dagrun_timeout, deadlock) skips what had not finished, as Airflow does.
    for ti in rows.where(task_instance, dag_id=event.dag_id, run_id=event.run_id):
        if ti["state"] not in FINISHED:
            _settle(rows, ti, "skipped", ctx)


def state_set(rows: RowSet, event: DagRunStateSet, ctx: Context) -> None:
    run = rows.get(dag_run, (event.dag_id, event.run_id))
    if run is not None and run["state"] != event.state:
        ended = event.state in _RUN_ENDED
        rows.update(dag_run, run, state=event.state, end_date=ctx.time if ended else None)
        if ended:
            _mark_unfinished(rows, event, ctx)
    audit.record(
        rows, ctx, "dag_run.set_state", dag_id=event.dag_id, run_id=event.run_id, extra={"state": event.state}
    )


def note_set(rows: RowSet, event: DagRunNoteSet, ctx: Context) -> None:
    run = rows.get(dag_run, (event.dag_id, event.run_id))
    if run is not None and run["note"] != event.note:
        rows.update(dag_run, run, note=event.note)
    audit.record(rows, ctx, "dag_run.set_note", dag_id=event.dag_id, run_id=event.run_id)


def _mark_unfinished(rows: RowSet, event: DagRunStateSet, ctx: Context) -> None:
    """Airflow's mark success / mark failed: unfinished tasks follow the run."""
    for ti in rows.where(task_instance, dag_id=event.dag_id, run_id=event.run_id):
        if ti["state"] in FINISHED:
            continue
        if event.state == "success":
            state = "success"
        else:
            state = "failed" if ti["state"] in _IN_FLIGHT else "skipped"
        _settle(rows, ti, state, ctx)


def deleted(rows: RowSet, event: DagRunDeleted, ctx: Context) -> None:
    rows.delete(dag_run, (event.dag_id, event.run_id))
    for table in _RUN_TABLES[1:]:
        for row in rows.where(table, dag_id=event.dag_id, run_id=event.run_id):
            rows.delete(table, _key(table.name, row))
    audit.record(rows, ctx, "dag_run.delete", dag_id=event.dag_id, run_id=event.run_id)


def cleared(rows: RowSet, event: TaskInstancesCleared, ctx: Context) -> None:
    run = rows.get(dag_run, (event.dag_id, event.run_id))
    chosen = set(event.task_ids)
    if run is not None:
        version = rows.get(dag_version, (event.dag_id, run["dag_version"])) if run["dag_version"] else None
        retries = {t["task_id"]: t["retries"] for t in version["spec"]["tasks"]} if version else {}
        for ti in rows.where(task_instance, dag_id=event.dag_id, run_id=event.run_id):
            if ti["task_id"] not in chosen:
                continue
            task_retries = retries.get(ti["task_id"])
            # The current try is closed, so its late result cannot undo the clear; tries keep
            # counting and the task gets its full retries again.
            rows.update(
                task_instance,
                ti,
                state=None,
                try_phase=DONE,
                start_date=None,
                end_date=None,
                duration=None,
                max_tries=ti["max_tries"] if task_retries is None else ti["try_number"] + task_retries,
            )
        if event.reset_dag_run and run["state"] in _RUN_ENDED:
            rows.update(
                dag_run,
                run,
                state="queued",
                start_date=None,
                end_date=None,
                last_scheduling_decision=None,
                clear_number=run["clear_number"] + 1,
            )
    audit.record(
        rows,
        ctx,
        "clear",
        dag_id=event.dag_id,
        run_id=event.run_id,
        extra={"task_ids": sorted(chosen), "reset_dag_run": event.reset_dag_run},
    )


# --- task instances ------------------------------------------------------------------------------


def _new_ti(key: tuple[str, str, str, int], task: dict[str, Any] | None = None) -> Row:
    task = task or {}
    return {
        "dag_id": key[0],
        "run_id": key[1],
        "task_id": key[2],
        "map_index": key[3],
        "state": None,
        "try_number": 0,
        "try_phase": 0,
        "max_tries": task.get("retries", 0),
        "start_date": None,
        "end_date": None,
        "duration": None,
        "hostname": None,
        "pid": None,
        "executor": None,
        "pool": task.get("pool", "default_pool"),
        "pool_slots": task.get("pool_slots", 1),
        "queue": task.get("queue", "default"),
        "priority_weight": task.get("priority_weight", 1),
        "operator": task.get("operator"),
        "scheduled_when": None,
        "queued_when": None,
        "note": None,
    }


def _ti(rows: RowSet, event: Any) -> Row | None:
    """The instance an event names; None when its run is gone (a late event after a delete)."""
    key = (event.dag_id, event.run_id, event.task_id, event.map_index)
    found = rows.get(task_instance, key)
    if found is not None:
        return found
    return None if rows.get(dag_run, key[:2]) is None else _new_ti(key)


def _advance(rows: RowSet, event: Any, phase: int, **changes: Any) -> Row | None:
    """Move the instance to ``phase`` of ``event.try_number``, unless it is already there or past."""
    ti = _ti(rows, event)
    if ti is None or (event.try_number, phase) <= (ti["try_number"], ti["try_phase"]):
        return None
    if event.try_number > ti["try_number"]:
        ti = {
            **ti,
            "start_date": None,
            "end_date": None,
            "duration": None,
            "hostname": None,
            "pid": None,
            "executor": None,
        }
    return rows.update(task_instance, ti, **changes, try_number=event.try_number, try_phase=phase)


def _duration(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start is not None and end is not None else None


def _put_try(rows: RowSet, ti: Row, **changes: Any) -> None:
    key = (ti["dag_id"], ti["run_id"], ti["task_id"], ti["map_index"], ti["try_number"])
    current = rows.get(task_instance_try, key) or {
        "dag_id": key[0],
        "run_id": key[1],
        "task_id": key[2],
        "map_index": key[3],
        "try_number": key[4],
        "log_path": None,
        "error": None,
    }
    copied = dict(zip(_TRY_COPIED, _try_copied(ti), strict=True))
    rows.put(task_instance_try, {**current, **copied, **changes})


#: The columns a try takes from its task instance (read with one itemgetter: on every try event).
_TRY_COPIED = (
    "state",
    "max_tries",
    "start_date",
    "end_date",
    "duration",
    "hostname",
    "pid",
    "executor",
    "pool",
    "pool_slots",
    "queue",
    "priority_weight",
    "operator",
    "queued_when",
)
_try_copied = operator.itemgetter(*_TRY_COPIED)


def ti_scheduled(rows: RowSet, event: TaskInstanceScheduled, ctx: Context) -> None:
    _advance(rows, event, SCHEDULED, state="scheduled", scheduled_when=ctx.time)


def ti_queued(rows: RowSet, event: TaskInstanceQueued, ctx: Context) -> None:
    ti = _advance(
        rows,
        event,
        QUEUED,
        state="queued",
        max_tries=event.max_tries,
        pool=event.pool,
        pool_slots=event.pool_slots,
        priority_weight=event.priority_weight,
        queue=event.queue,
        queued_when=ctx.time,
    )
    if ti is not None:
        _put_try(rows, ti)


def ti_started(rows: RowSet, event: TaskInstanceStarted, ctx: Context) -> None:
    ti = _advance(
        rows,
        event,
        RUNNING,
        state="running",
        start_date=event.start_date,
        end_date=None,
        duration=None,
        hostname=event.hostname,
        pid=event.pid,
        executor=event.executor_id,
    )
    if ti is not None:
        _put_try(rows, ti, log_path=event.log_path)
        _drop_earlier_xcoms(rows, event)


def ti_finished(rows: RowSet, event: TaskInstanceFinished, ctx: Context) -> None:
    before = _ti(rows, event)
    if before is None:
        return
    start = event.start_date or (before["start_date"] if before["try_number"] == event.try_number else None)
    ti = _advance(
        rows,
        event,
        DONE,
        state=event.state,
        start_date=start,
        end_date=event.end_date,
        duration=_duration(start, event.end_date),
    )
    if ti is not None:
        # The try itself failed even when the instance goes on to retry.
        _put_try(
            rows, ti, state="failed" if event.state == "up_for_retry" else event.state, error=event.error
        )


def ti_state_decided(rows: RowSet, event: TaskInstanceStateDecided, ctx: Context) -> None:
    ti = _ti(rows, event)
    if ti is not None and ti["state"] in _UNSTARTED:
        _settle(rows, ti, event.state, ctx)


def ti_state_set(rows: RowSet, event: TaskInstanceStateSet, ctx: Context) -> None:
    ti = _ti(rows, event)
    if ti is not None and ti["state"] != event.state:
        ti = _settle(rows, ti, event.state, ctx)
    audit.record(
        rows,
        ctx,
        "task_instance.set_state",
        dag_id=event.dag_id,
        run_id=event.run_id,
        task_id=event.task_id,
        map_index=event.map_index,
        try_number=ti["try_number"] if ti else None,
        extra={"state": event.state},
    )


def ti_note_set(rows: RowSet, event: TaskInstanceNoteSet, ctx: Context) -> None:
    found = _ti(rows, event)
    if found is not None and found["note"] != event.note:
        rows.put(task_instance, {**found, "note": event.note})
    audit.record(
        rows, ctx, "task_instance.set_note", dag_id=event.dag_id, run_id=event.run_id, task_id=event.task_id
    )


def _settle(rows: RowSet, ti: Row, state: str, ctx: Context) -> Row:
    """Airflow's ``set_state`` to a finished state; the current try takes no later result."""
    start = ti["start_date"] or ctx.time
    new = rows.update(
        task_instance,
        ti,
        state=state,
        try_phase=DONE,
        start_date=start,
        end_date=ctx.time,
        duration=_duration(start, ctx.time),
    )
    if ti["state"] in _IN_FLIGHT:
        # The try in flight ends here too (the scheduler kills it).
        _put_try(rows, new)
    return new


# --- XComs and SLA misses ------------------------------------------------------------------------


def xcom_pushed(rows: RowSet, event: XComPushed, ctx: Context) -> None:
    ti = _ti(rows, event)
    if ti is None or event.try_number < ti["try_number"]:
        return
    _drop_earlier_xcoms(rows, event)
    rows.put(
        xcom,
        {
            "dag_id": event.dag_id,
            "run_id": event.run_id,
            "task_id": event.task_id,
            "map_index": event.map_index,
            "key": event.key,
            "value": event.value,
            "try_number": event.try_number,
            "timestamp": ctx.time,
        },
    )


def _drop_earlier_xcoms(rows: RowSet, event: TaskInstanceStarted | XComPushed) -> None:
    """A new try of a task starts with none of its earlier tries' XComs, as in Airflow."""
    for row in rows.where(
        xcom, dag_id=event.dag_id, run_id=event.run_id, task_id=event.task_id, map_index=event.map_index
    ):
        if row["try_number"] < event.try_number:
            rows.delete(xcom, _key(xcom.name, row))


def sla_missed(rows: RowSet, event: SlaMissed, ctx: Context) -> None:
    key = (event.dag_id, event.run_id, event.task_id, event.map_index)
    if rows.get(dag_run, key[:2]) is not None and rows.get(sla_miss, key) is None:
        rows.put(
            sla_miss,
            {
                "dag_id": event.dag_id,
                "run_id": event.run_id,
                "task_id": event.task_id,
                "map_index": event.map_index,
                "logical_date": event.logical_date,
                "deadline": event.deadline,
                "timestamp": ctx.time,
            },
        )


def _key(table: str, row: Row) -> tuple[Any, ...]:
    return tuple(row[c] for c in KEYS[table])
