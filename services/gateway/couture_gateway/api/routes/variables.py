"""Variables. Values are Fernet-encrypted before they enter the log; values of keys that look
secret (password, secret, api_key...) are answered as ``***``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import ColumnElement, select

from couture_common.events import Event, VariableDeleted, VariableSet
from couture_common.secrets import MASK, SecretBox, is_sensitive_key
from couture_gateway.api import filters
from couture_gateway.api.bulk import BulkPlan
from couture_gateway.api.lookups import not_found
from couture_gateway.api.paging import PageDep, fetch_page
from couture_gateway.api.rows import Row
from couture_gateway.deps import SessionDep, SettingsDep, WriterDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.bulk import BulkBody, BulkResponse
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.variables import VariableBody, VariableCollectionResponse, VariableResponse

router = APIRouter(tags=["Variable"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": HTTPExceptionResponse},
    404: {"model": HTTPExceptionResponse},
    409: {"model": HTTPExceptionResponse},
}
_ORDER: dict[str, ColumnElement[Any]] = {
    "key": t.variable.c.key,
    "id": t.variable.c.key,
    "description": t.variable.c.description,
    "is_encrypted": t.variable.c.is_encrypted,
}


def variable_response(row: Row, box: SecretBox) -> VariableResponse:
    key = row["key"]
    value = MASK if is_sensitive_key(key) else box.decrypt(row["encrypted_value"])
    return VariableResponse(key=key, value=value, description=row["description"], is_encrypted=True)


def _text(value: Any) -> str:
    """Airflow keeps any JSON value; a non-string is stored as its JSON text."""
    return value if isinstance(value, str) else json.dumps(value)


async def _row(conn: SessionDep, key: str) -> Row | None:
    query = select(t.variable).where(t.variable.c.key == key)
    row: Row | None = (await conn.execute(query)).mappings().first()
    return row


async def _existing(conn: SessionDep, key: str) -> Row:
    row = await _row(conn, key)
    if row is None:
        raise not_found(f"The Variable with key: `{key}` was not found")
    return row


@router.get("/variables")
async def get_variables(
    conn: SessionDep, settings: SettingsDep, page: PageDep, variable_key_pattern: str | None = None
) -> VariableCollectionResponse:
    query = select(t.variable).where(*filters.pattern(t.variable.c.key, variable_key_pattern))
    rows, total = await fetch_page(conn, query, page, columns=_ORDER, default_order=["key"])
    box = settings.secret_box
    return VariableCollectionResponse(
        variables=[variable_response(r, box) for r in rows], total_entries=total
    )


@router.get("/variables/{variable_key}", responses=_ERRORS)
async def get_variable(variable_key: str, conn: SessionDep, settings: SettingsDep) -> VariableResponse:
    return variable_response(await _existing(conn, variable_key), settings.secret_box)


@router.post("/variables", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
async def post_variable(
    body: VariableBody, conn: SessionDep, settings: SettingsDep, writer: WriterDep
) -> VariableResponse:
    if await _row(conn, body.key) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"The Variable with key: `{body.key}` already exists")
    return await _set(body.key, _text(body.value), body.description, settings, writer)


@router.patch("/variables/{variable_key}", responses=_ERRORS)
async def patch_variable(
    variable_key: str,
    body: VariableBody,
    conn: SessionDep,
    settings: SettingsDep,
    writer: WriterDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> VariableResponse:
    """Update the value and/or description (``update_mask`` names which; both by default)."""
    if body.key != variable_key:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "Invalid body, key from request body doesn't match uri parameter"
        )
    current = await _existing(conn, variable_key)
    fields = set(update_mask or ("value", "description"))
    if unknown := fields - {"value", "description"}:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"Invalid field `{sorted(unknown)[0]}` in update mask"
        )
    box = settings.secret_box
    value = _text(body.value) if "value" in fields else box.decrypt(current["encrypted_value"])
    description = body.description if "description" in fields else current["description"]
    return await _set(variable_key, value, description, settings, writer)


@router.delete("/variables/{variable_key}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def delete_variable(variable_key: str, conn: SessionDep, writer: WriterDep) -> Response:
    await _existing(conn, variable_key)
    await writer.append(VariableDeleted(key=variable_key))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _set(
    key: str, value: str, description: str | None, settings: SettingsDep, writer: WriterDep
) -> VariableResponse:
    box = settings.secret_box
    await writer.append(VariableSet(key=key, value=box.encrypt(value), description=description))
    shown = MASK if is_sensitive_key(key) else value
    return VariableResponse(key=key, value=shown, description=description, is_encrypted=True)


@router.patch("/variables", responses=_ERRORS)
async def bulk_variables(
    body: BulkBody[VariableBody], conn: SessionDep, settings: SettingsDep, writer: WriterDep
) -> BulkResponse:
    """Create, update and delete several variables; accepted actions are appended atomically."""
    keys = {e if isinstance(e, str) else e.key for action in body.actions for e in action.entities}
    rows = {
        r["key"]: r
        for r in (await conn.execute(select(t.variable).where(t.variable.c.key.in_(keys)))).mappings()
    }
    box = settings.secret_box

    def write(entity: VariableBody, exists: bool, mask: list[str] | None) -> list[Event]:
        current = rows.get(entity.key) if exists else None
        kept = set() if current is None else {"value", "description"} - set(mask or ("value", "description"))
        value = (
            box.decrypt(current["encrypted_value"]) if current and "value" in kept else _text(entity.value)
        )
        description = current["description"] if current and "description" in kept else entity.description
        return [VariableSet(key=entity.key, value=box.encrypt(value), description=description)]

    plan = BulkPlan(
        noun="variable",
        existing=set(rows),
        key=lambda e: e.key,
        write=write,
        delete=lambda key: [VariableDeleted(key=key)],
    )
    response, events = plan.apply(body)
    if events:
        await writer.append(*events)
    return response
