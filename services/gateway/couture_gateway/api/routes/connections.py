"""Connections, Airflow-shaped, with Couture's several entries per ``connection_id``.

Several entries may share a ``connection_id``; tasks pick one at random per use. Airflow's API
sees one connection per id, its *primary* entry (the oldest one):

* ``GET /api/v2/connections[/{id}]`` and ``PATCH`` show and change the primary entry;
* ``POST /api/v2/connections`` creates an id's first entry (409 when the id exists);
* ``DELETE /api/v2/connections/{id}`` deletes every entry of the id.

The entries themselves are under ``/api/couture/connections/{id}/entries`` (see
``connection_entries``). Passwords are write-only: answers never carry them, and secret-looking
keys inside ``extra`` are masked.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from couture_common.events import ConnectionDeleted, ConnectionSet, Event
from couture_common.ids import new_id
from couture_common.secrets import MASK, SecretBox, is_sensitive_key
from couture_gateway.api import filters
from couture_gateway.api.bulk import BulkPlan, BulkRefused
from couture_gateway.api.lookups import not_found
from couture_gateway.api.paging import PageDep, fetch_page
from couture_gateway.api.rows import Row
from couture_gateway.deps import SessionDep, SettingsDep, WriterDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.bulk import BulkBody, BulkResponse
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.connections import (
    ConnectionBody,
    ConnectionCollectionResponse,
    ConnectionEntryResponse,
    ConnectionResponse,
)

router = APIRouter(tags=["Connection"])

c = t.connection
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": HTTPExceptionResponse},
    404: {"model": HTTPExceptionResponse},
    409: {"model": HTTPExceptionResponse},
}
_ORDER: dict[str, ColumnElement[Any]] = {
    "connection_id": c.c.conn_id,
    "conn_id": c.c.conn_id,
    "id": c.c.conn_id,
    "conn_type": c.c.conn_type,
    "description": c.c.description,
    "host": c.c.host,
    "port": c.c.port,
}
_EDITABLE = {"conn_type", "description", "host", "login", "schema", "port", "password", "extra"}


def masked_extra(extra: str | None) -> str | None:
    """``extra`` with the values of secret-looking keys replaced by ``***``."""
    if extra is None:
        return None
    try:
        parsed = json.loads(extra)
    except ValueError:
        return extra
    if not isinstance(parsed, dict):
        return extra
    return json.dumps({k: MASK if is_sensitive_key(k) else v for k, v in parsed.items()})


def connection_fields(row: Row, box: SecretBox) -> dict[str, Any]:
    return {
        "connection_id": row["conn_id"],
        "conn_type": row["conn_type"],
        "description": row["description"],
        "host": row["host"],
        "login": row["login"],
        "schema": row["schema"],
        "port": row["port"],
        "extra": masked_extra(box.decrypt(row["encrypted_extra"]) if row["encrypted_extra"] else None),
    }


def connection_response(row: Row, box: SecretBox) -> ConnectionResponse:
    return ConnectionResponse.model_validate(connection_fields(row, box))


def entry_response(row: Row, box: SecretBox) -> ConnectionEntryResponse:
    return ConnectionEntryResponse.model_validate(
        {**connection_fields(row, box), "entry_id": row["entry_id"]}
    )


def _primaries() -> Select[Any]:
    """The oldest entry of each connection id (entry ids are time-ordered UUIDv7s)."""
    first = select(c.c.conn_id, func.min(c.c.entry_id).label("entry_id")).group_by(c.c.conn_id).subquery()
    return select(c).join(first, first.c.entry_id == c.c.entry_id)


async def entries_of(conn: AsyncConnection, connection_id: str) -> list[Row]:
    query = select(c).where(c.c.conn_id == connection_id).order_by(c.c.entry_id)
    return list((await conn.execute(query)).mappings())


async def _primary(conn: AsyncConnection, connection_id: str) -> Row:
    entries = await entries_of(conn, connection_id)
    if not entries:
        raise not_found(f"The Connection with connection_id: `{connection_id}` was not found")
    return entries[0]


def entry_event(entry_id: str, body: ConnectionBody, box: SecretBox) -> ConnectionSet:
    """The entry as it goes into the log: password and extra encrypted."""
    return ConnectionSet(
        entry_id=entry_id,
        conn_id=body.connection_id,
        conn_type=body.conn_type,
        description=body.description,
        host=body.host,
        schema=body.schema_,
        login=body.login,
        password=box.encrypt(body.password) if body.password is not None else None,
        port=body.port,
        extra=box.encrypt(body.extra) if body.extra is not None else None,
    )


def merged_entry(current: Row, body: ConnectionBody, fields: set[str], box: SecretBox) -> ConnectionBody:
    """The stored entry with ``fields`` taken from ``body`` (secrets decrypted to re-encrypt)."""
    stored = {
        "conn_type": current["conn_type"],
        "description": current["description"],
        "host": current["host"],
        "login": current["login"],
        "schema": current["schema"],
        "port": current["port"],
        "password": box.decrypt(current["encrypted_password"]) if current["encrypted_password"] else None,
        "extra": box.decrypt(current["encrypted_extra"]) if current["encrypted_extra"] else None,
    }
    given = body.model_dump(by_alias=True)
    return ConnectionBody.model_validate(
        {
            "connection_id": current["conn_id"],
            **{k: given[k] if k in fields else v for k, v in stored.items()},
        }
    )


def extra_problem(extra: str | None) -> str | None:
    if extra is None:
        return None
    try:
        json.loads(extra)
    except ValueError:
        return "extra must be a JSON document"
    return None


def check_extra(extra: str | None) -> None:
    if problem := extra_problem(extra):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"type": "json_invalid", "loc": ["body", "extra"], "msg": problem, "input": None}],
        )


@router.get("/connections")
async def get_connections(
    conn: SessionDep, settings: SettingsDep, page: PageDep, connection_id_pattern: str | None = None
) -> ConnectionCollectionResponse:
    query = _primaries().where(*filters.pattern(c.c.conn_id, connection_id_pattern))
    rows, total = await fetch_page(conn, query, page, columns=_ORDER, default_order=["conn_id"])
    box = settings.secret_box
    return ConnectionCollectionResponse(
        connections=[connection_response(r, box) for r in rows], total_entries=total
    )


@router.get("/connections/{connection_id}", responses=_ERRORS)
async def get_connection(connection_id: str, conn: SessionDep, settings: SettingsDep) -> ConnectionResponse:
    return connection_response(await _primary(conn, connection_id), settings.secret_box)


@router.post("/connections", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
async def post_connection(
    body: ConnectionBody, conn: SessionDep, settings: SettingsDep, writer: WriterDep
) -> ConnectionResponse:
    check_extra(body.extra)
    if await entries_of(conn, body.connection_id):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"The connection with connection_id: `{body.connection_id}` already exists.",
        )
    event = entry_event(new_id(), body, settings.secret_box)
    await writer.append(event)
    return _answer(event, body)


@router.patch("/connections/{connection_id}", responses=_ERRORS)
async def patch_connection(
    connection_id: str,
    body: ConnectionBody,
    conn: SessionDep,
    settings: SettingsDep,
    writer: WriterDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> ConnectionResponse:
    """Update the primary entry; ``update_mask`` limits which fields change (all by default)."""
    if body.connection_id != connection_id:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "The connection_id in the request body does not match the URL parameter",
        )
    check_extra(body.extra)
    current = await _primary(conn, connection_id)
    fields = set(update_mask) if update_mask else _EDITABLE
    if unknown := fields - _EDITABLE:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"Invalid field `{sorted(unknown)[0]}` in update mask"
        )
    merged = merged_entry(current, body, fields, settings.secret_box)
    event = entry_event(current["entry_id"], merged, settings.secret_box)
    await writer.append(event)
    return _answer(event, merged)


@router.delete("/connections/{connection_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def delete_connection(connection_id: str, conn: SessionDep, writer: WriterDep) -> Response:
    """Delete the connection id: all of its entries, in one atomic append."""
    entries = await entries_of(conn, connection_id)
    if not entries:
        raise not_found(f"The Connection with connection_id: `{connection_id}` was not found")
    await writer.append(*(ConnectionDeleted(entry_id=e["entry_id"], conn_id=connection_id) for e in entries))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _answer(event: ConnectionSet, body: ConnectionBody) -> ConnectionResponse:
    return ConnectionResponse.model_validate(
        {
            "connection_id": event.conn_id,
            "conn_type": event.conn_type,
            "description": event.description,
            "host": event.host,
            "login": event.login,
            "schema": event.schema,
            "port": event.port,
            "extra": masked_extra(body.extra),
        }
    )


@router.patch("/connections", responses=_ERRORS)
async def bulk_connections(
    body: BulkBody[ConnectionBody], conn: SessionDep, settings: SettingsDep, writer: WriterDep
) -> BulkResponse:
    """Create, update and delete several connection ids (updates change each id's primary entry;
    deletes remove all of an id's entries); accepted actions are appended atomically."""
    ids = {e if isinstance(e, str) else e.connection_id for action in body.actions for e in action.entities}
    entries = {cid: rows for cid in ids if (rows := await entries_of(conn, cid))}
    created: dict[str, str] = {}
    box = settings.secret_box

    def write(entity: ConnectionBody, exists: bool, mask: list[str] | None) -> list[Event]:
        if problem := extra_problem(entity.extra):
            raise BulkRefused(f"{entity.connection_id}: {problem}", status.HTTP_422_UNPROCESSABLE_CONTENT)
        fields = set(mask) if mask else _EDITABLE
        if unknown := fields - _EDITABLE:
            raise BulkRefused(f"Invalid field `{sorted(unknown)[0]}` in update mask")
        stored = entries.get(entity.connection_id)
        if stored:
            merged = merged_entry(stored[0], entity, fields, box)
            return [entry_event(stored[0]["entry_id"], merged, box)]
        entry_id = created.setdefault(entity.connection_id, new_id())
        return [entry_event(entry_id, entity, box)]

    def delete(connection_id: str) -> list[Event]:
        doomed = [e["entry_id"] for e in entries.pop(connection_id, [])]
        if connection_id in created:
            doomed.append(created.pop(connection_id))
        return [ConnectionDeleted(entry_id=entry_id, conn_id=connection_id) for entry_id in doomed]

    plan = BulkPlan(
        noun="connection", existing=set(entries), key=lambda e: e.connection_id, write=write, delete=delete
    )
    response, events = plan.apply(body)
    if events:
        await writer.append(*events)
    return response
