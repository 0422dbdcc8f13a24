"""The rows one batch of events reads and writes, held in memory while the batch is folded.

The store loads every *scope* the batch's events declare (all rows of a table matching some
column values), the fold reads and changes rows here, and the store writes back only the rows that
changed. Reading a row outside the loaded scopes is a bug and raises, so a fold can never silently
act on rows it did not see.
"""

from __future__ import annotations

import functools
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC
from typing import Any, NamedTuple

import sqlalchemy as sa

from couture_common.clock import ensure_utc
from couture_gateway.readmodels import tables
from couture_gateway.readmodels.columns import UtcDateTime

Key = tuple[Any, ...]
Row = dict[str, Any]


def _natural_keys() -> dict[str, tuple[str, ...]]:
    keys = {t.name: tuple(c.name for c in t.primary_key.columns) for t in tables.metadata.sorted_tables}
    # Rows whose integer id comes from a log position are found by what the event names.
    keys[tables.import_error.name] = ("filename",)
    keys[tables.event_log.name] = ("event_id",)
    return keys


#: Per table, the columns that identify a row for the fold and the upsert's conflict target.
KEYS: dict[str, tuple[str, ...]] = _natural_keys()
_COLUMNS: dict[str, frozenset[str]] = {t.name: frozenset(t.c.keys()) for t in tables.metadata.sorted_tables}


@functools.cache
def _getter(columns: tuple[str, ...]) -> Callable[[Row], tuple[Any, ...]]:
    """``row`` -> the tuple of its values in ``columns``."""
    if len(columns) == 1:
        (column,) = columns
        return lambda row: (row[column],)
    return operator.itemgetter(*columns)


_KEY_OF: dict[str, Callable[[Row], Key]] = {name: _getter(columns) for name, columns in KEYS.items()}


class Scope(NamedTuple):
    """All rows of ``table`` whose ``columns`` equal ``values``."""

    table: str
    columns: tuple[str, ...]
    values: tuple[Any, ...]


class ScopeNotLoadedError(LookupError):
    """A fold read rows its event did not declare; the event's scopes are incomplete."""


class Change(NamedTuple):
    table: sa.Table
    upserts: list[Row]
    deletes: list[Key]
    #: Append-only rows: inserted when their key is new, else left as they are.
    inserts: list[Row]


