"""Task instances: list (also across DAGs and runs with ``~``), get, tries, logs, mark and clear."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, HTTPException, Path, Query, status
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import ColumnElement, Select, select

from couture_common.dagspec import DagSpec
from couture_common.events import Event, TaskInstanceNoteSet, TaskInstancesCleared, TaskInstanceStateSet
from couture_gateway.api import filters
from couture_gateway.api.access import only_readable
from couture_gateway.api.filters import RANGE_OPS, RANGED_DATES, DateRanges, DateRangesDep
from couture_gateway.api.graph import with_relatives
from couture_gateway.api.logs import InvalidLogToken, decode_token, encode_token, log_file, read_chunk
from couture_gateway.api.lookups import dag_row, dag_run_row, dag_spec, dag_version_row, not_found, spec_of
from couture_gateway.api.paging import Page, PageDep, fetch_page
from couture_gateway.api.rows import (
    TRIGGERED_DAG_LINK,
    Row,
    run_dag_id,
    task_instance_response,
    task_instance_try_response,
)
from couture_gateway.api.runs import triggered_by_task, versions_of
from couture_gateway.deps import ReadableDags, SessionDep, SettingsDep, WriterDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.task_instances import (
    ClearTaskInstancesBody,
    ExtraLinkCollectionResponse,
    PatchTaskInstanceBody,
    TaskInstanceCollectionResponse,
    TaskInstanceHistoryCollectionResponse,
    TaskInstanceHistoryResponse,
    TaskInstanceResponse,
    TaskInstancesBatchBody,
    TaskInstancesLogResponse,
    TaskInstanceState,
)

router = APIRouter(tags=["TaskInstance"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": HTTPExceptionResponse},
    404: {"model": HTTPExceptionResponse},
}
ALL = "~"
ti, run = t.task_instance, t.dag_run
_ORDER: dict[str, ColumnElement[Any]] = {
    "id": ti.c.task_id,
    "task_id": ti.c.task_id,
    "dag_id": ti.c.dag_id,
    "run_id": ti.c.run_id,
    "state": ti.c.state,
    "duration": ti.c.duration,
    "start_date": ti.c.start_date,
    "end_date": ti.c.end_date,
    "map_index": ti.c.map_index,
    "try_number": ti.c.try_number,
    "pool": ti.c.pool,
    "queue": ti.c.queue,
    "priority_weight": ti.c.priority_weight,
    "operator": ti.c.operator,
    "logical_date": run.c.logical_date,
    "run_after": run.c.run_after,
    "data_interval_start": run.c.data_interval_start,
    "data_interval_end": run.c.data_interval_end,
}
_DEFAULT_ORDER = ("run_after", "dag_id", "run_id", "task_id", "map_index")
_RANGE_COLUMNS: dict[str, ColumnElement[Any]] = {
    "run_after": run.c.run_after,
    "logical_date": run.c.logical_date,
    "start_date": ti.c.start_date,
    "end_date": ti.c.end_date,
}
_CLEARABLE_FAILED = ("failed", "upstream_failed")


def _joined() -> Select[Any]:
    """Task instances with the run columns their answers need."""
    return select(ti, run.c.logical_date, run.c.run_after, run.c.dag_version).join(
        run, (run.c.dag_id == ti.c.dag_id) & (run.c.run_id == ti.c.run_id)
    )


def _state_clause(states: Iterable[TaskInstanceState | None]) -> ColumnElement[bool]:
    wanted = list(states)
    named = [s for s in wanted if s is not None]
    clause = ti.c.state.in_(named)
    return clause | ti.c.state.is_(None) if None in wanted else clause


def _filters(
    dag_id: str,
    run_id: str,
    *,
    task_ids: list[str] | None = None,
    states: list[TaskInstanceState | None] | None = None,
    pools: list[str] | None = None,
    queues: list[str] | None = None,
    executors: list[str] | None = None,
    operators: list[str] | None = None,
    try_numbers: list[int] | None = None,
    ranges: DateRanges | None = None,
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if dag_id != ALL:
        clauses.append(ti.c.dag_id == dag_id)
    if run_id != ALL:
        clauses.append(ti.c.run_id == run_id)
    for column, values in (
        (ti.c.task_id, task_ids),
        (ti.c.pool, pools),
        (ti.c.queue, queues),
        (ti.c.executor, executors),
        (ti.c.operator, operators),
        (ti.c.try_number, try_numbers),
    ):
        if values:
            clauses.append(column.in_(values))
    if states:
        clauses.append(_state_clause(states))
    for name, bounds in (ranges or {}).items():
        clauses += filters.value_range(_RANGE_COLUMNS[name], **bounds)
    return clauses


async def _responses(conn: SessionDep, rows: list[Row]) -> list[TaskInstanceResponse]:
    versions = await versions_of(conn, rows)
    return [task_instance_response(r, r, versions.get((r["dag_id"], r["dag_version"]))) for r in rows]


async def _page(
    conn: SessionDep, clauses: list[ColumnElement[bool]], page: Page
) -> TaskInstanceCollectionResponse:
    rows, total = await fetch_page(
        conn, _joined().where(*clauses), page, columns=_ORDER, default_order=_DEFAULT_ORDER
    )
    return TaskInstanceCollectionResponse(task_instances=await _responses(conn, rows), total_entries=total)


async def _ti_row(conn: SessionDep, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Row:
    query = _joined().where(
        ti.c.dag_id == dag_id, ti.c.run_id == run_id, ti.c.task_id == task_id, ti.c.map_index == map_index
    )
    row: Row | None = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(
            f"The Task Instance with dag_id: `{dag_id}`, run_id: `{run_id}`, task_id: `{task_id}` "
            f"and map_index: `{map_index}` was not found"
        )
    return row


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", responses=_ERRORS)
async def get_task_instances(
    dag_id: str,
    dag_run_id: str,
    conn: SessionDep,
    page: PageDep,
    ranges: DateRangesDep,
    readable: ReadableDags,
    task_id: str | None = None,
    state: Annotated[list[TaskInstanceState | None] | None, Query()] = None,
    pool: Annotated[list[str] | None, Query()] = None,
    queue: Annotated[list[str] | None, Query()] = None,
    executor: Annotated[list[str] | None, Query()] = None,
    operator: Annotated[list[str] | None, Query()] = None,
    try_number: Annotated[list[int] | None, Query()] = None,
    task_display_name_pattern: str | None = None,
    dag_id_pattern: str | None = None,
    run_id_pattern: str | None = None,
) -> TaskInstanceCollectionResponse:
    """Task instances of one run; ``~`` for ``dag_id`` and/or ``dag_run_id`` lists across them."""
    if dag_id != ALL:
        await dag_row(conn, dag_id)
        if dag_run_id != ALL:
            await dag_run_row(conn, dag_id, dag_run_id)
    clauses = _filters(
        dag_id,
        dag_run_id,
        task_ids=[task_id] if task_id else None,
        states=state,
        pools=pool,
        queues=queue,
        executors=executor,
        operators=operator,
        try_numbers=try_number,
        ranges=ranges,
    )
    clauses += filters.pattern(ti.c.task_id, task_display_name_pattern)
    clauses += filters.pattern(ti.c.dag_id, dag_id_pattern)
    clauses += filters.pattern(ti.c.run_id, run_id_pattern)
    clauses += only_readable(ti.c.dag_id, readable)
    return await _page(conn, clauses, page)


@router.post("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/list", responses=_ERRORS)
async def get_task_instances_batch(
    dag_id: str, dag_run_id: str, body: TaskInstancesBatchBody, conn: SessionDep, readable: ReadableDags
) -> TaskInstanceCollectionResponse:
    """Task instances across DAGs and runs (path ids ``~``), filtered by the body."""
    if dag_id != ALL or dag_run_id != ALL:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Only `~` is accepted as dag_id and dag_run_id here")
    fields = body.model_dump()
    ranges = {column: {op: fields[f"{column}_{op}"] for op in RANGE_OPS} for column in RANGED_DATES}
    clauses = _filters(
        ALL,
        ALL,
        task_ids=body.task_ids,
        states=body.state,
        pools=body.pool,
        queues=body.queue,
        executors=body.executor,
        ranges=ranges,
    )
    if body.dag_ids:
        clauses.append(ti.c.dag_id.in_(body.dag_ids))
    if body.dag_run_ids:
        clauses.append(ti.c.run_id.in_(body.dag_run_ids))
    clauses += only_readable(ti.c.dag_id, readable)
    page = Page(body.page_limit, body.page_offset, (body.order_by,) if body.order_by else ())
    return await _page(conn, clauses, page)


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", responses=_ERRORS)
async def get_task_instance(
    dag_id: str, dag_run_id: str, task_id: str, conn: SessionDep
) -> TaskInstanceResponse:
    """With the ``rendered_fields`` of its latest try that rendered (Airflow keeps one set per instance)."""
    row = await _ti_row(conn, dag_id, dag_run_id, task_id)
    version = (await versions_of(conn, [row])).get((dag_id, row["dag_version"]))
    rendered = await _rendered_by_try(conn, dag_id, dag_run_id, task_id, row["map_index"])
    latest = max((n for n in rendered if n <= row["try_number"]), default=None)
    return task_instance_response(row, row, version, rendered.get(latest) if latest is not None else None)


async def _rendered_by_try(
    conn: SessionDep, dag_id: str, run_id: str, task_id: str, map_index: int
) -> dict[int, Row]:
    rendered = t.rendered_task_instance_fields
    query = select(rendered).where(
        rendered.c.dag_id == dag_id,
        rendered.c.run_id == run_id,
        rendered.c.task_id == task_id,
        rendered.c.map_index == map_index,
    )
    return {r["try_number"]: r for r in (await conn.execute(query)).mappings()}


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/links",
    responses=_ERRORS,
    tags=["Extra Links"],
)
async def get_extra_links(
    dag_id: str, dag_run_id: str, task_id: str, conn: SessionDep, map_index: int = -1
) -> ExtraLinkCollectionResponse:
    """A DagOperator's "Triggered DAG": the UI's graph of the run its latest try triggered."""
    row = await _ti_row(conn, dag_id, dag_run_id, task_id, map_index)
    version = await dag_version_row(conn, dag_id, row["dag_version"])
    task = next((t for t in spec_of(version).tasks if t.task_id == task_id), None) if version else None
    if task is None or run_dag_id(task) is None:
        return ExtraLinkCollectionResponse(extra_links={}, total_entries=0)
    child = (await conn.execute(triggered_by_task(dag_id, dag_run_id, task_id).limit(1))).mappings().first()
    link = (
        f"/dags/{quote(child['dag_id'], safe='')}/graph?run={quote(child['run_id'], safe='')}"
        if child
        else None
    )
    return ExtraLinkCollectionResponse(extra_links={TRIGGERED_DAG_LINK: link}, total_entries=1)


async def _tries(conn: SessionDep, dag_id: str, run_id: str, task_id: str, map_index: int) -> list[Row]:
    query = (
        select(t.task_instance_try)
        .where(
            t.task_instance_try.c.dag_id == dag_id,
            t.task_instance_try.c.run_id == run_id,
            t.task_instance_try.c.task_id == task_id,
            t.task_instance_try.c.map_index == map_index,
        )
        .order_by(t.task_instance_try.c.try_number)
    )
    return list((await conn.execute(query)).mappings())


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/tries", responses=_ERRORS)
async def get_task_instance_tries(
    dag_id: str, dag_run_id: str, task_id: str, conn: SessionDep, map_index: int = -1
) -> TaskInstanceHistoryCollectionResponse:
    """Every try that was scheduled, oldest first."""
    current = await _ti_row(conn, dag_id, dag_run_id, task_id, map_index)
    version = (await versions_of(conn, [current])).get((dag_id, current["dag_version"]))
    rendered = await _rendered_by_try(conn, dag_id, dag_run_id, task_id, map_index)
    tries = [
        task_instance_try_response(r, version, rendered.get(r["try_number"]))
        for r in await _tries(conn, dag_id, dag_run_id, task_id, map_index)
    ]
    return TaskInstanceHistoryCollectionResponse(task_instances=tries, total_entries=len(tries))


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/tries/{task_try_number}", responses=_ERRORS
)
async def get_task_instance_try_details(
    dag_id: str, dag_run_id: str, task_id: str, task_try_number: int, conn: SessionDep, map_index: int = -1
) -> TaskInstanceHistoryResponse:
    current = await _ti_row(conn, dag_id, dag_run_id, task_id, map_index)
    version = (await versions_of(conn, [current])).get((dag_id, current["dag_version"]))
    for row in await _tries(conn, dag_id, dag_run_id, task_id, map_index):
        if row["try_number"] == task_try_number:
            rendered = await _rendered_by_try(conn, dag_id, dag_run_id, task_id, map_index)
            return task_instance_try_response(row, version, rendered.get(task_try_number))
    raise not_found(
        f"The Task Instance with dag_id: `{dag_id}`, run_id: `{dag_run_id}`, task_id: `{task_id}`, "
        f"try_number: `{task_try_number}` and map_index: `{map_index}` was not found"
    )


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{try_number}",
    responses={**_ERRORS, 200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    response_model=TaskInstancesLogResponse,
)
async def get_log(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    try_number: Annotated[int, Path(ge=0)],
    conn: SessionDep,
    settings: SettingsDep,
    full_content: bool = False,
    map_index: int = -1,
    token: str | None = None,
    accept: Annotated[str, Header()] = "application/json",
) -> Response | TaskInstancesLogResponse:
    """The try's log. Pass the answer's ``continuation_token`` back as ``token`` to get only what
    was written since; ``full_content`` returns the whole file. ``Accept: text/plain`` gives text."""
    current = await _ti_row(conn, dag_id, dag_run_id, task_id, map_index)
    if not 1 <= try_number <= max(current["try_number"], 1):
        raise not_found(f"Task `{task_id}` of run `{dag_run_id}` has no try {try_number}")
    try:
        offset = 0 if full_content or token is None else decode_token(token)
    except InvalidLogToken as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"token: {exc}") from None
    path = log_file(settings.logs_path, dag_id, dag_run_id, task_id, try_number)
    chunk = read_chunk(path, offset, whole=full_content)
    if "text/plain" in accept and "application/json" not in accept:
        return PlainTextResponse("".join(f"{line['event']}\n" for line in chunk.lines))
    return TaskInstancesLogResponse.model_validate(
        {"content": chunk.lines, "continuation_token": encode_token(chunk.next_offset)}
    )


async def _latest_spec(conn: SessionDep, dag_id: str) -> DagSpec:
    spec, _ = await dag_spec(conn, await dag_row(conn, dag_id))
    return spec


async def _run_ids_around(conn: SessionDep, dag_id: str, run: Row, *, past: bool, future: bool) -> list[str]:
    """This run and, on request, the DAG's runs before and/or after it by logical date."""
    if not (past or future):
        return [run["run_id"]]
    query = select(t.dag_run.c.run_id).where(t.dag_run.c.dag_id == dag_id)
    if not future:
        query = query.where(t.dag_run.c.logical_date <= run["logical_date"])
    if not past:
        query = query.where(t.dag_run.c.logical_date >= run["logical_date"])
    return list((await conn.execute(query)).scalars())


