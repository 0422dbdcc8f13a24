"""Pools: slots shared by task instances; ``default_pool`` always exists and cannot be deleted."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from couture_common.events import Event, PoolDeleted, PoolSet
from couture_gateway.api import filters
from couture_gateway.api.bulk import BulkPlan, BulkRefused
from couture_gateway.api.lookups import not_found
from couture_gateway.api.paging import PageDep, fetch_page
from couture_gateway.api.rows import Row
from couture_gateway.deps import SessionDep, WriterDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.bulk import BulkBody, BulkResponse
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.pools import PoolBody, PoolCollectionResponse, PoolPatchBody, PoolResponse

router = APIRouter(tags=["Pool"])

DEFAULT_POOL = "default_pool"
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": HTTPExceptionResponse},
    404: {"model": HTTPExceptionResponse},
    409: {"model": HTTPExceptionResponse},
}
_ORDER: dict[str, ColumnElement[Any]] = {
    "name": t.pool.c.name,
    "pool": t.pool.c.name,
    "id": t.pool.c.name,
    "slots": t.pool.c.slots,
}
_OCCUPYING = ("running", "queued", "scheduled", "deferred")


async def _usage(conn: AsyncConnection, names: list[str]) -> dict[tuple[str, str], int]:
    """Slots taken per (pool, state) by task instances in the states that hold or wait for slots."""
    ti = t.task_instance
    query = (
        select(ti.c.pool, ti.c.state, func.sum(ti.c.pool_slots))
        .where(ti.c.pool.in_(names), ti.c.state.in_(_OCCUPYING))
        .group_by(ti.c.pool, ti.c.state)
    )
    return {(pool, state): int(n or 0) for pool, state, n in await conn.execute(query)}


def pool_response(row: Row, usage: dict[tuple[str, str], int]) -> PoolResponse:
    name, slots = row["name"], row["slots"]
    counts = {state: usage.get((name, state), 0) for state in _OCCUPYING}
    occupied = counts["running"] + counts["queued"] + (counts["deferred"] if row["include_deferred"] else 0)
    return PoolResponse(
        name=name,
        slots=slots,
        description=row["description"],
        include_deferred=row["include_deferred"],
        occupied_slots=occupied,
        running_slots=counts["running"],
        queued_slots=counts["queued"],
        scheduled_slots=counts["scheduled"],
        deferred_slots=counts["deferred"],
        # -1 slots means unlimited, and so are the open ones.
        open_slots=-1 if slots == -1 else slots - occupied,
    )


async def _responses(conn: AsyncConnection, rows: list[Row]) -> list[PoolResponse]:
    usage = await _usage(conn, [r["name"] for r in rows])
    return [pool_response(r, usage) for r in rows]


async def _row(conn: AsyncConnection, name: str) -> Row | None:
    row: Row | None = (await conn.execute(select(t.pool).where(t.pool.c.name == name))).mappings().first()
    return row


async def _existing(conn: AsyncConnection, name: str) -> Row:
    row = await _row(conn, name)
    if row is None:
        raise not_found(f"The Pool with name: `{name}` was not found")
    return row


@router.get("/pools")
async def get_pools(
    conn: SessionDep, page: PageDep, pool_name_pattern: str | None = None
) -> PoolCollectionResponse:
    query = select(t.pool).where(*filters.pattern(t.pool.c.name, pool_name_pattern))
    rows, total = await fetch_page(conn, query, page, columns=_ORDER, default_order=["name"])
    return PoolCollectionResponse(pools=await _responses(conn, rows), total_entries=total)


@router.get("/pools/{pool_name}", responses=_ERRORS)
async def get_pool(pool_name: str, conn: SessionDep) -> PoolResponse:
    return (await _responses(conn, [await _existing(conn, pool_name)]))[0]


@router.post("/pools", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
async def post_pool(body: PoolBody, conn: SessionDep, writer: WriterDep) -> PoolResponse:
    if await _row(conn, body.name) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"The Pool with name: `{body.name}` already exists")
    event = PoolSet(
        name=body.name, slots=body.slots, description=body.description, include_deferred=body.include_deferred
    )
    await writer.append(event)
    return await _answer(conn, event)


@router.patch("/pools/{pool_name}", responses=_ERRORS)
async def patch_pool(
    pool_name: str,
    body: PoolPatchBody,
    conn: SessionDep,
    writer: WriterDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> PoolResponse:
    """Change slots, description or include_deferred; pools are not renamed."""
    current = await _existing(conn, pool_name)
    if body.pool is not None and body.pool != pool_name:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Invalid body, pool name cannot be changed")
    fields = (set(update_mask) if update_mask else set(body.model_fields_set)) - {"pool"}
    editable = {"slots", "include_deferred"}
    if pool_name != DEFAULT_POOL:
        editable.add("description")
    if unknown := fields - editable:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"Field `{sorted(unknown)[0]}` of pool `{pool_name}` cannot be updated",
        )
    slots = body.slots if "slots" in fields else current["slots"]
    include_deferred = body.include_deferred if "include_deferred" in fields else current["include_deferred"]
    if slots is None or include_deferred is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "slots and include_deferred cannot be null")
    event = PoolSet(
        name=pool_name,
        slots=slots,
        description=body.description if "description" in fields else current["description"],
        include_deferred=include_deferred,
    )
    await writer.append(event)
    return await _answer(conn, event)


@router.delete("/pools/{pool_name}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def delete_pool(pool_name: str, conn: SessionDep, writer: WriterDep) -> Response:
    if pool_name == DEFAULT_POOL:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Default Pool can't be deleted")
    await _existing(conn, pool_name)
    await writer.append(PoolDeleted(name=pool_name))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _answer(conn: AsyncConnection, event: PoolSet) -> PoolResponse:
    """The pool as written, with current usage (the write itself is in the log already)."""
    row = {
        "name": event.name,
        "slots": event.slots,
        "description": event.description,
        "include_deferred": event.include_deferred,
    }
    return (await _responses(conn, [row]))[0]


@router.patch("/pools", responses=_ERRORS)
async def bulk_pools(body: BulkBody[PoolBody], conn: SessionDep, writer: WriterDep) -> BulkResponse:
    """Create, update and delete several pools; accepted actions are appended atomically."""
    names = {e if isinstance(e, str) else e.name for action in body.actions for e in action.entities}
    rows = {
        r["name"]: r for r in (await conn.execute(select(t.pool).where(t.pool.c.name.in_(names)))).mappings()
    }

    def write(entity: PoolBody, exists: bool, mask: list[str] | None) -> list[Event]:
        current = rows.get(entity.name) if exists else None
        given = entity.model_dump(include={"slots", "description", "include_deferred"})
        kept = set() if current is None or mask is None else set(given) - set(mask)
        merged = {k: current[k] if current and k in kept else v for k, v in given.items()}
        return [PoolSet(name=entity.name, **merged)]

    def delete(name: str) -> list[Event]:
        if name == DEFAULT_POOL:
            raise BulkRefused("Default Pool can't be deleted")
        return [PoolDeleted(name=name)]

    plan = BulkPlan(noun="pool", existing=set(rows), key=lambda e: e.name, write=write, delete=delete)
    response, events = plan.apply(body)
    if events:
        await writer.append(*events)
    return response
