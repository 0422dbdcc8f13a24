"""XCom entries of task instances (read-only: XComs come from tasks, through the log)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import ColumnElement, Select, select

from couture_gateway.api.lookups import not_found
from couture_gateway.api.paging import PageDep, fetch_page
from couture_gateway.api.rows import Row
from couture_gateway.deps import SessionDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.xcom import (
    XComCollectionResponse,
    XComResponse,
    XComResponseNative,
    XComResponseString,
)

router = APIRouter(tags=["XCom"])

ALL = "~"
x, run = t.xcom, t.dag_run
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": HTTPExceptionResponse},
    404: {"model": HTTPExceptionResponse},
}
_ORDER: dict[str, ColumnElement[Any]] = {
    "key": x.c.key,
    "dag_id": x.c.dag_id,
    "run_id": x.c.run_id,
    "task_id": x.c.task_id,
    "map_index": x.c.map_index,
    "timestamp": x.c.timestamp,
    "run_after": run.c.run_after,
}
_DEFAULT_ORDER = ("dag_id", "run_id", "task_id", "map_index", "key")


def _joined() -> Select[Any]:
    return select(x, run.c.logical_date, run.c.run_after).join(
        run, (run.c.dag_id == x.c.dag_id) & (run.c.run_id == x.c.run_id)
    )


def _fields(row: Row) -> dict[str, Any]:
    return {
        "key": row["key"],
        "timestamp": row["timestamp"],
        "logical_date": row["logical_date"],
        "map_index": row["map_index"],
        "task_id": row["task_id"],
        "dag_id": row["dag_id"],
        "run_id": row["run_id"],
        "dag_display_name": row["dag_id"],
        "task_display_name": row["task_id"],
        "run_after": row["run_after"],
    }


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries", responses=_ERRORS)
async def get_xcom_entries(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    conn: SessionDep,
    page: PageDep,
    xcom_key: str | None = None,
    map_index: int | None = None,
) -> XComCollectionResponse:
    """XComs of a task instance; ``~`` in place of any id lists across them."""
    query = _joined()
    for column, value in ((x.c.dag_id, dag_id), (x.c.run_id, dag_run_id), (x.c.task_id, task_id)):
        if value != ALL:
            query = query.where(column == value)
    if xcom_key is not None:
        query = query.where(x.c.key == xcom_key)
    if map_index is not None:
        query = query.where(x.c.map_index == map_index)
    rows, total = await fetch_page(conn, query, page, columns=_ORDER, default_order=_DEFAULT_ORDER)
    return XComCollectionResponse(
        xcom_entries=[XComResponse(**_fields(r)) for r in rows], total_entries=total
    )


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries/{xcom_key}",
    responses=_ERRORS,
    response_model=XComResponseNative | XComResponseString,
)
async def get_xcom_entry(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    xcom_key: str,
    conn: SessionDep,
    map_index: int = -1,
    deserialize: bool = False,
    stringify: bool = False,
) -> XComResponseNative | XComResponseString:
    """One XCom. By default the value is its stored JSON text; with ``deserialize`` it is the
    value itself (``stringify`` turns that into its string form)."""
    if stringify and not deserialize:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "stringify only applies together with deserialize")
    query = _joined().where(
        x.c.dag_id == dag_id,
        x.c.run_id == dag_run_id,
        x.c.task_id == task_id,
        x.c.key == xcom_key,
        x.c.map_index == map_index,
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(f"XCom entry with key: `{xcom_key}` not found")
    if not deserialize:
        return XComResponseString(**_fields(row), value=row["value"])
    value = json.loads(row["value"])
    if stringify:
        return XComResponseString(**_fields(row), value=str(value))
    return XComResponseNative(**_fields(row), value=value)
