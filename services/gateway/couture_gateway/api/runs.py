"""Queries shared by the DAG-run and task-instance routes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from couture_gateway.api.rows import Row, dag_run_response
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.dag_runs import DAGRunResponse

#: ``order_by`` fields of DAG runs (Airflow's names; ``id`` is creation order, run_after here).
RUN_ORDER: dict[str, ColumnElement[Any]] = {
    "id": t.dag_run.c.run_after,
    "state": t.dag_run.c.state,
    "dag_id": t.dag_run.c.dag_id,
    "run_id": t.dag_run.c.run_id,
    "dag_run_id": t.dag_run.c.run_id,
    "logical_date": t.dag_run.c.logical_date,
    "run_after": t.dag_run.c.run_after,
    "start_date": t.dag_run.c.start_date,
    "end_date": t.dag_run.c.end_date,
    "queued_at": t.dag_run.c.queued_at,
}
RUN_DEFAULT_ORDER = ("run_after", "dag_id", "run_id")


async def versions_of(conn: AsyncConnection, rows: Iterable[Row]) -> dict[tuple[str, str], Row]:
    """The dag_version rows the given rows name in their ``dag_version`` column."""
    keys = {(r["dag_id"], r["dag_version"]) for r in rows if r["dag_version"] is not None}
    if not keys:
        return {}
    query = select(t.dag_version).where(tuple_(t.dag_version.c.dag_id, t.dag_version.c.version).in_(keys))
    return {(v["dag_id"], v["version"]): v for v in (await conn.execute(query)).mappings()}


def triggered_by_task(dag_id: str, run_id: str, task_id: str) -> Select[Any]:
    """Runs a DagOperator task instance triggered (any try), newest first (its latest try's run leads)."""
    return (
        select(t.dag_run)
        .where(t.dag_run.c.triggered_by_task == f"{dag_id}/{run_id}/{task_id}")
        .order_by(t.dag_run.c.run_after.desc(), t.dag_run.c.dag_id, t.dag_run.c.run_id)
    )


async def run_responses(conn: AsyncConnection, rows: list[Row]) -> list[DAGRunResponse]:
    versions = await versions_of(conn, rows)
    return [
        dag_run_response(r, [v] if (v := versions.get((r["dag_id"], r["dag_version"]))) else []) for r in rows
    ]
