"""Read-model rows turned into Airflow-shaped answers. Pure: rows in, response models out."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from couture_common.dagspec import DagSpec, TaskSpec
from couture_gateway.readmodels.fold.schedule import next_dagrun
from couture_gateway.schemas.dag_runs import DAGRunResponse
from couture_gateway.schemas.dags import DAGDetailsResponse, DAGResponse, DagTagResponse, DagVersionResponse
from couture_gateway.schemas.task_instances import TaskInstanceHistoryResponse, TaskInstanceResponse
from couture_gateway.schemas.tasks import TaskResponse, TimeDelta

Row = Mapping[Any, Any]

_NAMESPACE = uuid.UUID("6f1c7f3e-2b7a-4e59-9a51-6d0c8f1b2a90")
#: Our run types in Airflow 3's words (Airflow 3 renamed datasets to assets).
_RUN_TYPES = {"dataset_triggered": "asset_triggered"}
#: Schedule kinds (``ScheduleSpec.kind``) that create runs at regular intervals.
_PERIODIC = {"cron", "delta"}


def stable_id(*parts: object) -> uuid.UUID:
    """Airflow gives rows UUIDs; ours are derived from the natural key, so rebuilds keep them."""
    return uuid.uuid5(_NAMESPACE, "\x1f".join(str(p) for p in parts))


def relative_fileloc(fileloc: str, dags_folder: Path) -> str | None:
    try:
        return str(Path(fileloc).relative_to(dags_folder))
    except ValueError:
        return None


def dag_response(row: Row, dags_folder: Path, now: datetime) -> DAGResponse:
    return DAGResponse(**_dag_fields(row, dags_folder, now))


def dag_details_response(
    row: Row, spec: DagSpec, version: Row | None, active_runs: int, dags_folder: Path, now: datetime
) -> DAGDetailsResponse:
    timeout = spec.dagrun_timeout
    return DAGDetailsResponse(
        **_dag_fields(row, dags_folder, now),
        catchup=spec.catchup,
        dag_run_timeout=timedelta(seconds=timeout) if timeout is not None else None,
        doc_md=spec.doc_md,
        start_date=spec.start_date,
        end_date=spec.end_date,
        is_paused_upon_creation=spec.is_paused_upon_creation,
        params=dict(spec.params),
        render_template_as_native_obj=False,
        timezone=spec.timezone,
        last_parsed=row["last_parsed_time"],
        owner_links={},
        is_favorite=False,
        active_runs_count=active_runs,
        latest_dag_version=dag_version_response(version) if version else None,
        concurrency=spec.max_active_tasks,
    )


def _dag_fields(row: Row, dags_folder: Path, now: datetime) -> dict[str, Any]:
    """``now`` places the next automated run, which depends on the current time without catchup."""
    dag_id = row["dag_id"]
    schedule = row["schedule"] or {}
    periodic = schedule.get("kind") in _PERIODIC
    return {
        "dag_id": dag_id,
        "dag_display_name": dag_id,
        "is_paused": row["is_paused"],
        "is_stale": not row["is_active"],
        "last_parsed_time": row["last_parsed_time"],
        "fileloc": row["fileloc"],
        "relative_fileloc": relative_fileloc(row["fileloc"], dags_folder),
        "description": row["description"],
        "timetable_summary": row["timetable_summary"],
        "timetable_description": row["timetable_description"],
        "timetable_periodic": periodic,
        "timetable_partitioned": False,
        "tags": [DagTagResponse(name=t, dag_id=dag_id, dag_display_name=dag_id) for t in row["tags"]],
        "max_active_tasks": row["max_active_tasks"],
        "max_active_runs": row["max_active_runs"],
        "max_consecutive_failed_dag_runs": 0,
        # Tasks carry no per-task concurrency limits (max_active_tis_per_dag) in Couture.
        "has_task_concurrency_limits": False,
        "has_import_errors": row["has_import_errors"],
        "is_backfillable": periodic,
        **next_dagrun(dict(row), now),
        "owners": list(row["owners"]),
        "file_token": row["latest_version"],
    }


def dag_version_response(row: Row) -> DagVersionResponse:
    return DagVersionResponse(
        id=stable_id("dag_version", row["dag_id"], row["version"]),
        version_number=row["version_number"],
        dag_id=row["dag_id"],
        dag_display_name=row["dag_id"],
        bundle_name="dags-folder",
        bundle_version=row["version"],
        created_at=row["created_at"],
    )


def dag_run_response(row: Row, versions: Sequence[Row] = ()) -> DAGRunResponse:
    start, end = row["start_date"], row["end_date"]
    return DAGRunResponse(
        dag_run_id=row["run_id"],
        dag_id=row["dag_id"],
        logical_date=row["logical_date"],
        queued_at=row["queued_at"],
        start_date=start,
        end_date=end,
        duration=_seconds(start, end),
        data_interval_start=row["data_interval_start"],
        data_interval_end=row["data_interval_end"],
        run_after=row["run_after"],
        last_scheduling_decision=row["last_scheduling_decision"],
        run_type=_RUN_TYPES.get(row["run_type"], row["run_type"]),
        state=row["state"],
        triggered_by=row["triggered_by"],
        triggering_user_name=row["triggering_user_name"],
        conf=row["conf"],
        note=row["note"],
        dag_versions=[dag_version_response(v) for v in versions],
        bundle_version=row["dag_version"],
        dag_display_name=row["dag_id"],
    )


def task_response(spec: DagSpec, task: TaskSpec) -> TaskResponse:
    downstream = [t.task_id for t in spec.tasks if task.task_id in t.upstream]
    return TaskResponse(
        task_id=task.task_id,
        task_display_name=task.task_id,
        owner=task.owner,
        start_date=task.start_date,
        end_date=task.end_date,
        trigger_rule=task.trigger_rule,
        depends_on_past=task.depends_on_past,
        wait_for_downstream=task.wait_for_downstream,
        retries=task.retries,
        queue=task.queue,
        pool=task.pool,
        pool_slots=task.pool_slots,
        execution_timeout=(
            TimeDelta.from_seconds(task.execution_timeout) if task.execution_timeout is not None else None
        ),
        retry_delay=TimeDelta.from_seconds(task.retry_delay),
        # Airflow 3 reports the backoff as a multiplier: 2.0 doubles the delay each try, 0 is off.
        retry_exponential_backoff=2.0 if task.retry_exponential_backoff else 0.0,
        priority_weight=task.priority_weight,
        weight_rule=task.weight_rule,
        ui_color=task.ui_color,
        ui_fgcolor=task.ui_fgcolor,
        template_fields=list(task.template_fields),
        downstream_task_ids=downstream,
        doc_md=task.doc_md,
        operator_name=task.operator,
        params={},
        class_ref={"class_name": task.operator, "module_path": None},
        is_mapped=False,
        extra_links=[TRIGGERED_DAG_LINK] if run_dag_id(task) else [],
        couture_run_dag_id=run_dag_id(task),
    )


#: Airflow's name for the link from a task that triggers a DAG run to that run.
TRIGGERED_DAG_LINK = "Triggered DAG"


def run_dag_id(task: TaskSpec) -> str | None:
    """A DagOperator's target, from the arguments its spec shows (``spec_extra``)."""
    target = task.operator_extra.get("run_dag_id")
    return target if isinstance(target, str) else None