class RowSet:
    def __init__(self) -> None:
        self._rows: dict[str, dict[Key, Row | None]] = defaultdict(dict)
        self._dirty: dict[str, set[Key]] = defaultdict(set)
        self._appended: dict[str, dict[Key, Row]] = defaultdict(dict)
        self._scopes: dict[str, dict[tuple[str, ...], set[tuple[Any, ...]]]] = defaultdict(
            lambda: defaultdict(set)
        )
        # Per table, the loaded scopes a row key tells membership of: (key -> its values there, values).
        self._key_scopes: dict[str, list[tuple[Callable[[Key], tuple[Any, ...]], set[tuple[Any, ...]]]]] = (
            defaultdict(list)
        )
        # Run-scoped tables (key starts with dag_id, run_id) are scanned per run, not whole.
        self._by_prefix: dict[str, dict[Key, set[Key]]] = defaultdict(lambda: defaultdict(set))

    def add_loaded(self, scope: Scope, rows: Iterable[Row]) -> None:
        key_of = _KEY_OF[scope.table]
        stored = self._rows[scope.table]
        for row in rows:
            key = key_of(row)
            if key not in stored:
                self._store(scope.table, key, row)
        self._scope_values(scope.table, scope.columns).add(scope.values)

    def _scope_values(self, table: str, columns: tuple[str, ...]) -> set[tuple[Any, ...]]:
        """The values of the loaded scopes of ``table`` on ``columns`` (a set to add to)."""
        by_columns = self._scopes[table]
        values = by_columns.get(columns)
        if values is None:
            values = by_columns[columns] = set()
            part = _key_part(table, columns)
            if part is not None:
                self._key_scopes[table].append((part, values))
        return values

    def get(self, table: sa.Table, key: Key) -> Row | None:
        stored = self._rows[table.name]
        if key in stored:
            return stored[key]
        if not self._covers_key(table.name, key):
            raise ScopeNotLoadedError(f"{table.name} row {key!r} read outside the loaded scopes")
        # Remembered as absent (not dirty, so never written): the next read is a dict lookup.
        stored[key] = None
        return None

    def where(self, table: sa.Table, **equal: Any) -> list[Row]:
        """Rows of ``table`` with these column values, in key order."""
        name = table.name
        if not self._covered(name, equal):
            raise ScopeNotLoadedError(f"{name} rows {equal!r} read outside the loaded scopes")
        stored = self._rows[name]
        key_columns = KEYS[name]
        candidates: Iterable[Key]
        if len(key_columns) > 2 and key_columns[0] in equal and key_columns[1] in equal:
            candidates = self._by_prefix[name][(equal[key_columns[0]], equal[key_columns[1]])]
        else:
            candidates = stored.keys()
        wanted = tuple(equal.values())
        values_of = _getter(tuple(equal))
        found = []
        for key in sorted(candidates):
            row = stored[key]
            if row is not None and values_of(row) == wanted:
                found.append(row)
        return found

    def put(self, table: sa.Table, row: Row) -> None:
        """Insert or replace a whole row (every column given)."""
        if row.keys() != _COLUMNS[table.name]:
            raise ValueError(
                f"{table.name} row must give exactly its columns; "
                f"missing {sorted(_COLUMNS[table.name] - row.keys())}, "
                f"unknown {sorted(row.keys() - _COLUMNS[table.name])}"
            )
        self._put(table.name, row)

    def update(self, table: sa.Table, row: Row, **changes: Any) -> Row:
        """Replace ``row``, a whole row (as read from this set), with these columns changed;
        returns the new row."""
        if not changes.keys() <= _COLUMNS[table.name]:
            raise ValueError(f"{table.name} has no column {sorted(changes.keys() - _COLUMNS[table.name])}")
        new = {**row, **changes}
        self._put(table.name, new)
        return new

    def _put(self, name: str, row: Row) -> None:
        key = _KEY_OF[name](row)
        stored = self._rows[name]
        if key not in stored:
            if not self._covers_key(name, key):
                raise ScopeNotLoadedError(f"{name} row {key!r} written outside the loaded scopes")
            self._store(name, key, row)
        else:
            stored[key] = row
        self._dirty[name].add(key)

    def delete(self, table: sa.Table, key: Key) -> None:
        if self.get(table, key) is not None:
            self._rows[table.name][key] = None
            self._dirty[table.name].add(key)

    def append(self, table: sa.Table, row: Row) -> None:
        """Record a row of an append-only table; the first row for a key wins."""
        if row.keys() != _COLUMNS[table.name]:
            raise ValueError(f"{table.name} row must give exactly its columns")
        self._appended[table.name].setdefault(_KEY_OF[table.name](row), row)

    def changes(self) -> Iterator[Change]:
        """What to write, table by table in dependency order."""
        for table in tables.metadata.sorted_tables:
            dirty = self._dirty.get(table.name, set())
            appended = self._appended.get(table.name, {})
            if not dirty and not appended:
                continue
            stored = self._rows[table.name]
            upserts = [row for key in sorted(dirty) if (row := stored[key]) is not None]
            deletes = [key for key in sorted(dirty) if stored[key] is None]
            yield Change(table, upserts, deletes, list(appended.values()))

    def carry(self, scopes: Iterable[Scope]) -> tuple[RowSet, list[Scope]]:
        """A new set with the rows of those ``scopes`` this one holds, as they stand now (after
        its changes are committed, what the database holds when nobody else wrote meanwhile),
        and the scopes it does not hold, left to load."""
        wanted: dict[str, dict[tuple[str, ...], set[tuple[Any, ...]]]] = defaultdict(lambda: defaultdict(set))
        missing = []
        for scope in scopes:
            if scope.values in self._scopes[scope.table].get(scope.columns, ()):
                wanted[scope.table][scope.columns].add(scope.values)
            else:
                missing.append(scope)
        carried = RowSet()
        for table, by_columns in wanted.items():
            for key, row in self._rows[table].items():
                # A row is in a scope by its values now: the batch's changes may have moved it.
                if row is not None and any(
                    tuple(row[c] for c in columns) in values for columns, values in by_columns.items()
                ):
                    written = key in self._dirty.get(table, ())
                    carried._store(table, key, _as_stored(table, row) if written else row)
            for columns, values in by_columns.items():
                carried._scope_values(table, columns).update(values)
        return carried, missing

    def lay_over(self, earlier: RowSet, tables: Iterable[str]) -> None:
        """Lay ``earlier``'s changes over the rows of ``tables`` read here from the database before
        ``earlier`` was written: they then stand as the database will hold them once it is
        committed (a pipelined replay reads the next batch's scopes while the previous batch's
        writes are still to run). Rows carried from ``earlier`` (``carry``) stand so already.

        A changed row is in a scope here by its values after the change, so one ``earlier`` moved
        into a loaded scope is added, and one it deleted or moved out is no longer found there.
        Append-only rows are not laid over: no fold reads those tables (they have no scopes).
        """
        for table in tables:
            dirty = earlier._dirty.get(table)
            if not dirty:
                continue
            stored = self._rows[table]
            scopes = [(_getter(columns), values) for columns, values in self._scopes[table].items()]
            changed = earlier._rows[table]
            for key in dirty:
                row = changed[key]
                current = stored.get(key, _ABSENT)
                if current is row:
                    continue  # carried as it is
                if current is not _ABSENT:
                    stored[key] = row if row is None else _as_stored(table, row)
                elif row is not None and any(values_of(row) in values for values_of, values in scopes):
                    self._store(table, key, _as_stored(table, row))

    def _store(self, table: str, key: Key, row: Row) -> None:
        self._rows[table][key] = row
        if len(key) > 2:
            self._by_prefix[table][key[:2]].add(key)

    def _covers_key(self, table: str, key: Key) -> bool:
        return any(part(key) in values for part, values in self._key_scopes[table])

    def _covered(self, table: str, named: dict[str, Any]) -> bool:
        for columns, values in self._scopes[table].items():
            try:
                if _getter(columns)(named) in values:
                    return True
            except KeyError:
                continue  # ``named`` does not give all of this scope's columns
        return False


_ABSENT: Any = object()

_TIMESTAMPS: dict[str, tuple[str, ...]] = {
    t.name: tuple(c.name for c in t.c if isinstance(c.type, UtcDateTime))
    for t in tables.metadata.sorted_tables
}


def _as_stored(table: str, row: Row) -> Row:
    """``row`` with its timestamps as reading it back gives them: aware UTC (an event's may be naive)."""
    stamps = [c for c in _TIMESTAMPS[table] if row[c] is not None and row[c].tzinfo is not UTC]
    return {**row, **{c: ensure_utc(row[c]) for c in stamps}} if stamps else row


@functools.cache
def _key_part(table: str, columns: tuple[str, ...]) -> Callable[[Key], tuple[Any, ...]] | None:
    """``key`` -> its values in ``columns``; None when the table's key does not hold them all."""
    key_columns = KEYS[table]
    if not set(columns) <= set(key_columns):
        return None
    if key_columns[: len(columns)] == columns:
        size = len(columns)
        return lambda key: key[:size]
    positions = tuple(key_columns.index(c) for c in columns)
    return lambda key: tuple(key[i] for i in positions)