async def _marked(
    conn: SessionDep, dag_id: str, dag_run_id: str, task_id: str, map_index: int, body: PatchTaskInstanceBody
) -> tuple[list[Row], list[Event]]:
    """The task instances a mark reaches and the events that mark them."""
    if body.new_state is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "new_state is required")
    await _ti_row(conn, dag_id, dag_run_id, task_id, map_index)
    run_row = await dag_run_row(conn, dag_id, dag_run_id)
    tasks = with_relatives(
        await _latest_spec(conn, dag_id),
        [task_id],
        upstream=body.include_upstream,
        downstream=body.include_downstream,
    )
    runs = await _run_ids_around(conn, dag_id, run_row, past=body.include_past, future=body.include_future)
    query = _joined().where(
        ti.c.dag_id == dag_id,
        ti.c.run_id.in_(runs),
        ti.c.task_id.in_(tasks),
        ti.c.state.is_distinct_from(body.new_state),
    )
    rows = list((await conn.execute(query.order_by(ti.c.run_id, ti.c.task_id))).mappings())
    events: list[Event] = [
        TaskInstanceStateSet(
            dag_id=r["dag_id"],
            run_id=r["run_id"],
            task_id=r["task_id"],
            map_index=r["map_index"],
            state=body.new_state,
        )
        for r in rows
    ]
    return rows, events


