"""Real Chromium (Debian's, never a downloaded one) driving the UI of a real ``couture standalone``.

Each scenario is a small Node script under scenarios/ using playwright-core from ui/node_modules;
pytest starts the product, runs the script, and checks what the script saw against the API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.standalone import Standalone

REPO = Path(__file__).resolve().parents[3]
UI = REPO / "ui"
SCENARIOS = Path(__file__).parent / "scenarios"
CHROMIUM = Path(os.environ.get("COUTURE_CHROMIUM", "/usr/bin/chromium"))

Scenario = Callable[..., dict[str, Any]]


def _missing_prerequisite() -> str | None:
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: apt-get install chromium"
    if shutil.which("node") is None:
        return "node is not installed"
    if not (UI / "node_modules" / "playwright-core").is_dir():
        return "ui/node_modules lacks playwright-core: cd ui && npm ci"
    if not (UI / "dist" / "index.html").is_file():
        return "the UI is not built: cd ui && npm run build"
    return None


@contextmanager
def serving_ui(home: Path, *, unset_env: tuple[str, ...] = ()) -> Iterator[Standalone]:
    """A started ``couture standalone`` on ``home`` that serves the UI, stopped on exit."""
    missing = _missing_prerequisite()
    if missing:
        pytest.skip(missing)
    server = Standalone(home)
    for name in unset_env:
        server.env.pop(name, None)
    server.home.mkdir()
    server.start()
    try:
        page = httpx.get(f"{server.base_url}/dags", timeout=10)
        if 'id="root"' not in page.text:
            pytest.fail(
                "couture standalone does not serve the web UI at /: "
                "standalone.py must call couture_gateway.ui.mount_ui(app) after its routers"
            )
        yield server
    finally:
        server.stop()


@pytest.fixture
def ui_standalone(tmp_path: Path) -> Iterator[Standalone]:
    with serving_ui(tmp_path / "home") as server:
        yield server


@pytest.fixture
def screenshots(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """Where scenarios save screenshots; also copied to $COUTURE_SCREENSHOTS/<test> when set."""
    shots = tmp_path / "screenshots"
    shots.mkdir()
    yield shots
    keep = os.environ.get("COUTURE_SCREENSHOTS")
    if keep:
        target = Path(keep) / request.node.name
        shutil.copytree(shots, target, dirs_exist_ok=True)


@pytest.fixture
def scenario(ui_standalone: Standalone, screenshots: Path) -> Scenario:
    def run(name: str, timeout: float = 150.0, **params: str) -> dict[str, Any]:
        env = {
            **os.environ,
            "COUTURE_BASE_URL": ui_standalone.base_url,
            "COUTURE_SHOTS_DIR": str(screenshots),
            "COUTURE_CHROMIUM": str(CHROMIUM),
            **params,
        }
        done = subprocess.run(
            ["node", str(SCENARIOS / f"{name}.mjs")],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            shots = sorted(p.name for p in screenshots.iterdir())
            pytest.fail(f"scenario {name} failed:\n{done.stderr}\nscreenshots in {screenshots}: {shots}")
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    return run
