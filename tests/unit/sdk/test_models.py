"""Variables, connections and XCom pulls as task code calls them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from couture_sdk.dag import DAG
from couture_sdk.exceptions import AirflowNotFoundException
from couture_sdk.local_runtime import LocalConnection, LocalRuntime
from couture_sdk.models import BaseHook, Variable
from couture_sdk.operators import EmptyOperator
from couture_sdk.runtime import NoRuntimeError
from couture_sdk.taskinstance import TaskInstance


def test_variable_get_with_and_without_default(runtime: LocalRuntime) -> None:
    runtime.variables.update({"foo": "x", "bar": '{"a": [1]}'})
    assert Variable.get("foo") == "x"
    assert Variable.get("bar", deserialize_json=True) == {"a": [1]}
    assert Variable.get("baz", default_var=None) is None
    with pytest.raises(KeyError, match="Variable baz does not exist"):
        Variable.get("baz")


def test_variable_set_and_delete(runtime: LocalRuntime) -> None:
    Variable.set("db_config", {"host": "db"}, serialize_json=True)
    assert Variable.get("db_config", deserialize_json=True) == {"host": "db"}
    Variable.set("n", 5)
    assert runtime.variables["n"] == "5"
    Variable.delete("n")
    assert Variable.get("n", default_var="gone") == "gone"


def test_variable_setdefault(runtime: LocalRuntime) -> None:
    assert Variable.setdefault("k", "first") == "first"
    assert Variable.setdefault("k", "second") == "first"


def test_variables_are_not_available_while_parsing() -> None:
    with pytest.raises(NoRuntimeError, match="not while the DAG file is parsed"):
        Variable.get("foo")


def test_connections_come_from_the_runtime_and_hide_their_password(runtime: LocalRuntime) -> None:
    runtime.connections["db"] = LocalConnection(
        conn_id="db",
        conn_type="postgres",
        host="db.local",
        schema="main",
        login="app",
        password="s3cr3t/?",
        port=5432,
        extra='{"sslmode": "require"}',
    )
    conn = BaseHook.get_connection("db")
    assert (conn.host, conn.port, conn.login, conn.get_password()) == ("db.local", 5432, "app", "s3cr3t/?")
    assert conn.extra_dejson == {"sslmode": "require"}
    assert conn.get_uri() == "postgres://app:s3cr3t%2F%3F@db.local:5432/main"
    assert "s3cr3t" not in repr(conn)
    with pytest.raises(AirflowNotFoundException, match="The conn_id `nope` isn't defined"):
        BaseHook.get_connection("nope")


def _ti(task_id: str, dag: DAG) -> TaskInstance:
    return TaskInstance(
        dag.get_task(task_id),
        run_id="r1",
        logical_date=datetime(2024, 1, 1, tzinfo=UTC),
        try_number=1,
        max_tries=0,
    )


def test_xcom_pull_by_one_id_a_list_or_none(runtime: LocalRuntime) -> None:
    with DAG("x", schedule=None) as dag:
        for t in ("a", "b", "c", "puller"):
            EmptyOperator(task_id=t)
    runtime.start_task("x", "r1", "a")
    _ti("a", dag).xcom_push("return_value", "from a")
    _ti("a", dag).xcom_push("other", {"k": 1})
    runtime.start_task("x", "r1", "b")
    _ti("b", dag).xcom_push("return_value", "from b")
    runtime.start_task("x", "r1", "puller")
    ti = _ti("puller", dag)
    assert ti.xcom_pull(task_ids="a") == "from a"
    assert ti.xcom_pull(task_ids="a", key=None) == "from a"
    assert ti.xcom_pull(task_ids="a", key="other") == {"k": 1}
    assert ti.xcom_pull(task_ids=["b", "c", "a"]) == ["from b", None, "from a"]
    assert ti.xcom_pull(task_ids="c") is None
    assert ti.xcom_pull(task_ids="c", default="none yet") == "none yet"
    assert ti.xcom_pull() == "from b"
    assert ti.xcom_pull(task_ids="a", dag_id="elsewhere") is None


def test_xcom_push_refuses_values_that_are_not_json(runtime: LocalRuntime) -> None:
    with DAG("x", schedule=None) as dag:
        EmptyOperator(task_id="a")
    runtime.start_task("x", "r1", "a")
    with pytest.raises(TypeError, match="XCom 'k' of task 'a' must be JSON-serialisable"):
        _ti("a", dag).xcom_push("k", object())