async def _reread(conn: SessionDep, rows: list[Row]) -> TaskInstanceCollectionResponse:
    fresh = [await _ti_row(conn, r["dag_id"], r["run_id"], r["task_id"], r["map_index"]) for r in rows]
    return TaskInstanceCollectionResponse(
        task_instances=await _responses(conn, fresh), total_entries=len(fresh)
    )


@router.patch("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/dry_run", responses=_ERRORS)
async def patch_task_instance_dry_run(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    body: PatchTaskInstanceBody,
    conn: SessionDep,
    map_index: int = -1,
) -> TaskInstanceCollectionResponse:
    """The task instances a mark success / failed / skipped would change; nothing is changed."""
    rows, _ = await _marked(conn, dag_id, dag_run_id, task_id, map_index, body)
    return TaskInstanceCollectionResponse(
        task_instances=await _responses(conn, rows), total_entries=len(rows)
    )


@router.patch("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", responses=_ERRORS)
async def patch_task_instance(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    body: PatchTaskInstanceBody,
    conn: SessionDep,
    writer: WriterDep,
    map_index: int = -1,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> TaskInstanceCollectionResponse:
    """Mark the task instance (and, on request, its relatives and other runs) success, failed or
    skipped. Answers with the task instances it changed."""
    fields = set(update_mask) if update_mask else body.model_fields_set
    if update_mask and fields - {"new_state", "note"}:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "Only `new_state` and `note` can be updated through the REST API"
        )
    sets_note = "note" in fields
    if body.new_state is None and not sets_note:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "new_state or note is required")
    rows: list[Row] = []
    events: list[Event] = []
    if body.new_state is not None:
        rows, events = await _marked(conn, dag_id, dag_run_id, task_id, map_index, body)
    if sets_note:
        target = await _ti_row(conn, dag_id, dag_run_id, task_id, map_index)
        events.append(
            TaskInstanceNoteSet(
                dag_id=dag_id, run_id=dag_run_id, task_id=task_id, map_index=map_index, note=body.note
            )
        )
        if not any(r["task_id"] == task_id and r["run_id"] == dag_run_id for r in rows):
            rows.append(target)
    if events:
        await writer.append(*events)
    return await _reread(conn, rows)


