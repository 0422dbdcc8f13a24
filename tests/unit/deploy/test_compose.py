"""deploy/compose/docker-compose.yml: valid by the Compose Specification's own JSON schema (the one
check-jsonschema ships), before and after interpolation with .env.example, and coherent: every
service from the built image or a pinned one, running a real ``couture`` command, with the settings
the product documents and reads, health checks on the ports the services answer on."""

from __future__ import annotations

import base64
import json
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa

from couture_cli.commands.streams import DEFAULT_WEB_PORT as STREAMS_WEB_PORT
from couture_common.eventlog.factory import open_event_log
from couture_common.health import HEALTH_PORT_VARIABLE, health_port
from couture_common.settings import Settings
from tests.unit.deploy.deployfiles import (
    COMPOSE_ENV_EXAMPLE,
    COMPOSE_FILE,
    DOCKERFILE,
    PROCESSES,
    REPO,
    InterpolationError,
    couture_commands,
    documented_settings,
    interpolate,
    load_compose,
    read_env_file,
    variables_used,
)

#: Secrets the example leaves empty, so `docker compose` refuses to start until they are filled.
SECRETS = ("POSTGRES_PASSWORD", "COUTURE_FERNET_KEY", "COUTURE_SERVICE_TOKEN", "COUTURE_ADMIN_PASSWORD")
#: Values standing in for those secrets in the tests.
FILLED = {
    "POSTGRES_PASSWORD": "0123456789abcdef0123456789abcdef",
    "COUTURE_FERNET_KEY": base64.urlsafe_b64encode(bytes(range(32))).decode(),
    "COUTURE_SERVICE_TOKEN": "f" * 64,
    "COUTURE_ADMIN_PASSWORD": "a-long-admin-password",
}
HTTP_SERVICES = ("registry", "auth", "gateway")
#: The processes that fold events into the read models, and so alone need the database.
READ_MODEL_WRITERS = ("gateway", "streams")


@pytest.fixture(scope="module")
def example_env() -> dict[str, str]:
    return read_env_file(COMPOSE_ENV_EXAMPLE)


@pytest.fixture(scope="module")
def compose(example_env: dict[str, str]) -> dict[str, Any]:
    return load_compose({**example_env, **FILLED})


def _compose_schema() -> dict[str, Any]:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema: dict[str, Any] = json.loads(schema_file.read_text())
    return schema


def _validate(document: dict[str, Any]) -> None:
    schema = _compose_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def _image_env() -> dict[str, str]:
    env = {}
    for key, value in re.findall(r"(COUTURE_\w+)=(\S+)", DOCKERFILE.read_text()):
        env[key] = value
    return env


def _couture(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if s.get("command", [""])[0] in PROCESSES}


def test_the_file_is_valid_by_the_compose_specification_schema(compose: dict[str, Any]) -> None:
    _validate(load_compose())
    _validate(compose)


