"""The executor's registry client against an HTTP server on loopback that answers what we tell it."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from couture_executor.adapters.dag_files import DagFileMismatchError
from couture_executor.adapters.registry_client import RegistryDagFileStore

TOKEN = "t" * 40
SOURCE = b"from airflow import DAG\n"
VERSION = hashlib.sha256(SOURCE).hexdigest()


class Registry(ThreadingHTTPServer):
    """Serves ``answers[path] = (status, body)`` to callers with the token; counts requests."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, tuple[int, bytes]] = {}
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Registry

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            status, body = 401, b"no"
        else:
            status, body = self.server.answers.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def registry() -> Iterator[Registry]:
    server = Registry()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def store(registry: Registry, cache: Path, token: str = TOKEN) -> RegistryDagFileStore:
    return RegistryDagFileStore(registry.url, token, cache, timeout=5)


def test_a_version_is_fetched_once_verified_and_then_served_from_the_cache(
    registry: Registry, tmp_path: Path
) -> None:
    registry.answers[f"/internal/dag-versions/{VERSION}"] = (200, SOURCE)
    files = store(registry, tmp_path / "cache")

    first = files.local_path("/dags/a.py", VERSION)
    second = files.local_path("/dags/a.py", VERSION)

    assert first == second == tmp_path / "cache" / f"{VERSION}.py"
    assert first.read_bytes() == SOURCE
    assert registry.requests == [f"/internal/dag-versions/{VERSION}"]
    assert list((tmp_path / "cache").iterdir()) == [first]


def test_content_that_is_not_the_version_asked_for_is_refused_and_not_cached(
    registry: Registry, tmp_path: Path
) -> None:
    registry.answers[f"/internal/dag-versions/{VERSION}"] = (200, b"import os; os.system('rm -rf /')\n")

    with pytest.raises(DagFileMismatchError, match="refusing to run different code"):
        store(registry, tmp_path / "cache").local_path("/dags/a.py", VERSION)
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("token", "answer", "message"),
    [
        (TOKEN, None, f"has no DAG file version {VERSION}"),
        ("w" * 40, None, "need the same COUTURE_SERVICE_TOKEN"),
        (TOKEN, (500, b"boom"), "failed: HTTP 500"),
    ],
)
def test_a_version_the_registry_does_not_serve_fails_the_try_with_the_reason(
    registry: Registry, tmp_path: Path, token: str, answer: tuple[int, bytes] | None, message: str
) -> None:
    if answer is not None:
        registry.answers[f"/internal/dag-versions/{VERSION}"] = answer
    with pytest.raises(DagFileMismatchError, match=message):
        store(registry, tmp_path / "cache", token).local_path("/dags/a.py", VERSION)


def test_an_unreachable_registry_is_named(tmp_path: Path) -> None:
    with pytest.raises(DagFileMismatchError, match=r"cannot fetch DAG file version .* http://127\.0\.0\.1:9"):
        RegistryDagFileStore("http://127.0.0.1:9", TOKEN, tmp_path, timeout=2).local_path("/d.py", VERSION)


def test_a_version_that_is_not_a_sha256_is_refused_before_any_request(
    registry: Registry, tmp_path: Path
) -> None:
    with pytest.raises(DagFileMismatchError, match="is not a sha256 hex digest"):
        store(registry, tmp_path).local_path("/dags/a.py", "../../etc/passwd")
    assert registry.requests == []
