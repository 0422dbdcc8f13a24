"""Couture: the several entries of one connection id (``/api/couture/connections/{id}/entries``).

Airflow's API shows one connection per id (see ``connections``); these routes list every entry,
add one more to an id (tasks then pick one at random per use) and delete a single entry.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from couture_common.events import ConnectionDeleted
from couture_common.ids import new_id
from couture_gateway.api.lookups import not_found
from couture_gateway.api.routes.connections import check_extra, entries_of, entry_event, entry_response
from couture_gateway.deps import SessionDep, SettingsDep, WriterDep
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.connections import (
    ConnectionBody,
    ConnectionEntryCollectionResponse,
    ConnectionEntryResponse,
)

router = APIRouter(tags=["Connection entries (Couture)"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": HTTPExceptionResponse},
    404: {"model": HTTPExceptionResponse},
}


@router.get("/connections/{connection_id}/entries", responses=_ERRORS)
async def get_connection_entries(
    connection_id: str, conn: SessionDep, settings: SettingsDep
) -> ConnectionEntryCollectionResponse:
    """Every entry of the id, oldest (the primary one) first."""
    rows = await entries_of(conn, connection_id)
    if not rows:
        raise not_found(f"The Connection with connection_id: `{connection_id}` was not found")
    box = settings.secret_box
    return ConnectionEntryCollectionResponse(
        entries=[entry_response(r, box) for r in rows], total_entries=len(rows)
    )


@router.post("/connections/{connection_id}/entries", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
async def post_connection_entry(
    connection_id: str, body: ConnectionBody, settings: SettingsDep, writer: WriterDep
) -> ConnectionEntryResponse:
    """Add an entry to the id (creating the id if it has none)."""
    if body.connection_id != connection_id:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "The connection_id in the request body does not match the URL parameter",
        )
    check_extra(body.extra)
    event = entry_event(new_id(), body, settings.secret_box)
    await writer.append(event)
    return ConnectionEntryResponse.model_validate(
        {
            "entry_id": event.entry_id,
            "connection_id": event.conn_id,
            "conn_type": event.conn_type,
            "description": event.description,
            "host": event.host,
            "login": event.login,
            "schema": event.schema,
            "port": event.port,
            "extra": body.extra,
        }
    )


@router.delete(
    "/connections/{connection_id}/entries/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
)
async def delete_connection_entry(
    connection_id: str, entry_id: str, conn: SessionDep, writer: WriterDep
) -> Response:
    if not any(r["entry_id"] == entry_id for r in await entries_of(conn, connection_id)):
        raise not_found(f"Connection `{connection_id}` has no entry `{entry_id}`")
    await writer.append(ConnectionDeleted(entry_id=entry_id, conn_id=connection_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
