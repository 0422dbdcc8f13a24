"""DAG runs: trigger, list (also across DAGs with ``~``), get, patch, clear, delete and wait."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy import ColumnElement, String, cast, select
from sqlalchemy.ext.asyncio import AsyncConnection

from couture_common.clock import ensure_utc, utcnow
from couture_common.events import (
    DagRunDeleted,
    DagRunNoteSet,
    DagRunRequested,
    DagRunStateSet,
    Event,
    TaskInstancesCleared,
)
from couture_gateway.api import filters
from couture_gateway.api.access import only_readable
from couture_gateway.api.filters import RANGE_OPS, RANGED_DATES, DateRanges, DateRangesDep
from couture_gateway.api.lookups import dag_row, dag_run_row
from couture_gateway.api.paging import Page, PageDep, fetch_page
from couture_gateway.api.rows import Row, task_instance_response
from couture_gateway.api.runs import RUN_DEFAULT_ORDER, RUN_ORDER, run_responses, versions_of
from couture_gateway.deps import CurrentUser, GatewayDep, ReadableDags, SessionDep, WriterDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.dag_runs import (
    DAGRunClearBody,
    DAGRunCollectionResponse,
    DAGRunPatchBody,
    DAGRunResponse,
    DAGRunsBatchBody,
    DagRunState,
    TriggerDAGRunPostBody,
)
from couture_gateway.schemas.task_instances import ClearTaskInstanceCollectionResponse

router = APIRouter(tags=["DagRun"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": HTTPExceptionResponse},
    404: {"model": HTTPExceptionResponse},
}
_FINISHED = ("success", "failed")
_FAILED_TI_STATES = ("failed", "upstream_failed")
ALL_DAGS = "~"


def _run_filters(
    dag_id: str,
    *,
    states: list[DagRunState | None] | None = None,
    run_types: list[str] | None = None,
    run_id_pattern: str | None = None,
    dag_id_pattern: str | None = None,
    dag_ids: list[str] | None = None,
    conf_contains: str | None = None,
    ranges: DateRanges | None = None,
) -> list[ColumnElement[bool]]:
    c = t.dag_run.c
    clauses: list[ColumnElement[bool]] = []
    if dag_id != ALL_DAGS:
        clauses.append(c.dag_id == dag_id)
    if dag_ids:
        clauses.append(c.dag_id.in_(dag_ids))
    if states:
        clauses.append(c.state.in_([s for s in states if s is not None]))
    if run_types:
        clauses.append(
            c.run_type.in_(["dataset_triggered" if r == "asset_triggered" else r for r in run_types])
        )
    clauses += filters.pattern(c.run_id, run_id_pattern)
    clauses += filters.pattern(c.dag_id, dag_id_pattern)
    if conf_contains:
        clauses += filters.pattern(cast(c.conf, String), conf_contains)
    for column, bounds in (ranges or {}).items():
        clauses += filters.value_range(c[column], **bounds)
    return clauses


async def _page_of_runs(
    conn: SessionDep, clauses: list[ColumnElement[bool]], page: Page
) -> DAGRunCollectionResponse:
    query = select(t.dag_run).where(*clauses)
    rows, total = await fetch_page(conn, query, page, columns=RUN_ORDER, default_order=RUN_DEFAULT_ORDER)
    return DAGRunCollectionResponse(dag_runs=await run_responses(conn, rows), total_entries=total)


@router.get("/dags/{dag_id}/dagRuns", responses=_ERRORS)
async def get_dag_runs(
    dag_id: str,
    conn: SessionDep,
    page: PageDep,
    ranges: DateRangesDep,
    readable: ReadableDags,
    state: Annotated[list[DagRunState] | None, Query()] = None,
    run_type: Annotated[list[str] | None, Query()] = None,
    run_id_pattern: str | None = None,
    dag_id_pattern: str | None = None,
    conf_contains: str | None = None,
) -> DAGRunCollectionResponse:
    """Runs of one DAG, or of every DAG with ``dag_id`` ``~``."""
    if dag_id != ALL_DAGS:
        await dag_row(conn, dag_id)
    clauses = _run_filters(
        dag_id,
        states=list(state or []),
        run_types=run_type,
        run_id_pattern=run_id_pattern,
        dag_id_pattern=dag_id_pattern,
        conf_contains=conf_contains,
        ranges=ranges,
    )
    clauses += only_readable(t.dag_run.c.dag_id, readable)
    return await _page_of_runs(conn, clauses, page)


@router.post("/dags/{dag_id}/dagRuns/list", responses=_ERRORS)
async def get_list_dag_runs_batch(
    dag_id: str, body: DAGRunsBatchBody, conn: SessionDep, readable: ReadableDags
) -> DAGRunCollectionResponse:
    """Runs across DAGs (``dag_id`` must be ``~``), filtered by the body."""
    if dag_id != ALL_DAGS:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Only `~` is accepted as dag_id in this endpoint")
    fields = body.model_dump()
    ranges = {column: {op: fields[f"{column}_{op}"] for op in RANGE_OPS} for column in RANGED_DATES}
    clauses = _run_filters(
        dag_id,
        states=body.states,
        dag_ids=body.dag_ids,
        conf_contains=body.conf_contains,
        ranges=ranges,
    )
    clauses += only_readable(t.dag_run.c.dag_id, readable)
    page = Page(
        limit=body.page_limit,
        offset=body.page_offset,
        order_by=(body.order_by,) if body.order_by else (),
    )
    return await _page_of_runs(conn, clauses, page)


@router.post(
    "/dags/{dag_id}/dagRuns",
    responses={**_ERRORS, 409: {"model": HTTPExceptionResponse}},
)
async def trigger_dag_run(
    dag_id: str, body: TriggerDAGRunPostBody, conn: SessionDep, writer: WriterDep, user: CurrentUser
) -> DAGRunResponse:
    """Request a manual run. Answered once the request is in the event log: it is never lost.

    The run is ``queued`` until the scheduler accepts it; a DAG that is paused keeps it queued.
    """
    await dag_row(conn, dag_id)
    if (body.data_interval_start is None) != (body.data_interval_end is None):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [
                {
                    "type": "value_error",
                    "loc": [
                        "body",
                        "data_interval_end" if body.data_interval_end is None else "data_interval_start",
                    ],
                    "msg": "data_interval_start and data_interval_end must be given together",
                    "input": None,
                }
            ],
        )
    now = utcnow()
    logical_date = ensure_utc(body.logical_date) if body.logical_date else now
    run_id = body.dag_run_id or f"manual__{logical_date.isoformat()}"
    existing = await conn.execute(
        select(t.dag_run.c.run_id).where(
            t.dag_run.c.dag_id == dag_id,
            (t.dag_run.c.run_id == run_id) | (t.dag_run.c.logical_date == logical_date),
        )
    )
    if clash := existing.scalar():
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"DAG Run with run_id: `{clash}` or logical_date: `{logical_date.isoformat()}` "
            f"already exists for Dag: `{dag_id}`",
        )
    event = DagRunRequested(
        dag_id=dag_id,
        run_id=run_id,
        run_type="manual",
        logical_date=logical_date,
        data_interval_start=ensure_utc(body.data_interval_start) if body.data_interval_start else None,
        data_interval_end=ensure_utc(body.data_interval_end) if body.data_interval_end else None,
        conf=body.conf or {},
        note=body.note,
    )
    await writer.append(event)
    row = (
        (
            await conn.execute(
                select(t.dag_run).where(t.dag_run.c.dag_id == dag_id, t.dag_run.c.run_id == run_id)
            )
        )
        .mappings()
        .first()
    )
    if row is not None:
        return (await run_responses(conn, [row]))[0]
    # The projector has not caught up within its bound; answer from the request itself.
    return DAGRunResponse(
        dag_run_id=run_id,
        dag_id=dag_id,
        logical_date=logical_date,
        queued_at=now,
        data_interval_start=event.data_interval_start,
        data_interval_end=event.data_interval_end,
        run_after=logical_date,
        run_type="manual",
        state="queued",
        triggered_by="rest_api",
        triggering_user_name=user.subject,
        conf=event.conf,
        note=body.note,
        dag_versions=[],
        dag_display_name=dag_id,
    )


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}", responses=_ERRORS)
async def get_dag_run(dag_id: str, dag_run_id: str, conn: SessionDep) -> DAGRunResponse:
    return (await run_responses(conn, [await dag_run_row(conn, dag_id, dag_run_id)]))[0]


@router.patch("/dags/{dag_id}/dagRuns/{dag_run_id}", responses=_ERRORS)
async def patch_dag_run(
    dag_id: str,
    dag_run_id: str,
    body: DAGRunPatchBody,
    conn: SessionDep,
    writer: WriterDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> DAGRunResponse:
    """Set the run's state (``queued`` re-runs it; ``success``/``failed`` settle unfinished tasks)."""
    await dag_run_row(conn, dag_id, dag_run_id)
    fields = set(update_mask) if update_mask else body.model_fields_set
    unknown = fields - {"state", "note"}
    if unknown:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"Invalid field `{sorted(unknown)[0]}` in update mask"
        )
    events: list[Event] = []
    if "state" in fields:
        if body.state is None:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "state must not be null")
        events.append(DagRunStateSet(dag_id=dag_id, run_id=dag_run_id, state=body.state))
    if "note" in fields:
        events.append(DagRunNoteSet(dag_id=dag_id, run_id=dag_run_id, note=body.note))
    if events:
        await writer.append(*events)
    return (await run_responses(conn, [await dag_run_row(conn, dag_id, dag_run_id)]))[0]