@router.post("/dags/{dag_id}/clearTaskInstances", responses=_ERRORS)
async def post_clear_task_instances(
    dag_id: str, body: ClearTaskInstancesBody, conn: SessionDep, writer: WriterDep
) -> TaskInstanceCollectionResponse:
    """Clear task instances so they run again (``dry_run``, the default, only lists them).

    Without ``task_ids`` every task is cleared; ``only_failed`` (default true) keeps failed and
    upstream_failed ones; ``dag_run_id`` or ``start_date``/``end_date`` (on logical dates) pick runs.
    """
    spec = await _latest_spec(conn, dag_id)
    runs = select(t.dag_run).where(t.dag_run.c.dag_id == dag_id)
    if body.dag_run_id is not None:
        run_row = await dag_run_row(conn, dag_id, body.dag_run_id)
        run_ids = await _run_ids_around(
            conn, dag_id, run_row, past=body.include_past, future=body.include_future
        )
        runs = runs.where(t.dag_run.c.run_id.in_(run_ids))
    runs = runs.where(*filters.value_range(t.dag_run.c.logical_date, gte=body.start_date, lte=body.end_date))
    run_ids = list((await conn.execute(runs.with_only_columns(t.dag_run.c.run_id))).scalars())
    task_ids = (
        with_relatives(
            spec, body.task_ids, upstream=body.include_upstream, downstream=body.include_downstream
        )
        if body.task_ids
        else None
    )
    query = _joined().where(ti.c.dag_id == dag_id, ti.c.run_id.in_(run_ids))
    if task_ids is not None:
        query = query.where(ti.c.task_id.in_(task_ids))
    if body.only_failed:
        query = query.where(ti.c.state.in_(_CLEARABLE_FAILED))
    if body.only_running:
        query = query.where(ti.c.state == "running")
    rows = list((await conn.execute(query.order_by(ti.c.run_id, ti.c.task_id))).mappings())
    if not body.dry_run and rows:
        by_run: dict[str, set[str]] = {}
        for r in rows:
            by_run.setdefault(r["run_id"], set()).add(r["task_id"])
        await writer.append(
            *(
                TaskInstancesCleared(
                    dag_id=dag_id,
                    run_id=run_id,
                    task_ids=tuple(sorted(tasks)),
                    reset_dag_run=body.reset_dag_runs,
                )
                for run_id, tasks in sorted(by_run.items())
            )
        )
        return await _reread(conn, rows)
    return TaskInstanceCollectionResponse(
        task_instances=await _responses(conn, rows), total_entries=len(rows)
    )
