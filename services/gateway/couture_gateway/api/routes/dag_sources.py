"""``GET /api/v2/dagSources/{dag_id}``: the DAG file's text, from the blob store by content hash."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import select

from couture_gateway.api.lookups import dag_row, not_found
from couture_gateway.deps import SessionDep, SettingsDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.dag_sources import DAGSourceResponse

router = APIRouter(tags=["DagSource"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
    404: {"model": HTTPExceptionResponse},
}


@router.get("/dagSources/{dag_id}", responses=_RESPONSES, response_model=DAGSourceResponse)
async def get_dag_source(
    dag_id: str,
    conn: SessionDep,
    settings: SettingsDep,
    version_number: int | None = None,
    accept: Annotated[str, Header()] = "application/json",
) -> Response | DAGSourceResponse:
    """JSON by default; the bare source with ``Accept: text/plain``."""
    dag = await dag_row(conn, dag_id)
    query = select(t.dag_version).where(t.dag_version.c.dag_id == dag_id)
    if version_number is None:
        query = query.where(t.dag_version.c.version == dag["latest_version"])
    else:
        query = query.where(t.dag_version.c.version_number == version_number)
    version = (await conn.execute(query)).mappings().first()
    if version is None:
        raise not_found(f"The source of Dag `{dag_id}` with version {version_number} was not found")
    blob = settings.blobs_path / "dags" / f"{version['version']}.py"
    try:
        content = blob.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise not_found(f"The source of Dag `{dag_id}` is missing from the blob store") from None
    if "text/plain" in accept and "application/json" not in accept:
        return PlainTextResponse(content)
    return DAGSourceResponse(
        content=content,
        dag_id=dag_id,
        version_number=version["version_number"],
        dag_display_name=dag_id,
    )
