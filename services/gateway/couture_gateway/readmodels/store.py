"""SQL side of the fold: load a batch's scopes into a ``RowSet``, write its changes back.

One code path for SQLite and PostgreSQL: Core statements, and upserts through the dialect's own
``INSERT ... ON CONFLICT`` (both spell it the same way), chosen by the connection's dialect.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from couture_gateway.readmodels import tables
from couture_gateway.readmodels.rowset import KEYS, Change, Row, RowSet, Scope

# Keeps each query well under SQLite's bound-parameter and expression-depth limits (and asyncpg's).
_CHUNK = 200
_OR_SIZES = (1, 8, 64, _CHUNK)
_TABLES = {t.name: t for t in tables.metadata.sorted_tables}


async def load(conn: AsyncConnection, scopes: Iterable[Scope]) -> RowSet:
    """Every row in ``scopes``, one query per table and column set (chunked)."""
    grouped: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = defaultdict(set)
    for scope in scopes:
        grouped[(scope.table, scope.columns)].add(scope.values)
    rows = RowSet()
    for (table_name, columns), values in grouped.items():
        ordered = sorted(values)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            query, params = _scope_query(table_name, columns, chunk)
            result = await conn.execute(query, params)
            found: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
            for row in result.mappings():
                found[tuple(row[c] for c in columns)].append(dict(row))
            for value in chunk:
                rows.add_loaded(Scope(table_name, columns, value), found.get(value, ()))
    return rows


def _scope_query(
    table_name: str, columns: tuple[str, ...], chunk: list[tuple[Any, ...]]
) -> tuple[sa.Select[Any], dict[str, Any]]:
    if len(columns) == 1:
        return _in_query(table_name, columns[0]), {"values": [v[0] for v in chunk]}
    # Padded with repeats to a few fixed sizes, so the statement is compiled and prepared once each.
    size = next(n for n in _OR_SIZES if n >= len(chunk))
    padded = chunk + [chunk[-1]] * (size - len(chunk))
    params = {f"v{i}_{j}": value for i, values in enumerate(padded) for j, value in enumerate(values)}
    return _or_query(table_name, columns, size), params


@functools.cache
def _in_query(table_name: str, column: str) -> sa.Select[Any]:
    table = _TABLES[table_name]
    return sa.select(table).where(table.c[column].in_(sa.bindparam("values", expanding=True)))


@functools.cache
def _or_query(table_name: str, columns: tuple[str, ...], size: int) -> sa.Select[Any]:
    # OR of equalities, not a row-value IN: SQLite scans the whole table for the latter.
    table = _TABLES[table_name]
    return sa.select(table).where(
        sa.or_(
            *(
                sa.and_(*(table.c[c] == sa.bindparam(f"v{i}_{j}") for j, c in enumerate(columns)))
                for i in range(size)
            )
        )
    )


async def write(conn: AsyncConnection, rows: RowSet) -> None:
    for change in rows.changes():
        await _write_change(conn, change)


@functools.cache
def upsert(dialect: str, table: sa.Table, *, do_nothing: bool = False) -> sa.Insert:
    """``INSERT ... ON CONFLICT (natural key) DO UPDATE`` (or ``DO NOTHING``) for ``dialect``."""
    insert: Any
    if dialect == "sqlite":
        insert = sqlite.insert
    elif dialect == "postgresql":
        insert = postgresql.insert
    else:
        raise ValueError(f"read models support sqlite and postgresql, not {dialect!r}")
    keys = KEYS[table.name]
    stmt = insert(table)
    updated = {c.name: stmt.excluded[c.name] for c in table.c if c.name not in keys}
    if do_nothing or not updated:
        result: sa.Insert = stmt.on_conflict_do_nothing(index_elements=keys)
        return result
    result = stmt.on_conflict_do_update(index_elements=keys, set_=updated)
    return result


async def _write_change(conn: AsyncConnection, change: Change) -> None:
    dialect = conn.dialect.name
    table = change.table
    keys = KEYS[table.name]
    if change.deletes:
        where = sa.and_(*(table.c[k] == sa.bindparam(f"key_{k}") for k in keys))
        await conn.execute(
            sa.delete(table).where(where),
            [{f"key_{k}": v for k, v in zip(keys, key, strict=True)} for key in change.deletes],
        )
    if change.upserts:
        await conn.execute(upsert(dialect, table), change.upserts)
    if change.inserts:
        await conn.execute(upsert(dialect, table, do_nothing=True), change.inserts)
