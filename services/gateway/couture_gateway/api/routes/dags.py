"""DAGs: list, get, details, pause / unpause (one or many by filter) and their tags."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, func, or_, select

from couture_common.clock import utcnow
from couture_common.events import DagPausedSet
from couture_gateway.api import filters
from couture_gateway.api.access import only_readable
from couture_gateway.api.lookups import dag_row, dag_spec
from couture_gateway.api.paging import PageDep, fetch_page
from couture_gateway.api.rows import dag_details_response, dag_response
from couture_gateway.deps import ReadableDags, SessionDep, SettingsDep, WriterDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.dags import (
    DAGCollectionResponse,
    DAGDetailsResponse,
    DAGPatchBody,
    DAGResponse,
    DAGTagCollectionResponse,
)

router = APIRouter(tags=["DAG"])

_ORDER: dict[str, ColumnElement[Any]] = {
    "dag_id": t.dag.c.dag_id,
    "dag_display_name": t.dag.c.dag_id,
    "is_paused": t.dag.c.is_paused,
    "last_parsed_time": t.dag.c.last_parsed_time,
    "fileloc": t.dag.c.fileloc,
    "description": t.dag.c.description,
    "max_active_runs": t.dag.c.max_active_runs,
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": HTTPExceptionResponse}}


def _dag_filter(
    *,
    tags: list[str] | None,
    tags_match_mode: Literal["any", "all"] | None,
    owners: list[str] | None,
    dag_id_pattern: str | None,
    dag_display_name_pattern: str | None,
    exclude_stale: bool,
    paused: bool | None,
    has_import_errors: bool | None,
) -> list[ColumnElement[bool]]:
    clauses = [
        *filters.pattern(t.dag.c.dag_id, dag_id_pattern),
        *filters.pattern(t.dag.c.dag_id, dag_display_name_pattern),
    ]
    if exclude_stale:
        clauses.append(t.dag.c.is_active.is_(True))
    if paused is not None:
        clauses.append(t.dag.c.is_paused.is_(paused))
    if has_import_errors is not None:
        clauses.append(t.dag.c.has_import_errors.is_(has_import_errors))
    if tags:
        tagged = [
            exists().where(t.dag_tag.c.dag_id == t.dag.c.dag_id, t.dag_tag.c.name == tag) for tag in tags
        ]
        clauses.append(and_(*tagged) if tags_match_mode == "all" else or_(*tagged))
    if owners:
        # The owners column is a JSON array; its text holds each owner as a quoted string, on
        # SQLite and PostgreSQL alike.
        owner_text = cast(t.dag.c.owners, String)
        clauses.append(or_(*(owner_text.like(f'%"{owner}"%') for owner in owners)))
    return clauses


async def _list(
    conn: SessionDep, query: Select[Any], page: PageDep, settings: SettingsDep
) -> DAGCollectionResponse:
    rows, total = await fetch_page(conn, query, page, columns=_ORDER, default_order=["dag_id"])
    now = utcnow()
    return DAGCollectionResponse(
        dags=[dag_response(r, settings.dags_path, now) for r in rows], total_entries=total
    )


@router.get("/dags")
async def get_dags(
    conn: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    readable: ReadableDags,
    tags: Annotated[list[str] | None, Query()] = None,
    tags_match_mode: Literal["any", "all"] | None = None,
    owners: Annotated[list[str] | None, Query()] = None,
    dag_id_pattern: str | None = None,
    dag_display_name_pattern: str | None = None,
    exclude_stale: bool = True,
    only_active: Annotated[bool | None, Query(description="Airflow 2 name of `exclude_stale`.")] = None,
    paused: bool | None = None,
    has_import_errors: bool | None = None,
) -> DAGCollectionResponse:
    query = select(t.dag).where(
        *_dag_filter(
            tags=tags,
            tags_match_mode=tags_match_mode,
            owners=owners,
            dag_id_pattern=dag_id_pattern,
            dag_display_name_pattern=dag_display_name_pattern,
            exclude_stale=exclude_stale if only_active is None else only_active,
            paused=paused,
            has_import_errors=has_import_errors,
        ),
        *only_readable(t.dag.c.dag_id, readable),
    )
    return await _list(conn, query, page, settings)


def _check_mask(update_mask: list[str] | None) -> None:
    if update_mask and any(field != "is_paused" for field in update_mask):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "Only `is_paused` field can be updated through the REST API"
        )


@router.patch("/dags", responses={400: {"model": HTTPExceptionResponse}})
async def patch_dags(
    body: DAGPatchBody,
    conn: SessionDep,
    settings: SettingsDep,
    writer: WriterDep,
    page: PageDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
    tags: Annotated[list[str] | None, Query()] = None,
    tags_match_mode: Literal["any", "all"] | None = None,
    owners: Annotated[list[str] | None, Query()] = None,
    dag_id_pattern: str | None = None,
    exclude_stale: bool = True,
    paused: bool | None = None,
) -> DAGCollectionResponse:
    """Pause or unpause every DAG the filters match (one page of them), in one atomic append."""
    _check_mask(update_mask)
    query = select(t.dag).where(
        *_dag_filter(
            tags=tags,
            tags_match_mode=tags_match_mode,
            owners=owners,
            dag_id_pattern=dag_id_pattern,
            dag_display_name_pattern=None,
            exclude_stale=exclude_stale,
            paused=paused,
            has_import_errors=None,
        )
    )
    rows, _ = await fetch_page(conn, query, page, columns=_ORDER, default_order=["dag_id"])
    if rows:
        await writer.append(*(DagPausedSet(dag_id=r["dag_id"], is_paused=body.is_paused) for r in rows))
    now = utcnow()
    dags = [
        dag_response(r, settings.dags_path, now).model_copy(update={"is_paused": body.is_paused})
        for r in rows
    ]
    return DAGCollectionResponse(dags=dags, total_entries=len(dags))


@router.get("/dags/{dag_id}", responses=_NOT_FOUND)
async def get_dag(dag_id: str, conn: SessionDep, settings: SettingsDep) -> DAGResponse:
    return dag_response(await dag_row(conn, dag_id), settings.dags_path, utcnow())


@router.patch("/dags/{dag_id}", responses={**_NOT_FOUND, 400: {"model": HTTPExceptionResponse}})
async def patch_dag(
    dag_id: str,
    body: DAGPatchBody,
    conn: SessionDep,
    settings: SettingsDep,
    writer: WriterDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> DAGResponse:
    """Pause or unpause one DAG."""
    _check_mask(update_mask)
    await dag_row(conn, dag_id)
    await writer.append(DagPausedSet(dag_id=dag_id, is_paused=body.is_paused))
    row = await dag_row(conn, dag_id)
    return dag_response(row, settings.dags_path, utcnow()).model_copy(update={"is_paused": body.is_paused})


@router.get("/dags/{dag_id}/details", responses=_NOT_FOUND)
async def get_dag_details(dag_id: str, conn: SessionDep, settings: SettingsDep) -> DAGDetailsResponse:
    row = await dag_row(conn, dag_id)
    spec, version = await dag_spec(conn, row)
    active_runs = await conn.scalar(
        select(func.count()).where(t.dag_run.c.dag_id == dag_id, t.dag_run.c.state.in_(("queued", "running")))
    )
    return dag_details_response(row, spec, version, int(active_runs or 0), settings.dags_path, utcnow())


@router.get("/dagTags")
async def get_dag_tags(
    conn: SessionDep, page: PageDep, readable: ReadableDags, tag_name_pattern: str | None = None
) -> DAGTagCollectionResponse:
    """Tags of the DAGs the user may read: a tag only on other DAGs is not shown."""
    query = (
        select(t.dag_tag.c.name)
        .distinct()
        .where(
            *filters.pattern(t.dag_tag.c.name, tag_name_pattern),
            *only_readable(t.dag_tag.c.dag_id, readable),
        )
    )
    rows, total = await fetch_page(
        conn, query, page, columns={"name": t.dag_tag.c.name}, default_order=["name"]
    )
    return DAGTagCollectionResponse(tags=[r["name"] for r in rows], total_entries=total)
