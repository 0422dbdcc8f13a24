"""Couture: Browse → SLA Misses, the task instances that missed their ``sla`` (readable DAGs only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import ColumnElement, select

from couture_gateway.api.access import only_readable
from couture_gateway.api.paging import PageDep, fetch_page
from couture_gateway.deps import ReadableDags, SessionDep
from couture_gateway.readmodels.tables import sla_miss
from couture_gateway.schemas.sla_misses import SlaMissCollectionResponse, SlaMissResponse

router = APIRouter(tags=["SLA Miss (Couture)"])

_c = sla_miss.c
_ORDER: dict[str, ColumnElement[Any]] = {
    "dag_id": _c.dag_id,
    "dag_run_id": _c.run_id,
    "task_id": _c.task_id,
    "map_index": _c.map_index,
    "logical_date": _c.logical_date,
    "deadline": _c.deadline,
    "timestamp": _c.timestamp,
}
_NEWEST_FIRST = ["-timestamp", "dag_id", "dag_run_id", "task_id", "map_index"]


@router.get("/slaMisses")
async def get_sla_misses(
    conn: SessionDep,
    page: PageDep,
    readable: ReadableDags,
    dag_id: str | None = None,
    dag_run_id: str | None = None,
    task_id: str | None = None,
) -> SlaMissCollectionResponse:
    """Newest first unless ``order_by`` says otherwise."""
    query = select(sla_miss).where(*only_readable(_c.dag_id, readable))
    for column, value in ((_c.dag_id, dag_id), (_c.run_id, dag_run_id), (_c.task_id, task_id)):
        if value is not None:
            query = query.where(column == value)
    rows, total = await fetch_page(conn, query, page, columns=_ORDER, default_order=_NEWEST_FIRST)
    return SlaMissCollectionResponse(
        sla_misses=[
            SlaMissResponse(
                dag_id=r["dag_id"],
                dag_run_id=r["run_id"],
                task_id=r["task_id"],
                map_index=r["map_index"],
                logical_date=r["logical_date"],
                deadline=r["deadline"],
                timestamp=r["timestamp"],
            )
            for r in rows
        ],
        total_entries=total,
    )
