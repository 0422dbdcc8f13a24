"""Opening the read-model database migrates it once and refuses what it cannot handle."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from couture_gateway.readmodels.migrations import MIGRATIONS, migrate, open_readmodels
from couture_gateway.readmodels.tables import schema_version


async def test_a_new_database_is_at_the_latest_version_and_migrating_again_changes_nothing(
    tmp_path: Path,
) -> None:
    engine = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'rm.db'}")
    try:
        assert await migrate(engine) == len(MIGRATIONS)
        async with engine.connect() as conn:
            versions = (await conn.execute(sa.select(schema_version.c.version))).scalars().all()
            journal = await conn.scalar(sa.text("PRAGMA journal_mode"))
        assert versions == list(range(1, len(MIGRATIONS) + 1))
        assert journal == "wal"
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
