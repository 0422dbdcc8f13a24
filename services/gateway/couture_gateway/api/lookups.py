"""Fetching one resource from the read models, or answering 404 in Airflow's words."""

from __future__ import annotations

import msgspec
from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from couture_common.dagspec import DagSpec, TaskSpec
from couture_gateway.api.rows import Row
from couture_gateway.readmodels import tables as t


def not_found(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail)


async def dag_row(conn: AsyncConnection, dag_id: str) -> Row:
    row = (await conn.execute(select(t.dag).where(t.dag.c.dag_id == dag_id))).mappings().first()
    if row is None:
        raise not_found(f"The Dag with ID: `{dag_id}` was not found")
    return row


async def dag_version_row(conn: AsyncConnection, dag_id: str, version: str | None) -> Row | None:
    if version is None:
        return None
    query = select(t.dag_version).where(t.dag_version.c.dag_id == dag_id, t.dag_version.c.version == version)
    return (await conn.execute(query)).mappings().first()


async def dag_spec(conn: AsyncConnection, dag: Row) -> tuple[DagSpec, Row]:
    """The newest parsed spec of ``dag`` and its version row."""
    version = await dag_version_row(conn, dag["dag_id"], dag["latest_version"])
    if version is None:
        raise not_found(f"The Dag with ID: `{dag['dag_id']}` has no parsed version")
    return spec_of(version), version


def spec_of(version: Row) -> DagSpec:
    return msgspec.convert(version["spec"], DagSpec)


def task_of(spec: DagSpec, task_id: str) -> TaskSpec:
    try:
        return spec.task(task_id)
    except KeyError:
        raise not_found(f"Task with ID: `{task_id}` not found in Dag: `{spec.dag_id}`") from None


async def dag_run_row(conn: AsyncConnection, dag_id: str, run_id: str) -> Row:
    query = select(t.dag_run).where(t.dag_run.c.dag_id == dag_id, t.dag_run.c.run_id == run_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(f"The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found")
    return row
