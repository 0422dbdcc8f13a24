from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.standalone import Standalone


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[Standalone]:
    server = Standalone(tmp_path / "home")
    server.home.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()