def test_the_schema_check_catches_a_misspelt_key(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["gateway"]["healthcheck"]["intervall"] = "5s"
    with pytest.raises(AssertionError, match="intervall"):
        _validate(broken)


def test_every_variable_comes_from_the_env_example_or_has_a_default(example_env: dict[str, str]) -> None:
    text = COMPOSE_FILE.read_text()
    used = variables_used(text)
    assert used <= set(example_env), f"not in .env.example: {sorted(used - set(example_env))}"
    assert set(example_env) <= used, f"unused in the compose file: {sorted(set(example_env) - used)}"


def test_the_env_example_holds_no_secret_and_starting_without_one_fails_naming_it(
    example_env: dict[str, str],
) -> None:
    for secret in SECRETS:
        assert example_env[secret] == "", f"{secret} must be left empty in .env.example"
        with pytest.raises(InterpolationError, match=secret):
            load_compose({**example_env, **FILLED, secret: ""})


def test_every_service_runs_the_built_image_or_a_pinned_one(compose: dict[str, Any]) -> None:
    couture = _couture(compose)
    assert sorted(s["command"][0] for s in couture.values()) == sorted(PROCESSES)
    images = {s["image"] for s in couture.values()}
    assert len(images) == 1, f"the Couture services run different images: {images}"
    for name, service in couture.items():
        build = service["build"]
        assert (COMPOSE_FILE.parent / build["context"]).resolve() == REPO, name
        assert build["dockerfile"] == DOCKERFILE.name
    for name, service in compose["services"].items():
        if name in couture:
            continue
        image = service["image"]
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert tag and tag != "latest" and re.match(r"\d+\.\d+", tag), f"{name}: pin {image} to a release"


def test_each_couture_service_runs_a_command_couture_has(compose: dict[str, Any]) -> None:
    commands = couture_commands()
    for name, service in _couture(compose).items():
        assert service["command"][0] in commands, f"{name}: `couture {service['command'][0]}` does not exist"
        assert service["command"][0] == name


def test_every_couture_setting_used_is_documented(compose: dict[str, Any]) -> None:
    documented = documented_settings()
    for name, service in _couture(compose).items():
        for key in service["environment"]:
            if key.startswith("COUTURE_"):
                assert key in documented, f"{name}: {key} is not in docs/configuration.md"


def test_each_service_gets_valid_settings_and_only_the_secrets_it_needs(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, service in _couture(compose).items():
        env = {**_image_env(), **service["environment"]}
        for key in list(env):
            monkeypatch.delenv(key, raising=False)
        with monkeypatch.context() as patched:
            for key, value in env.items():
                patched.setenv(key, str(value))
            settings = Settings()
            open_event_log(settings.event_log_url)
            assert settings.event_log_url.startswith("kafka://"), name
            assert settings.secret_box is not None
            if name in ("scheduler", "executor"):
                assert health_port() == int(env[HEALTH_PORT_VARIABLE])
        if name in READ_MODEL_WRITERS:
            url = sa.make_url(env["COUTURE_DATABASE_URL"])
            postgres = compose["services"]["postgres"]["environment"]
            assert (url.drivername, url.host, url.port) == ("postgresql+asyncpg", "postgres", 5432)
            assert (url.username, url.database) == (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"])
            assert url.password == postgres["POSTGRES_PASSWORD"]
        else:
            assert "COUTURE_DATABASE_URL" not in env, f"{name} has no use for the database password"
    executor = compose["services"]["executor"]["environment"]
    assert executor["COUTURE_REGISTRY_URL"] == "http://registry:8080"
    registry = compose["services"]["registry"]["environment"]
    assert executor["COUTURE_SERVICE_TOKEN"] == registry["COUTURE_SERVICE_TOKEN"]


def test_gateway_and_registry_verify_tokens_against_the_auth_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("gateway", "registry"):
        assert services[name]["environment"]["COUTURE_AUTH_URL"] == "http://auth:8080", name
        assert services[name]["depends_on"]["auth"] == {"condition": "service_healthy"}, name
    assert services["auth"]["command"] == ["auth"]


def test_depends_on_names_services_that_report_their_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on {target}, which does not exist"
            assert condition["condition"] == "service_healthy", f"{name} -> {target}"
            assert "healthcheck" in services[target], f"{name} waits for {target}, which has no healthcheck"
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"depends_on cycle: {' -> '.join((*path, name))}"
        if name in seen:
            return
        for target in services[name].get("depends_on", {}):
            visit(target, (*path, name))
        seen.add(name)

    for name in services:
        visit(name, ())
    for name in _couture(compose):
        assert "kafka" in services[name]["depends_on"], f"{name} needs the event log"
    for name in READ_MODEL_WRITERS:
        assert "postgres" in services[name]["depends_on"], f"{name} writes the read models"


def test_executors_scale_and_only_the_gateway_is_published(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert "container_name" not in service, f"{name}: a fixed name stops --scale"
        if name != "gateway":
            assert "ports" not in service, f"{name} needs no port on the host"
    (published,) = compose["services"]["gateway"]["ports"]
    host, _, container_port = published.split(":")
    assert host == "127.0.0.1", "the example publishes the UI on loopback; GATEWAY_BIND opens it"
    assert int(container_port) == int(_image_env()["COUTURE_PORT"])


def test_named_volumes_are_declared_and_couture_home_is_shared(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    home = _image_env()["COUTURE_HOME"]
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source, _, target = mount.partition(":")
            assert source in declared, f"{name}: volume {source} is not declared"
            if name in _couture(compose):
                assert (source, target) == ("couture-home", home)


def test_kafka_runs_in_kraft_mode_where_the_services_look_for_it(
    compose: dict[str, Any], example_env: dict[str, str]
) -> None:
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in key for key in env)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    cluster_id = example_env["KAFKA_CLUSTER_ID"]
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16, "KAFKA_CLUSTER_ID: a base64url UUID"
    advertised = env["KAFKA_ADVERTISED_LISTENERS"].split("//", 1)[1]
    for name, service in _couture(compose).items():
        assert service["environment"]["COUTURE_EVENT_LOG"] == f"kafka://{advertised}", name
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert voters == f"{env['KAFKA_NODE_ID']}@kafka:9093"


def _health_url(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], "Couture health checks use the image's Python"
    (url,) = re.findall(r"'(http://[^']+)'", test[3])
    return str(url)


def test_couture_health_checks_ask_readiness_on_the_port_each_service_serves(compose: dict[str, Any]) -> None:
    image_port = int(_image_env()["COUTURE_PORT"])
    for name, service in _couture(compose).items():
        url = _health_url(service)
        port = int(url.split(":")[2].split("/")[0])
        if name == "streams":
            assert port == STREAMS_WEB_PORT, "faust's web server answers on couture streams --port"
        elif name in HTTP_SERVICES:
            assert port == image_port, name
            assert HEALTH_PORT_VARIABLE not in service["environment"], name
        else:
            assert port == int(service["environment"][HEALTH_PORT_VARIABLE]), name
        expected = {"gateway": "/api/v2/monitor/health", "streams": "/"}.get(name, "/ready")
        assert url.endswith(expected), f"{name}: {url}"
        timing = service["healthcheck"]
        assert {"interval", "timeout", "retries", "start_period"} <= set(timing), name
    for name in ("kafka", "postgres"):
        assert compose["services"][name]["healthcheck"]["test"][0] == "CMD", name


class _Handler(BaseHTTPRequestHandler):
    status_by_path: dict[str, int] = {}

    def do_GET(self) -> None:
        self.send_response(self.status_by_path.get(self.path, 404))
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads exit codes."""


@pytest.fixture
def server() -> Iterator[tuple[int, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"status_by_path": {}})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], handler
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("name", PROCESSES)
def test_a_health_check_passes_when_ready_and_fails_while_not(
    compose: dict[str, Any], server: tuple[int, type[_Handler]], name: str
) -> None:
    port, handler = server
    service = compose["services"][name]
    url = _health_url(service)
    path = "/" + url.split("/", 3)[3]
    code = service["healthcheck"]["test"][3].replace(url, f"http://127.0.0.1:{port}{path}")
    for status, outcome in ((200, 0), (503, 1)):
        handler.status_by_path = {path: status}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
        command = shlex.join(service["healthcheck"]["test"])
        assert result.returncode == outcome, f"{name} answering {status}: {command}"


def test_interpolation_follows_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("$$SET ${SET} $SET", env) == "$SET x x"
    assert interpolate("${EMPTY:-d} ${EMPTY-d} ${UNSET-d}", env) == "d  d"
    assert interpolate("${SET:+r} ${EMPTY:+r}", env) == "r "
    with pytest.raises(InterpolationError, match="EMPTY: fill it"):
        interpolate("${EMPTY:?fill it}", env)
    assert interpolate("${EMPTY?fill it}", env) == ""
    with pytest.raises(InterpolationError, match="UNSET"):
        interpolate("${UNSET}", env)
