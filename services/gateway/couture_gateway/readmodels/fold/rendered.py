"""Rendered template fields: one row per try, as the task process recorded them (``ti.rendered``).

A try renders once, so a redelivered event writes the same row again and changes nothing. The
rows belong to their run: deleting the run deletes them with its task instances, and a late event
of a deleted run leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from couture_common.events import DagRunDeleted, TaskInstanceRendered
from couture_gateway.readmodels.fold import run
from couture_gateway.readmodels.fold.context import Context
from couture_gateway.readmodels.rowset import RowSet, Scope
from couture_gateway.readmodels.tables import dag_run
from couture_gateway.readmodels.tables import rendered_task_instance_fields as rendered_table


def _of_run(dag_id: str, run_id: str) -> Scope:
    return Scope(rendered_table.name, ("dag_id", "run_id"), (dag_id, run_id))


def rendered_scopes(event: TaskInstanceRendered) -> list[Scope]:
    return [
        Scope(dag_run.name, ("dag_id", "run_id"), (event.dag_id, event.run_id)),
        _of_run(event.dag_id, event.run_id),
    ]


def rendered(rows: RowSet, event: TaskInstanceRendered, ctx: Context) -> None:
    if rows.get(dag_run, (event.dag_id, event.run_id)) is None:
        return
    rows.put(
        rendered_table,
        {
            "dag_id": event.dag_id,
            "run_id": event.run_id,
            "task_id": event.task_id,
            "map_index": event.map_index,
            "try_number": event.try_number,
            "rendered_fields": event.rendered_fields,
        },
    )


def run_deleted_scopes(event: DagRunDeleted) -> list[Scope]:
    return [*run.run_scopes(event), _of_run(event.dag_id, event.run_id)]


def run_deleted(rows: RowSet, event: DagRunDeleted, ctx: Context) -> None:
    """The run's own deletion, and its tries' rendered fields with it."""
    run.deleted(rows, event, ctx)
    for row in rows.where(rendered_table, dag_id=event.dag_id, run_id=event.run_id):
        rows.delete(rendered_table, _key(row))


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c.name] for c in rendered_table.primary_key.columns)
