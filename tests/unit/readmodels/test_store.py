"""The store writes and reads rows exactly as SQLAlchemy's own statements would, for every table.

The store compiles its statements once and runs them through the driver (``compiled``), applying
the column types' processors itself; these tests hold it to what ``conn.execute`` stores and returns.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from couture_gateway.readmodels import store
from couture_gateway.readmodels.columns import UtcDateTime
from couture_gateway.readmodels.rowset import KEYS, RowSet, Scope
from couture_gateway.readmodels.tables import PROJECTED_TABLES, dag_run, task_instance

EXAMPLES: dict[type[Any], list[Any]] = {
    sa.Integer: [7, -1],
    sa.BigInteger: [2**40, 3],
    sa.Float: [1.5, 0.25],
    sa.Boolean: [True, False],
    UtcDateTime: [datetime(2024, 2, 29, 23, 59, 1, 5, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)],
    sa.JSON: [{"tasks": [{"task_id": "a", "retries": 2}], "none": None}, ["x", 1]],
    sa.String: ["a", "b"],
}


def example_row(table: sa.Table, n: int) -> dict[str, Any]:
    """Row ``n`` (0 or 1) of ``table``: every column set, the two rows' keys distinct."""
    row = {}
    for column in table.c:
        kind = next(k for k in EXAMPLES if isinstance(column.type, k))
        row[column.name] = EXAMPLES[kind][n]
    return row


async def select_all(conn: AsyncConnection, table: sa.Table) -> list[dict[str, Any]]:
    query = sa.select(table).order_by(*table.primary_key.columns)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def check_round_trip(engine: AsyncEngine, table: sa.Table) -> None:
    """Rows the store writes read back equal through SQLAlchemy and through ``store.load``."""
    expected = [example_row(table, n) for n in (0, 1)]
    keys = KEYS[table.name]
    scopes = [Scope(table.name, keys, tuple(row[c] for c in keys)) for row in expected]
    async with engine.begin() as conn:
        await conn.execute(sa.delete(table))
        rows = RowSet()
        for scope in scopes:
            rows.add_loaded(scope, [])
        for row in expected:
            rows.put(table, row)
        await store.write(conn, rows.changes())

        assert await select_all(conn, table) == sorted(expected, key=store_order(table))
        loaded = await store.load(conn, scopes)
        for row in expected:
            assert loaded.get(table, tuple(row[c] for c in keys)) == row


def store_order(table: sa.Table) -> Any:
    return lambda row: tuple(row[c.name] for c in table.primary_key.columns)


@pytest.mark.parametrize("table", PROJECTED_TABLES, ids=[t.name for t in PROJECTED_TABLES])
async def test_every_column_type_round_trips_through_the_store(engine: AsyncEngine, table: sa.Table) -> None:
    await check_round_trip(engine, table)


async def test_a_load_returns_exactly_the_scopes_rows_however_many_scopes(engine: AsyncEngine) -> None:
    template = example_row(dag_run, 0)
    runs = [{**template, "dag_id": f"dag_{i % 7}", "run_id": f"run_{i}"} for i in range(1300)]
    async with engine.begin() as conn:
        await conn.execute(sa.insert(dag_run), runs)
        # Every other run, and runs that do not exist: more than one query's worth (chunks, padding).
        wanted = [(r["dag_id"], r["run_id"]) for r in runs[::2]] + [("dag_0", "missing"), ("nope", "run_1")]
        scopes = [Scope(dag_run.name, ("dag_id", "run_id"), key) for key in wanted]
        scopes += [Scope(task_instance.name, ("dag_id", "run_id"), key) for key in wanted[:3]]

        loaded = await store.load(conn, scopes)

    for run in runs:
        key = (run["dag_id"], run["run_id"])
        if key in wanted:
            assert loaded.get(dag_run, key) == run
        else:
            with pytest.raises(LookupError):
                loaded.get(dag_run, key)
    assert loaded.get(dag_run, ("dag_0", "missing")) is None
    assert loaded.where(task_instance, dag_id=wanted[0][0], run_id=wanted[0][1]) == []


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 6, 30, 12, 0, 59, 999999, tzinfo=UTC),
        datetime(2024, 6, 30, 14, 30, tzinfo=timezone(timedelta(hours=2, minutes=30))),
        datetime(5, 1, 2, 3, 4, 5, 60),
        None,
    ],
)
def test_sqlite_timestamps_are_stored_as_sqlalchemys_own_text(value: datetime | None) -> None:
    dialect = sqlite.dialect()
    ours = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    generic = sa.DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and generic is not None
    in_utc = None if value is None or value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)

    assert ours(value) == generic(in_utc if in_utc is not None else value)
