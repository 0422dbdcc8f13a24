"""SQL side of the fold: load a batch's scopes into a ``RowSet``, write its changes back.

One code path for SQLite and PostgreSQL: Core statements, and upserts through the dialect's own
``INSERT ... ON CONFLICT`` (both spell it the same way), chosen by the connection's dialect.
Each runs as one statement per table and batch (``compiled``), for all its keys or rows: on
SQLite executed once per row (in-process, cheap), on PostgreSQL once for all of them, the rows
sent as one JSON document (``json_upsert``).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from couture_gateway.readmodels import tables
from couture_gateway.readmodels.compiled import compiled
from couture_gateway.readmodels.rowset import KEYS, Change, Row, RowSet, Scope

#: Scope values per load query, padded up to the next of these sizes so each table has a few
#: statements, compiled and prepared once each. Well under SQLite's and asyncpg's parameter limits.
_SIZES = (1, 8, 64, 256, 512)
_TABLES = {t.name: t for t in tables.metadata.sorted_tables}


async def load(
    conn: AsyncConnection, scopes: Iterable[Scope], *, carried: RowSet | None = None, unwritten: bool = False
) -> RowSet:
    """Every row in ``scopes``, one query per table and column set (chunked).

    Scopes ``carried`` holds (the previous batch's set, once committed) are taken from it, not
    read again: only for a caller that knows nobody else changed the tables since that commit.
    ``unwritten``: ``carried``'s changes are still to be written (and nobody else writes until
    they are); they are laid over the rows read here (``RowSet.lay_over``).
    """
    rows, missing = carried.carry(scopes) if carried is not None else (RowSet(), scopes)
    grouped: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = defaultdict(set)
    for scope in missing:
        grouped[(scope.table, scope.columns)].add(scope.values)
    for (table_name, columns), values in grouped.items():
        ordered = sorted(values)
        for start in range(0, len(ordered), _SIZES[-1]):
            chunk = ordered[start : start + _SIZES[-1]]
            size = next(n for n in _SIZES if n >= len(chunk))
            # NULL keys match no row: padding costs nothing but its parameters.
            padded = chunk + [(None,) * len(columns)] * (size - len(chunk))
            params = {f"v{i}_{j}": value for i, key in enumerate(padded) for j, value in enumerate(key)}
            query = compiled(
                conn.dialect,
                ("load", table_name, columns, size),
                functools.partial(_scope_query, table_name, columns, size),
            )
            found: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
            for row in await query.fetch(conn, params):
                found[tuple(row[c] for c in columns)].append(row)
            for value in chunk:
                rows.add_loaded(Scope(table_name, columns, value), found.get(value, ()))
    if unwritten and carried is not None:
        rows.lay_over(carried, {table for table, _columns in grouped})
    return rows


def _scope_query(table_name: str, columns: tuple[str, ...], size: int) -> sa.Select[Any]:
    """The rows whose ``columns`` equal one of ``size`` value tuples, joined from a VALUES list:
    both databases probe the table's index once per tuple (an OR of equalities costs PostgreSQL
    a plan per term, and a row-value IN makes SQLite scan the table)."""
    table = _TABLES[table_name]
    keys = (
        sa.values(*(sa.column(c, table.c[c].type) for c in columns), name="scope_keys")
        .data(
            [
                tuple(sa.bindparam(f"v{i}_{j}", type_=table.c[c].type) for j, c in enumerate(columns))
                for i in range(size)
            ]
        )
        .cte()
    )
    return sa.select(table).join(keys, sa.and_(*(table.c[c] == keys.c[c] for c in columns)))


async def write(conn: AsyncConnection, changes: Iterable[Change]) -> None:
    """Write a batch's changes (``RowSet.changes()``)."""
    for change in changes:
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


@functools.cache
def json_upsert(table: sa.Table, *, do_nothing: bool = False) -> sa.Insert:
    """PostgreSQL's ``upsert`` of many rows in one execution, the rows sent as one JSON array and
    made rows of the table again by ``json_populate_recordset``.

    Rows sent one by one cost the server a bind and an execute each, and this process the binding
    of every value: most of a replay's time. Encoding them is one call in C (msgspec), parsing
    them a pass of the server's JSON parser. A JSON null is SQL NULL in every column (JSON ones
    included: ``none_as_null``); timestamps travel as ISO text, read as UTC (``open_readmodels``
    sets the session's time zone) when they carry no offset.
    """
    names = [c.name for c in table.c]
    # The table's row type, as the record every JSON object is read into.
    quoted = '"' + table.name.replace('"', '""') + '"'
    empty_row: sa.ColumnElement[Any] = sa.literal_column(f"NULL::{quoted}")
    document = sa.cast(sa.bindparam("rows", type_=sa.Text()), sa.JSON())
    rows = sa.select(
        sa.func.json_populate_recordset(empty_row, document).table_valued(*names).render_derived(name="row")
    )
    stmt = postgresql.insert(table).from_select(names, rows)
    keys = KEYS[table.name]
    updated = {n: stmt.excluded[n] for n in names if n not in keys}
    if do_nothing or not updated:
        result: sa.Insert = stmt.on_conflict_do_nothing(index_elements=keys)
        return result
    result = stmt.on_conflict_do_update(index_elements=keys, set_=updated)
    return result


_ROWS_ENCODER = msgspec.json.Encoder()


def _delete(table: sa.Table) -> sa.Delete:
    return sa.delete(table).where(*(table.c[k] == sa.bindparam(k) for k in KEYS[table.name]))


async def _write_change(conn: AsyncConnection, change: Change) -> None:
    dialect, table = conn.dialect, change.table
    if change.deletes:
        keys = KEYS[table.name]
        delete = compiled(dialect, ("delete", table.name), functools.partial(_delete, table))
        await delete.execute_many(conn, (dict(zip(keys, key, strict=True)) for key in change.deletes))
    if change.upserts:
        await _upsert(conn, table, change.upserts, do_nothing=False)
    if change.inserts:
        await _upsert(conn, table, change.inserts, do_nothing=True)


async def _upsert(conn: AsyncConnection, table: sa.Table, rows: list[Row], *, do_nothing: bool) -> None:
    dialect = conn.dialect
    kind = "insert" if do_nothing else "upsert"
    if dialect.name == "postgresql":
        build = functools.partial(json_upsert, table, do_nothing=do_nothing)
        statement = compiled(dialect, ("json", kind, table.name), build)
        await statement.execute(conn, {"rows": _ROWS_ENCODER.encode(rows).decode()})
        return
    per_row = compiled(
        dialect, (kind, table.name), functools.partial(upsert, dialect.name, table, do_nothing=do_nothing)
    )
    await per_row.execute_many(conn, rows)
