"""A task that prints a secret it read leaves "***" in its log, never the secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

COUTURE = Path(sys.executable).parent / "couture"

DAG = """
from datetime import datetime
from airflow import DAG
from airflow.hooks.base import BaseHook
from airflow.models import Variable
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

def show():
    print("variable:", Variable.get("api_key"))
    print("password:", BaseHook.get_connection("warehouse").password)
    print("plain:", Variable.get("region"))

with DAG("leaky", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    PythonOperator(task_id="python", python_callable=show) >> BashOperator(
        task_id="bash", bash_command="echo templated {{ var.value.api_key }}"
    )
"""


def test_secrets_read_by_tasks_are_masked_in_their_logs(tmp_path: Path) -> None:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "leaky.py").write_text(DAG)
    env = {**os.environ, "COUTURE_HOME": str(tmp_path)}

    def couture(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(COUTURE), *args], env=env, capture_output=True, text=True, timeout=120)

    assert couture("variables", "set", "api_key", "ak-7f3c9e1b").returncode == 0
    assert couture("variables", "set", "region", "eu-west-1").returncode == 0
    uri = "postgres://etl:w4rehouse-pass@db:5432/sales"
    assert couture("connections", "add", "warehouse", "--conn-uri", uri).returncode == 0
    result = couture("dags", "test", "leaky")
    assert result.returncode == 0, result.stdout + result.stderr

    logs = "".join(p.read_text() for p in (tmp_path / "logs").rglob("attempt=1.log"))
    assert "variable: ***" in logs and "password: ***" in logs and "templated ***" in logs
    assert "plain: eu-west-1" in logs
    assert "ak-7f3c9e1b" not in logs and "w4rehouse-pass" not in logs
