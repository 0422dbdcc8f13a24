"""Versions of a DAG: one per distinct file content it was parsed from, numbered 1, 2, 3..."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import ColumnElement, select

from couture_gateway.api.lookups import dag_row, not_found
from couture_gateway.api.paging import PageDep, fetch_page
from couture_gateway.api.rows import dag_version_response
from couture_gateway.deps import SessionDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.dags import DAGVersionCollectionResponse, DagVersionResponse

router = APIRouter(tags=["DagVersion"])

v = t.dag_version
_ORDER: dict[str, ColumnElement[Any]] = {
    "id": v.c.version_number,
    "version_number": v.c.version_number,
    "bundle_version": v.c.version,
    "created_at": v.c.created_at,
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": HTTPExceptionResponse}}


@router.get("/dags/{dag_id}/dagVersions", responses=_NOT_FOUND)
async def get_dag_versions(
    dag_id: str, conn: SessionDep, page: PageDep, version_number: int | None = None
) -> DAGVersionCollectionResponse:
    await dag_row(conn, dag_id)
    query = select(v).where(v.c.dag_id == dag_id)
    if version_number is not None:
        query = query.where(v.c.version_number == version_number)
    rows, total = await fetch_page(conn, query, page, columns=_ORDER, default_order=["version_number"])
    return DAGVersionCollectionResponse(
        dag_versions=[dag_version_response(r) for r in rows], total_entries=total
    )


@router.get("/dags/{dag_id}/dagVersions/{version_number}", responses=_NOT_FOUND)
async def get_dag_version(dag_id: str, version_number: int, conn: SessionDep) -> DagVersionResponse:
    query = select(v).where(v.c.dag_id == dag_id, v.c.version_number == version_number)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(
            f"The DagVersion with dag_id: `{dag_id}` and version_number: `{version_number}` was not found"
        )
    return dag_version_response(row)
