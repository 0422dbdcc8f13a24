"""The audit trail (Airflow's event logs): who did what, when, to which DAG, run or task."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement, select

from couture_gateway.api import filters
from couture_gateway.api.access import only_readable
from couture_gateway.api.lookups import not_found
from couture_gateway.api.paging import PageDep, fetch_page
from couture_gateway.api.rows import Row
from couture_gateway.deps import ReadableDags, SessionDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.event_logs import EventLogCollectionResponse, EventLogResponse

router = APIRouter(tags=["EventLog"])

el = t.event_log
_ORDER: dict[str, ColumnElement[Any]] = {
    "id": el.c.event_log_id,
    "event_log_id": el.c.event_log_id,
    "dttm": el.c.when,
    "when": el.c.when,
    "dag_id": el.c.dag_id,
    "task_id": el.c.task_id,
    "run_id": el.c.run_id,
    "event": el.c.event,
    "logical_date": el.c.logical_date,
    "owner": el.c.owner,
    "extra": el.c.extra,
}


def _response(row: Row) -> EventLogResponse:
    return EventLogResponse(
        event_log_id=row["event_log_id"],
        when=row["when"],
        dag_id=row["dag_id"],
        task_id=row["task_id"],
        run_id=row["run_id"],
        map_index=row["map_index"],
        try_number=row["try_number"],
        event=row["event"],
        logical_date=row["logical_date"],
        owner=row["owner"],
        extra=row["extra"],
        dag_display_name=row["dag_id"],
        task_display_name=row["task_id"],
    )


@router.get("/eventLogs")
async def get_event_logs(
    conn: SessionDep,
    page: PageDep,
    readable: ReadableDags,
    dag_id: str | None = None,
    task_id: str | None = None,
    run_id: str | None = None,
    map_index: int | None = None,
    try_number: int | None = None,
    owner: str | None = None,
    event: str | None = None,
    excluded_events: Annotated[list[str] | None, Query()] = None,
    included_events: Annotated[list[str] | None, Query()] = None,
    before: datetime | None = None,
    after: datetime | None = None,
    dag_id_pattern: str | None = None,
    task_id_pattern: str | None = None,
    run_id_pattern: str | None = None,
    owner_pattern: str | None = None,
    event_pattern: str | None = None,
) -> EventLogCollectionResponse:
    query = select(el)
    for column, value in (
        (el.c.dag_id, dag_id),
        (el.c.task_id, task_id),
        (el.c.run_id, run_id),
        (el.c.map_index, map_index),
        (el.c.try_number, try_number),
        (el.c.owner, owner),
        (el.c.event, event),
    ):
        if value is not None:
            query = query.where(column == value)
    if excluded_events:
        query = query.where(el.c.event.not_in(excluded_events))
    if included_events:
        query = query.where(el.c.event.in_(included_events))
    query = query.where(
        *filters.value_range(el.c.when, lt=before, gt=after),
        *filters.pattern(el.c.dag_id, dag_id_pattern),
        *filters.pattern(el.c.task_id, task_id_pattern),
        *filters.pattern(el.c.run_id, run_id_pattern),
        *filters.pattern(el.c.owner, owner_pattern),
        *filters.pattern(el.c.event, event_pattern),
        *only_readable(el.c.dag_id, readable),
    )
    rows, total = await fetch_page(conn, query, page, columns=_ORDER, default_order=["event_log_id"])
    return EventLogCollectionResponse(event_logs=[_response(r) for r in rows], total_entries=total)


@router.get("/eventLogs/{event_log_id}", responses={404: {"model": HTTPExceptionResponse}})
async def get_event_log(event_log_id: int, conn: SessionDep, readable: ReadableDags) -> EventLogResponse:
    query = select(el).where(el.c.event_log_id == event_log_id, *only_readable(el.c.dag_id, readable))
    row = (await conn.execute(query)).mappings().first()
    # An entry of a DAG the user may not read is answered as missing, not as forbidden.
    if row is None:
        raise not_found(f"The Event Log with id: `{event_log_id}` not found")
    return _response(row)
