"""Read models on in-memory SQLite through the same SQL code the projector runs in production."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from couture_gateway.readmodels.migrations import open_readmodels

from .builders import ReadModels


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    engine = await open_readmodels("sqlite+aiosqlite://")
    yield engine
    await engine.dispose()


@pytest.fixture
def models(engine: AsyncEngine) -> ReadModels:
    return ReadModels(engine)
