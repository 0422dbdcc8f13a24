"""The ``couture`` command as a user runs it: a real process on a real COUTURE_HOME."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

COUTURE = Path(sys.executable).parent / "couture"

HELLO = """
from datetime import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.models import Variable

def read(**_):
    return Variable.get("greeting")

with DAG("hello", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    say = BashOperator(task_id="say", bash_command="echo {{ dag_run.conf.get('who', 'nobody') }}")
    say >> PythonOperator(task_id="read", python_callable=read)

with DAG("broken_run", start_date=datetime(2024, 1, 1), schedule=None) as broken:
    BashOperator(task_id="fails", bash_command="exit 2")
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "hello.py").write_text(HELLO)
    return tmp_path


def couture(
    home: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COUTURE), *args],
        env={**os.environ, "COUTURE_HOME": str(home), **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dags_test_runs_a_dag_through_scheduler_and_executor(home: Path) -> None:
    assert couture(home, "variables", "set", "greeting", "hi").returncode == 0
    result = couture(home, "dags", "test", "hello", "--conf", '{"who": "ops"}')
    assert result.returncode == 0, result.stderr
    assert "say     | success" in result.stdout
    assert "read    | success" in result.stdout
    assert "success in" in result.stdout
    log = next((home / "logs" / "dag_id=hello").glob("run_id=*/task_id=say/attempt=1.log")).read_text()
    assert "ops" in log


def test_dags_test_exits_non_zero_when_the_run_fails(home: Path) -> None:
    result = couture(home, "dags", "test", "broken_run")
    assert result.returncode == 1
    assert "fails   | failed" in result.stdout


def test_dags_list_and_pause(home: Path) -> None:
    assert couture(home, "dags", "test", "hello").returncode in (0, 1)
    listing = json.loads(couture(home, "dags", "list", "-o", "json").stdout)
    assert {d["dag_id"]: d["is_paused"] for d in listing} == {"hello": True, "broken_run": True}
    assert couture(home, "dags", "unpause", "hello").returncode == 0
    listing = json.loads(couture(home, "dags", "list", "-o", "json").stdout)
    assert {d["dag_id"]: d["is_paused"] for d in listing}["hello"] is False


def test_errors_are_one_clear_line_and_a_non_zero_exit(home: Path) -> None:
    cases = [
        (("dags", "trigger", "nope"), "couture: error: DAG 'nope' not found"),
        (("dags", "trigger", "hello", "--conf", "[1]"), "couture: error: --conf must be a JSON object"),
        (("variables", "get", "missing"), "couture: error: Variable missing does not exist"),
        (("connections", "add", "c", "--conn-uri", "no-scheme"), "couture: error: conn_uri: needs a scheme"),
        (("connections", "add", "c", "--conn-type", "http", "--conn-extra", "{"), "extra is not valid JSON"),
    ]
    couture(home, "dags", "test", "hello")
    for args, message in cases:
        result = couture(home, *args)
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_bad_configuration_names_the_variable(home: Path) -> None:
    result = couture(home, "dags", "list", env={"COUTURE_PORT": "not-a-port"})
    assert result.returncode == 2
    assert "COUTURE_PORT" in result.stderr


def test_variables_round_trip_and_never_reach_the_log_in_clear(home: Path) -> None:
    assert couture(home, "variables", "set", "db_password", "s3cr3t-value").returncode == 0
    assert couture(home, "variables", "set", "cfg", '{"a": 1}', "--json").returncode == 0
    assert couture(home, "variables", "get", "db_password").stdout.strip() == "s3cr3t-value"
    assert json.loads(couture(home, "variables", "get", "cfg", "--json").stdout) == {"a": 1}
    assert couture(home, "variables", "list").stdout.split() == ["cfg", "db_password"]
    assert b"s3cr3t-value" not in (home / "data" / "events.db").read_bytes()

    exported = home / "vars.json"
    assert couture(home, "variables", "export", str(exported)).returncode == 0
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    assert json.loads(exported.read_text()) == {"cfg": {"a": 1}, "db_password": "s3cr3t-value"}

    other = home / "other"
    other.mkdir()
    assert couture(other, "variables", "import", str(exported)).returncode == 0
    assert couture(other, "variables", "get", "db_password").stdout.strip() == "s3cr3t-value"


def test_connections_share_an_id_and_keep_passwords_out_of_listings(home: Path) -> None:
    uri = "postgres://reader:p%40ss@db.example:5432/sales?sslmode=require"
    assert couture(home, "connections", "add", "warehouse", "--conn-uri", uri).returncode == 0
    assert (
        couture(
            home, "connections", "add", "warehouse", "--conn-type", "postgres", "--conn-host", "db2"
        ).returncode
        == 0
    )
    listing = couture(home, "connections", "list").stdout
    assert listing.count("warehouse") == 2 and "p@ss" not in listing
    exported = home / "conns.json"
    assert couture(home, "connections", "export", str(exported)).returncode == 0
    entries = json.loads(exported.read_text())["warehouse"]
    assert {e["host"] for e in entries} == {"db.example", "db2"}
    first = next(e for e in entries if e["host"] == "db.example")
    assert (first["login"], first["password"], first["port"], first["schema"]) == (
        "reader",
        "p@ss",
        5432,
        "sales",
    )
    assert json.loads(first["extra"]) == {"sslmode": "require"}
    assert b"p@ss" not in (home / "data" / "events.db").read_bytes()


def test_rotating_the_fernet_key_keeps_secrets_readable_with_the_new_key_alone(home: Path) -> None:
    old = Fernet.generate_key().decode()
    new = Fernet.generate_key().decode()
    assert couture(home, "variables", "set", "token", "v1", env={"COUTURE_FERNET_KEY": old}).returncode == 0
    rotated = couture(home, "rotate-fernet-key", env={"COUTURE_FERNET_KEY": f"{new},{old}"})
    assert rotated.returncode == 0, rotated.stderr
    assert couture(home, "variables", "get", "token", env={"COUTURE_FERNET_KEY": new}).stdout.strip() == "v1"


def test_users_create_refuses_duplicates_and_short_passwords(home: Path) -> None:
    assert (
        couture(home, "users", "create", "-u", "alice", "-r", "Viewer", "-p", "long-enough-1").returncode == 0
    )
    duplicate = couture(home, "users", "create", "-u", "alice", "-r", "Viewer", "-p", "long-enough-1")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    short = couture(home, "users", "create", "-u", "bob", "-r", "Op", "-p", "short")
    assert short.returncode == 1 and "--password" in short.stderr


def test_tasks_test_runs_one_task_without_recording_it(home: Path) -> None:
    couture(home, "variables", "set", "greeting", "hello there")
    result = couture(home, "tasks", "test", "hello", "read")
    assert result.returncode == 0, result.stderr
    assert "Task hello.read: SUCCESS" in result.stdout
    assert not (home / "logs").exists() or not list((home / "logs").rglob("task_id=read"))
