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

# Keeps each IN list well under SQLite's and asyncpg's bound-parameter limits.
_CHUNK = 400
_TABLES = {t.name: t for t in tables.metadata.sorted_tables}


async def load(conn: AsyncConnection, scopes: Iterable[Scope]) -> RowSet:
    """Every row in ``scopes``, one query per table and column set (chunked)."""
    grouped: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = defaultdict(set)
    for scope in scopes:
        grouped[(scope.table, scope.columns)].add(scope.values)
    rows = RowSet()
    for (table_name, columns), values in grouped.items():
        table = _TABLES[table_name]
        ordered = sorted(values)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            if len(columns) == 1:
                where = table.c[columns[0]].in_([v[0] for v in chunk])
            else:
                where = sa.tuple_(*(table.c[c] for c in columns)).in_(chunk)
            result = await conn.execute(sa.select(table).where(where))
            found: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
            for row in result.mappings():
                found[tuple(row[c] for c in columns)].append(dict(row))
            for value in chunk:
                rows.add_loaded(Scope(table_name, columns, value), found.get(value, ()))
    return rows


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
