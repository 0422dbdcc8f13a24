"""Versioned schema of the read-model database, and opening it.

``schema_version`` holds one row per version the database went through. A new database is
created straight at the current schema (``tables.py``) and stamped with ``SCHEMA_VERSION``. An
existing one is brought forward by ``UPGRADES``: ``UPGRADES[n - 1]`` takes version ``n`` to
``n + 1``, each in its own transaction with its stamp.

To change the schema (migration 2): edit ``tables.py`` to the new shape and append to
``UPGRADES`` an async function that brings a version-1 database to it, e.g.
``await conn.execute(sa.text("ALTER TABLE dag ADD COLUMN ..."))`` and any backfill it needs
(often simply a ``couture projections rebuild`` afterwards).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from couture_common.clock import utcnow
from couture_gateway.readmodels import tables
from couture_gateway.readmodels.security_tables import audit_log

Migration = Callable[[AsyncConnection], Awaitable[None]]


async def create_projected_tables(conn: AsyncConnection) -> None:
    """The projected tables at the current schema, with the rows every database starts with."""
    await conn.run_sync(lambda sync: tables.metadata.create_all(sync, tables=list(tables.PROJECTED_TABLES)))
    # Airflow's default pool exists before anyone configures pools.
    await conn.execute(
        sa.insert(tables.pool).values(
            name="default_pool", slots=128, description="Default pool", include_deferred=False
        )
    )


async def drop_projected_tables(conn: AsyncConnection) -> None:
    await conn.run_sync(lambda sync: tables.metadata.drop_all(sync, tables=list(tables.PROJECTED_TABLES)))


async def _add_next_dagrun(conn: AsyncConnection) -> None:
    """Version 2: what DAGs need for their next automated run (filled at the next parse or a rebuild)."""
    quote = conn.dialect.identifier_preparer.quote
    for name in (
        "schedule",
        "next_dagrun_logical_date",
        "last_automated_data_interval_start",
        "last_automated_data_interval_end",
    ):
        column_type = tables.dag.c[name].type.compile(dialect=conn.dialect)
        await conn.execute(sa.text(f"ALTER TABLE dag ADD COLUMN {quote(name)} {column_type}"))


async def _add_audit_log(conn: AsyncConnection) -> None:
    """Version 3: Browse → Audit Logs (filled from the ``audit`` topic as the projector reaches it)."""
    await conn.run_sync(lambda sync: audit_log.create(sync, checkfirst=True))


async def _add_rendered_fields(conn: AsyncConnection) -> None:
    """Version 4: rendered template fields per try, and finding the runs a DagOperator triggered
    (rendered fields of tries before this version appear after a ``couture projections rebuild``)."""
    await conn.run_sync(lambda sync: tables.rendered_task_instance_fields.create(sync, checkfirst=True))
    index = next(i for i in tables.dag_run.indexes if i.name == "ix_dag_run_triggered_by_task")
    await conn.run_sync(lambda sync: index.create(sync, checkfirst=True))


#: Upgrades of existing databases, oldest first. Never edit a released one; append.
UPGRADES: tuple[Migration, ...] = (_add_next_dagrun, _add_audit_log, _add_rendered_fields)
SCHEMA_VERSION = 1 + len(UPGRADES)


async def current_version(conn: AsyncConnection) -> int:
    if not await conn.run_sync(lambda sync: sa.inspect(sync).has_table(tables.schema_version.name)):
        return 0
    version = await conn.scalar(sa.select(sa.func.max(tables.schema_version.c.version)))
    return int(version or 0)


#: Arbitrary, fixed: the PostgreSQL advisory lock that serialises migrations of one database.
_MIGRATION_LOCK = 0x636F7574757265


async def migrate(engine: AsyncEngine, upgrades: Sequence[Migration] = UPGRADES) -> int:
    """Create or upgrade the schema to version ``1 + len(upgrades)``; returns that version."""
    latest = 1 + len(upgrades)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Gateways starting together on an empty database: one migrates, the others wait.
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        await conn.run_sync(lambda sync: tables.schema_version.create(sync, checkfirst=True))
        version = await current_version(conn)
        if version == 0:
            await create_projected_tables(conn)
            await _stamp(conn, latest)
            return latest
    if version > latest:
        raise RuntimeError(
            f"read-model database is at schema version {version}, newer than the {latest} "
            "this code knows; upgrade the code or rebuild the read models"
        )
    for number in range(version, latest):
        async with engine.begin() as conn:
            await upgrades[number - 1](conn)
            await _stamp(conn, number + 1)
    return latest


async def _stamp(conn: AsyncConnection, version: int) -> None:
    await conn.execute(sa.insert(tables.schema_version).values(version=version, applied_at=utcnow()))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the projector writes; NORMAL is durable at each checkpoint and
    # loses nothing a replay cannot restore (the offsets commit with the rows).
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "busy_timeout=10000",
        "foreign_keys=ON",
        "temp_store=MEMORY",
        "cache_size=-65536",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


async def open_readmodels(url: str, *, migrate_schema: bool = True) -> AsyncEngine:
    """An engine on the read-model database at ``url``, migrated to the current schema.

    Errors never show statement parameters: rows hold encrypted secrets and user data.

    ``sqlite+aiosqlite:///path/readmodels.db`` (standalone; ``sqlite+aiosqlite://`` is a private
    in-memory database for tests) or ``postgresql+asyncpg://user@host/db`` (distributed).
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.get_driver_name() != "aiosqlite":
            raise ValueError(f"read-model url {url!r}: use the sqlite+aiosqlite driver")
        in_memory = parsed.database in (None, "", ":memory:")
        engine = create_async_engine(
            parsed,
            poolclass=StaticPool if in_memory else None,
            connect_args={"check_same_thread": False},
            hide_parameters=True,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    elif parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "asyncpg":
            raise ValueError(f"read-model url {url!r}: use the postgresql+asyncpg driver")
        # Sessions in UTC: a timestamp the projector sends as text without an offset is UTC.
        engine = create_async_engine(
            parsed,
            pool_pre_ping=True,
            hide_parameters=True,
            connect_args={"server_settings": {"timezone": "UTC"}},
        )
    else:
        raise ValueError(f"read-model url {url!r}: expected sqlite+aiosqlite:// or postgresql+asyncpg://")
    if migrate_schema:
        await migrate(engine)
    return engine
