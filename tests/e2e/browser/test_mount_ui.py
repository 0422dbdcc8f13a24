"""The gateway serves the built UI at / without ever answering an API path with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from couture_gateway.ui import mount_ui

INDEX = "<!doctype html><title>Couture</title><div id=root></div>"


def _app(dist: Path) -> FastAPI:
    app = FastAPI()

    @app.get("/api/v2/version")
    def version() -> dict[str, str]:
        return {"version": "2"}

    mount_ui(app, dist)
    return app


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("not for the browser")
    return tmp_path


def test_client_side_routes_get_the_app_so_a_reload_keeps_the_page(dist: Path) -> None:
    client = TestClient(_app(dist))
    for path in ["/", "/dags", "/dags/example/graph", "/admin/variables"]:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.text == INDEX
        assert answer.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_served_and_cached_for_good(dist: Path) -> None:
    answer = TestClient(_app(dist)).get("/assets/index-abc123.js")
    assert answer.status_code == 200
    assert answer.text == "console.log(1)"
    assert "immutable" in answer.headers["cache-control"]


def test_api_paths_keep_their_own_answers_and_unknown_ones_stay_json_404s(dist: Path) -> None:
    client = TestClient(_app(dist))
    assert client.get("/api/v2/version").json() == {"version": "2"}
    for path in ["/api/v2/nope", "/api/couture/nope", "/auth/nope", "/docs/x"]:
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.json() == {"detail": "Not Found"}
    assert client.get("/openapi.json").json()["info"]["title"] == "FastAPI"


def test_files_outside_the_build_are_never_served(dist: Path) -> None:
    answer = TestClient(_app(dist)).get("/assets/..%2F..%2Fsecret.txt")
    assert "not for the browser" not in answer.text


def test_without_a_build_the_page_says_how_to_build_it(tmp_path: Path) -> None:
    answer = TestClient(_app(tmp_path / "missing")).get("/dags")
    assert answer.status_code == 503
    assert "npm run build" in answer.text
