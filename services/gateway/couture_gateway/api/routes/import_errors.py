"""Import errors: DAG files that failed to parse, with the parser's stack trace, shown per the
DAGs the user may read (``api.import_error_access``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from couture_gateway.api import filters
from couture_gateway.api.import_error_access import REDACTED_STACKTRACE, Visibility, visibility
from couture_gateway.api.lookups import not_found
from couture_gateway.api.paging import PageDep, fetch_page
from couture_gateway.api.rows import Row
from couture_gateway.deps import ReadableDags, SessionDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.import_errors import ImportErrorCollectionResponse, ImportErrorResponse

router = APIRouter(tags=["ImportError"])

ie = t.import_error
_ORDER: dict[str, ColumnElement[Any]] = {
    "id": ie.c.import_error_id,
    "import_error_id": ie.c.import_error_id,
    "timestamp": ie.c.timestamp,
    "filename": ie.c.filename,
    "stacktrace": ie.c.stacktrace,
}


def _response(row: Row, shown: Visibility) -> ImportErrorResponse:
    return ImportErrorResponse(
        import_error_id=row["import_error_id"],
        timestamp=row["timestamp"],
        filename=row["filename"],
        bundle_name="dags-folder",
        stack_trace=row["stacktrace"] if shown is Visibility.FULL else REDACTED_STACKTRACE,
    )


async def _dags_of(conn: AsyncConnection, filenames: Sequence[str]) -> dict[str, frozenset[str]]:
    """The DAG ids each file defines (stale ones too: the error may be why they went stale)."""
    query = select(t.dag.c.fileloc, t.dag.c.dag_id).where(t.dag.c.fileloc.in_(sorted(set(filenames))))
    found: dict[str, set[str]] = defaultdict(set)
    for fileloc, dag_id in await conn.execute(query):
        found[fileloc].add(dag_id)
    return {name: frozenset(found.get(name, ())) for name in filenames}


@router.get("/importErrors")
async def get_import_errors(
    conn: SessionDep,
    page: PageDep,
    readable: ReadableDags,
    filename_pattern: str | None = None,
    filename: str | None = None,
) -> ImportErrorCollectionResponse:
    """Errors of files defining a DAG the user may read (every error for who may read every DAG)."""
    query = select(ie).where(*filters.pattern(ie.c.filename, filename_pattern))
    if filename is not None:
        query = query.where(ie.c.filename == filename)
    if readable is not None:
        defines_readable = exists().where(
            t.dag.c.fileloc == ie.c.filename, t.dag.c.dag_id.in_(sorted(readable))
        )
        query = query.where(defines_readable)
    rows, total = await fetch_page(conn, query, page, columns=_ORDER, default_order=["import_error_id"])
    dags = await _dags_of(conn, [r["filename"] for r in rows])
    errors = [_response(r, visibility(dags[r["filename"]], readable)) for r in rows]
    return ImportErrorCollectionResponse(import_errors=errors, total_entries=total)


@router.get(
    "/importErrors/{import_error_id}",
    responses={403: {"model": HTTPExceptionResponse}, 404: {"model": HTTPExceptionResponse}},
)
async def get_import_error(
    import_error_id: int, conn: SessionDep, readable: ReadableDags
) -> ImportErrorResponse:
    row = (await conn.execute(select(ie).where(ie.c.import_error_id == import_error_id))).mappings().first()
    if row is None:
        raise not_found(f"The ImportError with import_error_id: `{import_error_id}` was not found")
    shown = visibility((await _dags_of(conn, [row["filename"]]))[row["filename"]], readable)
    if shown is Visibility.HIDDEN:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "You do not have read permission on any of the DAGs in the file"
        )
    return _response(row, shown)
