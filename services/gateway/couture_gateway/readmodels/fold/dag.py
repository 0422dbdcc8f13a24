"""Topic ``dag``: DAGs, their parsed versions, tags, import errors and pause state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from couture_common.clock import ensure_utc
from couture_common.dagspec import DagSpec, ScheduleSpec
from couture_common.events import (
    DagFileProcessed,
    DagFileRemoved,
    DagImportFailed,
    DagParsed,
    DagPausedSet,
)
from couture_gateway.readmodels.fold import audit
from couture_gateway.readmodels.fold.context import Context
from couture_gateway.readmodels.fold.schedule import next_dagrun
from couture_gateway.readmodels.rowset import RowSet, Scope
from couture_gateway.readmodels.tables import dag, dag_tag, dag_version, import_error


def parsed_scopes(event: DagParsed) -> list[Scope]:
    return [Scope(t.name, ("dag_id",), (event.dag_id,)) for t in (dag, dag_tag, dag_version)]


def file_scopes(event: DagImportFailed | DagFileProcessed | DagFileRemoved) -> list[Scope]:
    return [
        Scope(dag.name, ("fileloc",), (event.fileloc,)),
        Scope(import_error.name, ("filename",), (event.fileloc,)),
    ]


def paused_scopes(event: DagPausedSet) -> list[Scope]:
    return [Scope(dag.name, ("dag_id",), (event.dag_id,))]


def timetable_summary(schedule: ScheduleSpec) -> str | None:
    """Airflow's short form: the cron expression, ``@once``, the interval, or None (manual only)."""
    if schedule.kind == "cron":
        return schedule.display or schedule.cron
    if schedule.kind == "delta" and schedule.delta_seconds is not None:
        return schedule.display or str(timedelta(seconds=schedule.delta_seconds))
    if schedule.kind == "once":
        return "@once"
    return None


def timetable_description(schedule: ScheduleSpec) -> str:
    if schedule.kind == "cron":
        return f"Cron schedule {schedule.cron}"
    if schedule.kind == "delta" and schedule.delta_seconds is not None:
        return f"Every {timedelta(seconds=schedule.delta_seconds)}"
    if schedule.kind == "once":
        return "Once, as soon as possible"
    return "Never, external triggers only"


_LAST_AUTOMATED = ("last_automated_data_interval_start", "last_automated_data_interval_end")


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else ensure_utc(value)


def _owners(spec: DagSpec) -> list[str]:
    # Airflow lists the owners of a DAG's tasks; a DAG without tasks shows its default owner.
    return sorted({t.owner for t in spec.tasks}) or [spec.owner]


def parsed(rows: RowSet, event: DagParsed, ctx: Context) -> None:
    spec = event.spec
    versions = rows.where(dag_version, dag_id=event.dag_id)
    if all(v["version"] != event.version for v in versions):
        rows.put(
            dag_version,
            {
                "dag_id": event.dag_id,
                "version": event.version,
                "version_number": max((v["version_number"] for v in versions), default=0) + 1,
                "fileloc": spec.fileloc,
                "spec": msgspec.to_builtins(spec),
                "created_at": ctx.time,
            },
        )
    existing = rows.get(dag, (event.dag_id,))
    # A new DAG starts paused unless its file says is_paused_upon_creation=False (Airflow's rule).
    is_paused = existing["is_paused"] if existing else spec.is_paused_upon_creation is not False
    row = {
        "dag_id": event.dag_id,
        "is_paused": is_paused,
        "is_active": True,
        "fileloc": spec.fileloc,
        "description": spec.description,
        "owners": _owners(spec),
        "tags": sorted(set(spec.tags)),
        "timetable_summary": timetable_summary(spec.schedule),
        "timetable_description": timetable_description(spec.schedule),
        "max_active_runs": spec.max_active_runs,
        "max_active_tasks": spec.max_active_tasks,
        "has_import_errors": False,
        "last_parsed_time": ctx.time,
        "catchup": spec.catchup,
        "start_date": _utc(spec.start_date),
        "end_date": _utc(spec.end_date),
        "dagrun_timeout": spec.dagrun_timeout,
        "params": spec.params,
        "doc_md": spec.doc_md,
        "timezone": spec.timezone,
        "latest_version": event.version,
        "schedule": msgspec.to_builtins(spec.schedule),
        **{c: existing[c] if existing else None for c in _LAST_AUTOMATED},
    }
    rows.put(dag, {**row, "next_dagrun_logical_date": next_dagrun(row, ctx.time)["next_dagrun_logical_date"]})
    tags = set(spec.tags)
    for tag in rows.where(dag_tag, dag_id=event.dag_id):
        if tag["name"] not in tags:
            rows.delete(dag_tag, (event.dag_id, tag["name"]))
    for name in sorted(tags):
        rows.put(dag_tag, {"dag_id": event.dag_id, "name": name})


def import_failed(rows: RowSet, event: DagImportFailed, ctx: Context) -> None:
    existing = rows.get(import_error, (event.fileloc,))
    rows.put(
        import_error,
        {
            "import_error_id": existing["import_error_id"] if existing else ctx.position_id,
            "filename": event.fileloc,
            "version": event.version,
            "stacktrace": event.stacktrace,
            "timestamp": ctx.time,
        },
    )
    # The DAGs keep their last good version; the flag tells users the file on disk is broken.
    _update_file_dags(rows, event.fileloc, has_import_errors=True)


def file_processed(rows: RowSet, event: DagFileProcessed, ctx: Context) -> None:
    rows.delete(import_error, (event.fileloc,))
    defined = set(event.dag_ids)
    for row in rows.where(dag, fileloc=event.fileloc):
        rows.update(dag, row, has_import_errors=False, is_active=row["dag_id"] in defined)


def file_removed(rows: RowSet, event: DagFileRemoved, ctx: Context) -> None:
    rows.delete(import_error, (event.fileloc,))
    _update_file_dags(rows, event.fileloc, is_active=False)


def paused_set(rows: RowSet, event: DagPausedSet, ctx: Context) -> None:
    existing = rows.get(dag, (event.dag_id,))
    if existing is not None:
        rows.update(dag, existing, is_paused=event.is_paused)
    audit.record(
        rows,
        ctx,
        "pause" if event.is_paused else "unpause",
        dag_id=event.dag_id,
        extra={"is_paused": event.is_paused},
    )


def _update_file_dags(rows: RowSet, fileloc: str, **changes: Any) -> None:
    for row in rows.where(dag, fileloc=fileloc):
        rows.update(dag, row, **changes)
