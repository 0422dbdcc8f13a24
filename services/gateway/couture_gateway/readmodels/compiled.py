"""Core statements compiled once per database dialect and run straight through its driver.

The projector runs the same few statements (load a table's scopes, upsert or delete its rows)
for every batch, with hundreds of rows or keys each. Through ``conn.execute`` SQLAlchemy would
rebuild each statement's cache key (or recompile it: a VALUES list is not cached) and process
every row's parameters one by one, costing several times what the database itself spends.
Here the statement is compiled once, and values go through the column types' own bind and
result processors, as SQLAlchemy would apply them, so the rows stored and read are the same.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

Processor = Callable[[Any], Any]


class CompiledStatement:
    def __init__(self, stmt: sa.Select[Any] | sa.Insert | sa.Delete, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        if compiled.positiontup is None:
            raise ValueError(f"read models need a positional paramstyle, not {dialect.paramstyle!r}")
        self.sql = str(compiled)
        #: The parameter names, in the order the driver takes their values.
        self.names = tuple(compiled.positiontup)
        self._values = _values_getter(self.names)
        self._binds = _processors(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.names
        )
        selected = list(stmt.selected_columns) if isinstance(stmt, sa.Select) else []
        self._columns = tuple(column.name for column in selected)
        self._types = tuple(column.type.dialect_impl(dialect) for column in selected)
        # Result processors may depend on the type the database reports: known at the first result.
        self._results: tuple[tuple[int, Processor], ...] | None = None

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The driver's positional parameters from ``values`` by parameter name."""
        if not self._binds:
            return self._values(values)
        row = list(self._values(values))
        for position, process in self._binds:
            row[position] = process(row[position])
        return tuple(row)

    async def execute_many(self, conn: AsyncConnection, rows: Iterable[Mapping[str, Any]]) -> None:
        await conn.exec_driver_sql(self.sql, [self.parameters(row) for row in rows])

    async def execute(self, conn: AsyncConnection, values: Mapping[str, Any]) -> None:
        await conn.exec_driver_sql(self.sql, self.parameters(values))

    async def fetch(self, conn: AsyncConnection, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The selected rows as dicts by column key, values as SQLAlchemy would return them."""
        result = await conn.exec_driver_sql(self.sql, self.parameters(values))
        if self._results is None:
            dialect = conn.dialect
            self._results = _processors(
                kind.result_processor(dialect, description[1])
                for kind, description in zip(self._types, result.cursor.description, strict=True)
            )
        rows = []
        for fetched in result:
            row = list(fetched)
            for position, process in self._results:
                row[position] = process(row[position])
            rows.append(dict(zip(self._columns, row, strict=True)))
        return rows


def _values_getter(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """``values`` -> the tuple of its values for ``names``, in C (runs for every row written)."""
    if not names:
        return lambda _values: ()
    if len(names) == 1:
        (name,) = names
        return lambda values: (values[name],)
    return operator.itemgetter(*names)


def _processors(processors: Iterable[Processor | None]) -> tuple[tuple[int, Processor], ...]:
    return tuple((position, p) for position, p in enumerate(processors) if p is not None)


#: Per dialect (one per engine), the statements compiled for it so far.
_COMPILED: weakref.WeakKeyDictionary[Dialect, dict[Hashable, CompiledStatement]] = weakref.WeakKeyDictionary()


def compiled(
    dialect: Dialect, key: Hashable, build: Callable[[], sa.Select[Any] | sa.Insert | sa.Delete]
) -> CompiledStatement:
    """The statement ``build()`` makes, compiled for ``dialect`` on first use under ``key``."""
    statements = _COMPILED.setdefault(dialect, {})
    found = statements.get(key)
    if found is None:
        found = statements[key] = CompiledStatement(build(), dialect)
    return found