@router.delete(
    "/dags/{dag_id}/dagRuns/{dag_run_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
)
async def delete_dag_run(dag_id: str, dag_run_id: str, conn: SessionDep, writer: WriterDep) -> Response:
    await dag_run_row(conn, dag_id, dag_run_id)
    await writer.append(DagRunDeleted(dag_id=dag_id, run_id=dag_run_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/clear",
    responses=_ERRORS,
    response_model=ClearTaskInstanceCollectionResponse | DAGRunResponse,
)
async def clear_dag_run(
    dag_id: str, dag_run_id: str, body: DAGRunClearBody, conn: SessionDep, writer: WriterDep
) -> ClearTaskInstanceCollectionResponse | DAGRunResponse:
    """Clear the run's task instances (only the failed ones with ``only_failed``) so they run again.

    With ``dry_run`` (the default, as in Airflow) nothing changes: the answer lists what would be
    cleared.
    """
    run = await dag_run_row(conn, dag_id, dag_run_id)
    query = select(t.task_instance).where(
        t.task_instance.c.dag_id == dag_id, t.task_instance.c.run_id == dag_run_id
    )
    if body.only_failed:
        query = query.where(t.task_instance.c.state.in_(_FAILED_TI_STATES))
    tis = list((await conn.execute(query.order_by(t.task_instance.c.task_id))).mappings())
    if body.dry_run:
        versions = await versions_of(conn, [run])
        version = versions.get((dag_id, run["dag_version"]))
        return ClearTaskInstanceCollectionResponse(
            task_instances=[task_instance_response(ti, run, version) for ti in tis],
            total_entries=len(tis),
        )
    task_ids = tuple(sorted({ti["task_id"] for ti in tis}))
    if task_ids:
        await writer.append(TaskInstancesCleared(dag_id=dag_id, run_id=dag_run_id, task_ids=task_ids))
    return (await run_responses(conn, [await dag_run_row(conn, dag_id, dag_run_id)]))[0]


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/wait",
    tags=["experimental"],
    responses={**_ERRORS, 200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
    response_class=StreamingResponse,
)
async def wait_dag_run_until_finished(
    dag_id: str,
    dag_run_id: str,
    gateway: GatewayDep,
    interval: Annotated[float, Query(gt=0, description="Seconds between state lines.")],
    result: Annotated[
        list[str] | None, Query(description="Task ids whose `return_value` XComs the last line carries.")
    ] = None,
) -> StreamingResponse:
    """Stream the run's state as NDJSON, one line per ``interval``, until it is finished.

    Each poll borrows a connection only for its query, so long waits hold no connection.
    """
    async with gateway.engine.connect() as conn:
        await dag_run_row(conn, dag_id, dag_run_id)

    async def lines() -> AsyncIterator[str]:
        while True:
            async with gateway.engine.connect() as poll_conn:
                row = await _run_or_none(poll_conn, dag_id, dag_run_id)
                if row is None:
                    yield json.dumps({"state": None, "detail": "the DAG run was deleted"}) + "\n"
                    return
                line: dict[str, Any] = {"state": row["state"]}
                if row["state"] in _FINISHED:
                    if result:
                        line["results"] = await _return_values(poll_conn, dag_id, dag_run_id, result)
                    yield json.dumps(line) + "\n"
                    return
            yield json.dumps(line) + "\n"
            await asyncio.sleep(interval)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


async def _run_or_none(conn: AsyncConnection, dag_id: str, run_id: str) -> Row | None:
    query = select(t.dag_run).where(t.dag_run.c.dag_id == dag_id, t.dag_run.c.run_id == run_id)
    return (await conn.execute(query)).mappings().first()


async def _return_values(
    conn: AsyncConnection, dag_id: str, run_id: str, task_ids: list[str]
) -> dict[str, Any]:
    query = select(t.xcom.c.task_id, t.xcom.c.value).where(
        t.xcom.c.dag_id == dag_id,
        t.xcom.c.run_id == run_id,
        t.xcom.c.key == "return_value",
        t.xcom.c.task_id.in_(task_ids),
    )
    return {task_id: json.loads(value) for task_id, value in await conn.execute(query)}