def _ti_history_fields(row: Row, version: Row | None, rendered: Row | None) -> dict[str, Any]:
    return {
        "task_id": row["task_id"],
        "dag_id": row["dag_id"],
        "dag_run_id": row["run_id"],
        "map_index": row["map_index"],
        "start_date": row["start_date"],
        "end_date": row["end_date"],
        "duration": row["duration"],
        "state": row["state"],
        "try_number": row["try_number"],
        "max_tries": row["max_tries"],
        "task_display_name": row["task_id"],
        "dag_display_name": row["dag_id"],
        "hostname": row["hostname"],
        "pool": row["pool"],
        "pool_slots": row["pool_slots"],
        "queue": row["queue"],
        "priority_weight": row["priority_weight"],
        "operator": row["operator"],
        "operator_name": row["operator"],
        "queued_when": row["queued_when"],
        "pid": row["pid"],
        "executor": row["executor"],
        "executor_config": "{}",
        "dag_version": dag_version_response(version) if version else None,
        "rendered_fields": rendered["rendered_fields"] if rendered else None,
    }


def task_instance_response(
    row: Row, run: Row, version: Row | None = None, rendered: Row | None = None
) -> TaskInstanceResponse:
    return TaskInstanceResponse(
        **_ti_history_fields(row, version, rendered),
        id=stable_id("ti", row["dag_id"], row["run_id"], row["task_id"], row["map_index"]),
        scheduled_when=row["scheduled_when"],
        logical_date=run["logical_date"],
        run_after=run["run_after"],
        note=row["note"],
    )


def task_instance_try_response(
    row: Row, version: Row | None = None, rendered: Row | None = None
) -> TaskInstanceHistoryResponse:
    return TaskInstanceHistoryResponse(**_ti_history_fields(row, version, rendered))


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()
