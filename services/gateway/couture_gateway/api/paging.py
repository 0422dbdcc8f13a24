"""Airflow's list conventions: ``limit`` (default 50, at most 100), ``offset`` and ``order_by``.

``order_by`` names one or more fields, ``-`` in front for descending; an unknown field is a 400
with Airflow's own wording, so scripts written against Airflow read the same error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, status
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int
    order_by: tuple[str, ...]


async def page_params(
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT, description="Entries per page.")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="Entries to skip.")] = 0,
    order_by: Annotated[
        list[str] | None,
        Query(description="Fields to order by; prefix with `-` for descending order."),
    ] = None,
) -> Page:
    return Page(limit=limit, offset=offset, order_by=tuple(order_by or ()))


PageDep = Annotated[Page, Depends(page_params)]


def ordering(
    order_by: Sequence[str], columns: Mapping[str, ColumnElement[Any]], default: Sequence[str]
) -> list[ColumnElement[Any]]:
    """SQL ORDER BY terms for ``order_by`` (``default`` when empty); unknown fields are a 400."""
    clauses: list[ColumnElement[Any]] = []
    for raw in [part for item in (order_by or default) for part in item.split(",") if part.strip()]:
        name = raw.strip()
        descending = name.startswith("-")
        field = name.lstrip("-")
        column = columns.get(field)
        if column is None:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                f"Ordering with '{field}' is disallowed or the attribute does not exist on the model",
            )
        clauses.append(column.desc() if descending else column.asc())
    return clauses


async def fetch_page(
    conn: AsyncConnection,
    query: Select[Any],
    page: Page,
    *,
    columns: Mapping[str, ColumnElement[Any]],
    default_order: Sequence[str],
) -> tuple[list[Any], int]:
    """One page of ``query``'s rows and the total number of rows it matches.

    ``default_order`` must name a unique key: it also breaks ties of the caller's ``order_by``,
    so pages never overlap or skip rows that compare equal.
    """
    order = ordering(page.order_by, columns, default_order)
    if page.order_by:
        order += ordering(default_order, columns, default_order)
    total = await conn.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await conn.execute(query.order_by(*order).limit(page.limit).offset(page.offset))
    return list(rows.mappings()), int(total or 0)
