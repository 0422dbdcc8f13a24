"""Import errors: DAG files that failed to parse, with the parser's stack trace."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import ColumnElement, select

from couture_gateway.api import filters
from couture_gateway.api.lookups import not_found
from couture_gateway.api.paging import PageDep, fetch_page
from couture_gateway.api.rows import Row
from couture_gateway.deps import SessionDep
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


def _response(row: Row) -> ImportErrorResponse:
    return ImportErrorResponse(
        import_error_id=row["import_error_id"],
        timestamp=row["timestamp"],
        filename=row["filename"],
        bundle_name="dags-folder",
        stack_trace=row["stacktrace"],
    )


@router.get("/importErrors")
async def get_import_errors(
    conn: SessionDep, page: PageDep, filename_pattern: str | None = None, filename: str | None = None
) -> ImportErrorCollectionResponse:
    query = select(ie).where(*filters.pattern(ie.c.filename, filename_pattern))
    if filename is not None:
        query = query.where(ie.c.filename == filename)
    rows, total = await fetch_page(conn, query, page, columns=_ORDER, default_order=["import_error_id"])
    return ImportErrorCollectionResponse(import_errors=[_response(r) for r in rows], total_entries=total)


@router.get("/importErrors/{import_error_id}", responses={404: {"model": HTTPExceptionResponse}})
async def get_import_error(import_error_id: int, conn: SessionDep) -> ImportErrorResponse:
    row = (await conn.execute(select(ie).where(ie.c.import_error_id == import_error_id))).mappings().first()
    if row is None:
        raise not_found(f"The ImportError with import_error_id: `{import_error_id}` was not found")
    return _response(row)
