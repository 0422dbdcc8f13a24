"""Running one try of a task: what state it ends in, what it pushes, what it skips."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from couture_sdk.context import get_current_context
from couture_sdk.dag import DAG
from couture_sdk.exceptions import AirflowFailException, AirflowSkipException
from couture_sdk.execution import execute_task
from couture_sdk.local_runtime import LocalRuntime
from couture_sdk.operators import (
    BashOperator,
    BranchPythonOperator,
    CoutureDaskYarnOperator,
    CoutureJupyterOperator,
    CouturePySparkOperator,
    CoutureSparkOperator,
    CoutureTensorflowOperator,
    DagOperator,
    EmptyOperator,
    PySparkOperator,
    PythonOperator,
    ShortCircuitOperator,
    SparkOperator,
    TensorflowOperator,
)

from .conftest import RunTask

START = datetime(2024, 1, 1)
RUN_ID = "scheduled__2024-03-10T00:00:00+00:00"


def _dag(**kwargs: Any) -> DAG:
    return DAG("run", start_date=START, schedule="@daily", **kwargs)


def _xcoms(runtime: LocalRuntime, task_id: str) -> dict[str, Any]:
    return {key: value for (_, _, t, key), value in runtime.xcoms.items() if t == task_id}


# BashOperator ---------------------------------------------------------------------------------


def test_bash_success_pushes_the_last_line(run_task: RunTask, runtime: LocalRuntime, capfd: Any) -> None:
    with _dag():
        task = BashOperator(task_id="b", bash_command="echo first; echo 'last {{ ds }}'")
    result, _ = run_task(task)
    assert result.state == "success"
    assert _xcoms(runtime, "b") == {"return_value": "last 2024-03-10"}
    out = capfd.readouterr().out
    assert "first\n" in out
    assert "last 2024-03-10\n" in out


def test_bash_without_xcom_push_pushes_nothing(run_task: RunTask, runtime: LocalRuntime) -> None:
    with _dag():
        task = BashOperator(task_id="b", bash_command="echo hi", do_xcom_push=False)
    assert run_task(task)[0].state == "success"
    assert _xcoms(runtime, "b") == {}


def test_bash_exit_99_skips(run_task: RunTask) -> None:
    with _dag():
        task = BashOperator(task_id="b", bash_command="exit 99")
    assert run_task(task)[0].state == "skipped"


def test_bash_skip_codes_can_be_changed(run_task: RunTask) -> None:
    with _dag():
        skips = BashOperator(task_id="skips", bash_command="exit 3", skip_on_exit_code=[3, 4])
        fails = BashOperator(task_id="fails", bash_command="exit 99", skip_on_exit_code=None)
    assert run_task(skips)[0].state == "skipped"
    assert run_task(fails)[0].state == "failed"


def test_bash_failure_reports_the_exit_code(run_task: RunTask) -> None:
    with _dag():
        task = BashOperator(task_id="b", bash_command="echo oops >&2; exit 4")
    result, _ = run_task(task)
    assert result.state == "failed"
    assert result.no_retry is False
    assert result.error is not None
    assert "Bash command failed. The command returned a non-zero exit code 4." in result.error


def test_bash_env_replaces_or_extends_the_environment(
    run_task: RunTask, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FROM_WORKER", "worker")
    with _dag():
        only = BashOperator(
            task_id="only", bash_command='echo "${FROM_WORKER:-unset} $MINE"', env={"MINE": "{{ ds_nodash }}"}
        )
        appended = BashOperator(
            task_id="appended", bash_command='echo "$FROM_WORKER $MINE"', env={"MINE": "x"}, append_env=True
        )
        inherited = BashOperator(task_id="inherited", bash_command='echo "$FROM_WORKER $AIRFLOW_CTX_DAG_ID"')
    for task in (only, appended, inherited):
        assert run_task(task)[0].state == "success"
    assert _xcoms(runtime, "only") == {"return_value": "unset 20240310"}
    assert _xcoms(runtime, "appended") == {"return_value": "worker x"}
    assert _xcoms(runtime, "inherited") == {"return_value": "worker run"}


def test_bash_runs_in_cwd(run_task: RunTask, runtime: LocalRuntime, tmp_path: Path) -> None:
    with _dag():
        here = BashOperator(task_id="here", bash_command="pwd", cwd=str(tmp_path))
        missing = BashOperator(task_id="missing", bash_command="pwd", cwd=str(tmp_path / "nope"))
    assert run_task(here)[0].state == "success"
    assert _xcoms(runtime, "here") == {"return_value": str(tmp_path)}
    result, _ = run_task(missing)
    assert result.state == "failed"
    assert "Can not find the cwd" in (result.error or "")


def test_bash_command_from_a_template_file(run_task: RunTask, runtime: LocalRuntime, tmp_path: Path) -> None:
    (tmp_path / "script.sh").write_text("echo from file {{ params.who }}\n")
    dag = _dag(template_searchpath=str(tmp_path), params={"who": "me"})
    task = BashOperator(task_id="b", bash_command="script.sh", dag=dag)
    assert run_task(task)[0].state == "success"
    assert _xcoms(runtime, "b") == {"return_value": "from file me"}


def test_execution_timeout_fails_the_try_and_kills_the_command(run_task: RunTask) -> None:
    with _dag():
        task = BashOperator(task_id="b", bash_command="sleep 30", execution_timeout=timedelta(seconds=0.3))
    started = time.monotonic()
    result, _ = run_task(task)
    assert time.monotonic() - started < 5
    assert result.state == "failed"
    assert result.no_retry is False
    assert "AirflowTaskTimeout" in (result.error or "")


# PythonOperator -------------------------------------------------------------------------------


def test_callable_gets_the_context_entries_it_names(run_task: RunTask, runtime: LocalRuntime) -> None:
    def named(ds: str, params: dict[str, Any]) -> str:
        return f"{ds} {params['n']}"

    with _dag():
        task = PythonOperator(task_id="p", python_callable=named, params={"n": 1})
    assert run_task(task)[0].state == "success"
    assert _xcoms(runtime, "p") == {"return_value": "2024-03-10 1"}


def test_callable_with_kwargs_gets_the_whole_context(run_task: RunTask, runtime: LocalRuntime) -> None:
    seen: dict[str, Any] = {}

    def print_context(ds: str, **kwargs: Any) -> str:
        seen.update(kwargs, ds=ds)
        return "Whatever you return gets printed in the logs"

    with _dag():
        task = PythonOperator(task_id="p", provide_context=True, python_callable=print_context)
    assert run_task(task)[0].state == "success"
    assert {"ds", "ti", "task_instance", "dag_run", "params", "macros", "var"} <= seen.keys()
    assert _xcoms(runtime, "p") == {"return_value": "Whatever you return gets printed in the logs"}


def test_op_args_op_kwargs_and_templates_dict_are_rendered(run_task: RunTask, runtime: LocalRuntime) -> None:
    def fn(a: str, b: str, templates_dict: dict[str, str], **_: Any) -> list[str]:
        return [a, b, templates_dict["when"]]

    with _dag():
        task = PythonOperator(
            task_id="p",
            python_callable=fn,
            op_args=["{{ ds_nodash }}"],
            op_kwargs={"b": "{{ params.b }}"},
            templates_dict={"when": "{{ macros.ds_add(ds, 1) }}"},
            params={"b": "bee"},
        )
    assert run_task(task)[0].state == "success"
    assert _xcoms(runtime, "p") == {"return_value": ["20240310", "bee", "2024-03-11"]}


def test_none_is_not_pushed(run_task: RunTask, runtime: LocalRuntime) -> None:
    with _dag():
        task = PythonOperator(task_id="p", python_callable=lambda: None)
    assert run_task(task)[0].state == "success"
    assert _xcoms(runtime, "p") == {}


def test_a_value_that_is_not_json_fails_the_task(run_task: RunTask, runtime: LocalRuntime) -> None:
    with _dag():
        task = PythonOperator(task_id="p", python_callable=lambda: {1, 2})
    result, _ = run_task(task)
    assert result.state == "failed"
    assert "must be JSON-serialisable" in (result.error or "")
    assert _xcoms(runtime, "p") == {}


def test_exceptions_map_to_states(run_task: RunTask) -> None:
    def skip() -> None:
        raise AirflowSkipException("nothing to do")

    def fail_now() -> None:
        raise AirflowFailException("bad input, retrying will not help")

    def crash() -> None:
        raise ValueError("boom")

    def exits() -> None:
        raise SystemExit(3)

    with _dag():
        tasks = {
            name: PythonOperator(task_id=name, python_callable=fn)
            for name, fn in [("skip", skip), ("fail_now", fail_now), ("crash", crash), ("exits", exits)]
        }
    skipped, _ = run_task(tasks["skip"])
    assert (skipped.state, skipped.error) == ("skipped", None)
    failed_now, _ = run_task(tasks["fail_now"])
    assert (failed_now.state, failed_now.no_retry) == ("failed", True)
    assert "bad input, retrying will not help" in (failed_now.error or "")
    crashed, _ = run_task(tasks["crash"])
    assert (crashed.state, crashed.no_retry) == ("failed", False)
    assert "ValueError: boom" in (crashed.error or "")
    assert "Traceback" in (crashed.error or "")
    assert run_task(tasks["exits"])[0].state == "failed"


def test_a_template_error_fails_the_task(run_task: RunTask) -> None:
    with _dag():
        task = BashOperator(task_id="b", bash_command="echo {{ ds | nosuchfilter }}")
    result, _ = run_task(task)
    assert result.state == "failed"
    assert "Could not render template field 'bash_command'" in (result.error or "")


def test_get_current_context_inside_a_callable(run_task: RunTask, runtime: LocalRuntime) -> None:
    with _dag():
        task = PythonOperator(task_id="p", python_callable=lambda: get_current_context()["ds"])
    assert run_task(task)[0].state == "success"
    assert _xcoms(runtime, "p") == {"return_value": "2024-03-10"}
    with pytest.raises(RuntimeError, match="no context was found"):
        get_current_context()


def test_callbacks_run_by_outcome(run_task: RunTask) -> None:
    calls: list[str] = []

    def cb(name: str) -> Any:
        return lambda context: calls.append(f"{name}:{context['ti'].try_number}")

    def broken_callback(context: Any) -> None:
        raise RuntimeError("callback bug")

    callbacks = {
        "on_execute_callback": cb("execute"),
        "on_success_callback": cb("success"),
        "on_retry_callback": cb("retry"),
        "on_failure_callback": cb("failure"),
    }
    with _dag():
        ok = EmptyOperator(task_id="ok", **callbacks)
        bad = BashOperator(task_id="bad", bash_command="exit 1", retries=1, **callbacks)
        flaky_callback = EmptyOperator(task_id="flaky_callback", on_success_callback=broken_callback)
    run_task(ok)
    run_task(bad, try_number=1)
    run_task(bad, try_number=2)
    assert calls == ["execute:1", "success:1", "execute:1", "retry:1", "execute:2", "failure:2"]
    assert run_task(flaky_callback)[0].state == "success"


def test_pre_and_post_execute_hooks(run_task: RunTask) -> None:
    seen: list[Any] = []
    with _dag():
        task = PythonOperator(
            task_id="p",
            python_callable=lambda: 7,
            pre_execute=lambda context: seen.append("pre"),
            post_execute=lambda context, result: seen.append(("post", result)),
        )
    run_task(task)
    assert seen == ["pre", ("post", 7)]


# Branching and short circuits -----------------------------------------------------------------


def test_branch_skips_the_direct_downstream_tasks_not_chosen(
    run_task: RunTask, runtime: LocalRuntime
) -> None:
    with _dag():
        pick = BranchPythonOperator(task_id="pick", python_callable=lambda: "a")
        a, b, c = (EmptyOperator(task_id=t) for t in "abc")
        after_b = EmptyOperator(task_id="after_b")
        pick >> [a, b, c]
        b >> after_b
    result, _ = run_task(pick)
    assert result.state == "success"
    assert result.skip_downstream == ("b", "c")
    assert result.skip_all_descendants is False
    assert _xcoms(runtime, "pick") == {"return_value": "a"}


def test_branch_to_several_or_none(run_task: RunTask) -> None:
    with _dag():
        several = BranchPythonOperator(task_id="several", python_callable=lambda: ["a", "b"])
        nothing = BranchPythonOperator(task_id="nothing", python_callable=lambda: None)
        a, b, c = (EmptyOperator(task_id=t) for t in "abc")
        several >> [a, b, c]
        nothing >> [a, b]
    assert run_task(several)[0].skip_downstream == ("c",)
    assert run_task(nothing)[0].skip_downstream == ("a", "b")


def test_branch_to_an_unknown_task_fails(run_task: RunTask) -> None:
    with _dag():
        pick = BranchPythonOperator(task_id="pick", python_callable=lambda: "ghost")
        pick >> EmptyOperator(task_id="a")
    result, _ = run_task(pick)
    assert result.state == "failed"
    assert "Invalid tasks found: ['ghost']" in (result.error or "")


def test_short_circuit_skips_every_descendant_by_default(run_task: RunTask) -> None:
    with _dag():
        gate = ShortCircuitOperator(task_id="gate", python_callable=lambda: 0)
        a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b", trigger_rule="all_done")
        gate >> a >> b
    result, _ = run_task(gate)
    assert result.state == "success"
    assert result.skip_downstream == ("a", "b")
    assert result.skip_all_descendants is True


def test_short_circuit_respecting_trigger_rules_skips_direct_downstream_only(run_task: RunTask) -> None:
    with _dag():
        gate = ShortCircuitOperator(
            task_id="gate", python_callable=list, ignore_downstream_trigger_rules=False
        )
        a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
        gate >> a >> b
    result, _ = run_task(gate)
    assert (result.skip_downstream, result.skip_all_descendants) == (("a",), False)


def test_short_circuit_with_a_truthy_result_skips_nothing(run_task: RunTask) -> None:
    with _dag():
        gate = ShortCircuitOperator(task_id="gate", python_callable=lambda: True)
        gate >> EmptyOperator(task_id="a")
    result, _ = run_task(gate)
    assert (result.state, result.skip_downstream) == ("success", ())


# DagOperator ----------------------------------------------------------------------------------


def conditionally_trigger(context: dict[str, Any], dag_run_obj: Any) -> Any:
    if context["params"]["condition_param"]:
        dag_run_obj.payload = {"message": context["params"]["message"]}
        return dag_run_obj
    return None


def test_dag_operator_triggers_with_the_payload_as_conf(run_task: RunTask, runtime: LocalRuntime) -> None:
    with _dag():
        task = DagOperator(
            task_id="SchemaGeneration",
            run_dag_id="ExampleSchemaGeneration",
            python_callable=conditionally_trigger,
            params={"condition_param": True, "message": "Hii there!!"},
        )
    result, _ = run_task(task)
    assert result.state == "success"
    [triggered] = runtime.triggered
    assert (triggered.dag_id, triggered.conf) == ("ExampleSchemaGeneration", {"message": "Hii there!!"})
    assert _xcoms(runtime, "SchemaGeneration") == {"trigger_run_id": triggered.run_id}


def test_dag_operator_returning_none_triggers_nothing(run_task: RunTask, runtime: LocalRuntime) -> None:
    with _dag():
        task = DagOperator(
            task_id="t",
            run_dag_id="Other",
            python_callable=conditionally_trigger,
            params={"condition_param": False, "message": "x"},
        )
    assert run_task(task)[0].state == "success"
    assert runtime.triggered == []


def test_dag_operator_refuses_a_payload_that_is_not_a_dict(run_task: RunTask, runtime: LocalRuntime) -> None:
    def bad(context: Any, dag_run_obj: Any) -> Any:
        dag_run_obj.payload = "message"
        return dag_run_obj

    with _dag():
        task = DagOperator(task_id="t", run_dag_id="Other", python_callable=bad)
    result, _ = run_task(task)
    assert result.state == "failed"
    assert "dag_run_obj.payload" in (result.error or "")
    assert runtime.triggered == []


# Operators whose execution is not in this build -----------------------------------------------


@pytest.mark.parametrize(
    ("operator", "kwargs"),
    [
        (SparkOperator, {"code_artifact": "a.jar"}),
        (CoutureSparkOperator, {"code_artifact": "a.jar", "method_id": "m"}),
        (PySparkOperator, {"code_artifact": "a.py"}),
        (CouturePySparkOperator, {"code_artifact": "a.py", "method_id": "m"}),
        (CoutureDaskYarnOperator, {"code_artifact": "a.py", "method_id": "m"}),
        (TensorflowOperator, {"code_artifact": "a.py"}),
        (CoutureTensorflowOperator, {"code_artifact": "a.py", "method_id": "m"}),
        (CoutureJupyterOperator, {"input_notebook": "in.ipynb", "output_notebook": "out.ipynb"}),
    ],
)
def test_cluster_operators_fail_clearly(run_task: RunTask, operator: type, kwargs: dict[str, Any]) -> None:
    with _dag():
        task = operator(task_id="job", **kwargs)
    result, _ = run_task(task)
    assert result.state == "failed"
    assert f"{operator.__name__} execution is not available yet in this build" in (result.error or "")


def test_the_worker_environment_is_left_as_it_was(run_task: RunTask) -> None:
    before = dict(os.environ)
    with _dag():
        task = BashOperator(task_id="b", bash_command="echo", env={"X": "1"})
    run_task(task)
    assert dict(os.environ) == before


def test_a_context_without_a_task_instance_is_a_failed_result_not_an_exception() -> None:
    with _dag():
        task = EmptyOperator(task_id="e")
    result = execute_task(task, {"ds": "2024-03-10"})
    assert result.state == "failed"
    assert "no task instance" in (result.error or "")
