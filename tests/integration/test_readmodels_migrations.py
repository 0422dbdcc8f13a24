"""Opening the read-model database migrates it once and refuses what it cannot handle."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from couture_gateway.readmodels.migrations import SCHEMA_VERSION, UPGRADES, migrate, open_readmodels
from couture_gateway.readmodels.tables import pool, schema_version

NEW_IN_2 = (
    "schedule",
    "next_dagrun_logical_date",
    "last_automated_data_interval_start",
    "last_automated_data_interval_end",
)


async def test_a_new_database_is_created_at_the_latest_version_and_migrating_again_changes_nothing(
    tmp_path: Path,
) -> None:
    engine = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'rm.db'}")
    try:
        assert await migrate(engine) == SCHEMA_VERSION
        async with engine.connect() as conn:
            versions = (await conn.execute(sa.select(schema_version.c.version))).scalars().all()
            journal = await conn.scalar(sa.text("PRAGMA journal_mode"))
            pools = (await conn.execute(sa.select(pool.c.name))).scalars().all()
        assert versions == [SCHEMA_VERSION]
        assert journal == "wal"
        assert pools == ["default_pool"]
    finally:
        await engine.dispose()


async def test_a_version_1_database_gains_the_next_dagrun_columns(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rm.db'}"
    engine = await open_readmodels(url)
    async with engine.begin() as conn:
        # Back to the shape version 1 had.
        for column in NEW_IN_2:
            await conn.execute(sa.text(f"ALTER TABLE dag DROP COLUMN {column}"))
        await conn.execute(sa.delete(schema_version))
        await conn.execute(sa.insert(schema_version).values(version=1, applied_at=sa.func.now()))
    await engine.dispose()

    engine = await open_readmodels(url)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(sa.select(schema_version.c.version))).scalars().all()
            columns = await conn.run_sync(lambda sync: sa.inspect(sync).get_columns("dag"))
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        assert set(NEW_IN_2) <= {c["name"] for c in columns}
    finally:
        await engine.dispose()


async def test_a_version_3_database_gains_rendered_fields_and_the_triggered_runs_index(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rm.db'}"
    engine = await open_readmodels(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE rendered_task_instance_fields"))
        await conn.execute(sa.text("DROP INDEX ix_dag_run_triggered_by_task"))
        await conn.execute(sa.delete(schema_version))
        await conn.execute(sa.insert(schema_version).values(version=3, applied_at=sa.func.now()))
    await engine.dispose()

    engine = await open_readmodels(url)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(sa.select(schema_version.c.version))).scalars().all()
            table_names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
            indexes = await conn.run_sync(lambda sync: sa.inspect(sync).get_indexes("dag_run"))
        assert versions[0] == 3 and 4 in versions
        assert "rendered_task_instance_fields" in table_names
        assert "ix_dag_run_triggered_by_task" in {i["name"] for i in indexes}
    finally:
        await engine.dispose()


async def test_each_upgrade_runs_once_in_order(tmp_path: Path) -> None:
    engine = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'rm.db'}")

    async def add_dag_color(conn: AsyncConnection) -> None:
        await conn.execute(sa.text("ALTER TABLE dag ADD COLUMN color VARCHAR(20)"))

    try:
        assert await migrate(engine, upgrades=(*UPGRADES, add_dag_color)) == SCHEMA_VERSION + 1
        assert await migrate(engine, upgrades=(*UPGRADES, add_dag_color)) == SCHEMA_VERSION + 1
        async with engine.connect() as conn:
            versions = (await conn.execute(sa.select(schema_version.c.version))).scalars().all()
            columns = await conn.run_sync(lambda sync: sa.inspect(sync).get_columns("dag"))
        assert versions == [SCHEMA_VERSION, SCHEMA_VERSION + 1]
        assert "color" in {c["name"] for c in columns}
    finally:
        await engine.dispose()


async def test_a_database_from_newer_code_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rm.db'}"
    engine = await open_readmodels(url)
    async with engine.begin() as conn:
        await conn.execute(sa.insert(schema_version).values(version=99, applied_at=sa.func.now()))
    await engine.dispose()

    with pytest.raises(RuntimeError, match="schema version 99, newer"):
        await open_readmodels(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///rm.db", "sqlite\\+aiosqlite driver"),
        ("postgresql://u@h/db", "postgresql\\+asyncpg driver"),
        ("mysql+aiomysql://u@h/db", "expected sqlite\\+aiosqlite"),
    ],
)
async def test_an_unsupported_url_names_what_to_use(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        await open_readmodels(url)
