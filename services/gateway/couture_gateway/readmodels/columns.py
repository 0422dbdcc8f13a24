"""Column types and the metadata every read-model table is defined on (``tables``, ``security_tables``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from couture_common.clock import ensure_utc


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned aware (SQLite keeps no zone of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # A naive datetime is taken as UTC (Airflow's rule): one odd event must not stop projection.
        value = ensure_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # The text SQLAlchemy's SQLite DATETIME stores ("2024-01-01 00:00:00.000000"), made by
        # isoformat in C: several times faster than the generic path, on every row the projector writes.
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            zone = value.tzinfo
            if zone is not None and zone is not UTC:
                value = value.astimezone(UTC)
            # Cut before the "+00:00" an aware value ends with (datetime.replace is slow).
            return value.isoformat(" ", "microseconds")[:26]

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: JSON documents: ``jsonb`` on PostgreSQL, text on SQLite. SQL NULL for None, never ``'null'``.
Json: sa.types.TypeEngine[Any] = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)

ID = sa.String(250)
metadata = sa.MetaData()
