"""Versioned schema migrations of the read-model database, and opening it.

``schema_version`` holds one row per applied migration. A migration is an async function of a
connection, applied once in a transaction. To change the schema: edit ``tables.py`` to the new
shape (``rebuild`` creates tables from it) and append a migration that brings an existing
database to that shape, e.g. ``conn.execute(sa.text("ALTER TABLE dag ADD COLUMN ..."))``
followed by whatever backfill it needs (often simply: run ``rebuild``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from couture_common.clock import utcnow
from couture_gateway.readmodels import tables

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


#: Migration n is MIGRATIONS[n - 1]. Never edit a released one; append.
MIGRATIONS: tuple[Migration, ...] = (create_projected_tables,)


async def current_version(conn: AsyncConnection) -> int:
    if not await conn.run_sync(lambda sync: sa.inspect(sync).has_table(tables.schema_version.name)):
        return 0
    version = await conn.scalar(sa.select(sa.func.max(tables.schema_version.c.version)))
    return int(version or 0)


async def migrate(engine: AsyncEngine) -> int:
    """Apply the migrations this database lacks, each in its own transaction; returns the version."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: tables.schema_version.create(sync, checkfirst=True))
    async with engine.connect() as conn:
        version = await current_version(conn)
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"read-model database is at schema version {version}, newer than the {len(MIGRATIONS)} "
            "this code knows; upgrade the code or rebuild the read models"
        )
    for number in range(version + 1, len(MIGRATIONS) + 1):
        async with engine.begin() as conn:
            await MIGRATIONS[number - 1](conn)
            await conn.execute(sa.insert(tables.schema_version).values(version=number, applied_at=utcnow()))
    return len(MIGRATIONS)


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

    ``sqlite+aiosqlite:///path/readmodels.db`` (standalone; ``sqlite+aiosqlite://`` is a private
    in-memory database for tests) or ``postgresql+asyncpg://user@host/db`` (distributed).
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.get_driver_name() != "aiosqlite":
            raise ValueError(f"read-model url {url!r}: use the sqlite+aiosqlite driver")
        in_memory = parsed.database in (None, "", ":memory:")
        engine = create_async_engine(
            parsed, poolclass=StaticPool if in_memory else None, connect_args={"check_same_thread": False}
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    elif parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "asyncpg":
            raise ValueError(f"read-model url {url!r}: use the postgresql+asyncpg driver")
        engine = create_async_engine(parsed, pool_pre_ping=True)
    else:
        raise ValueError(f"read-model url {url!r}: expected sqlite+aiosqlite:// or postgresql+asyncpg://")
    if migrate_schema:
        await migrate(engine)
    return engine
