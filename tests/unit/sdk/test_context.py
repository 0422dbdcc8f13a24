"""What a running task sees in its template context."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from couture_sdk.context import build_context
from couture_sdk.dag import DAG
from couture_sdk.local_runtime import LocalConnection, LocalRuntime
from couture_sdk.operators import EmptyOperator

LOGICAL = datetime(2024, 3, 10, 6, 30, 5, tzinfo=UTC)


def _context(
    dag: DAG, *, external_trigger: bool = False, conf: dict[str, object] | None = None
) -> dict[str, object]:
    task = dag.tasks[0]
    return build_context(
        dag,
        task,
        run_id="scheduled__2024-03-10T06:30:05+00:00",
        run_type="manual" if external_trigger else "scheduled",
        logical_date=LOGICAL,
        data_interval_start=LOGICAL,
        data_interval_end=LOGICAL + timedelta(hours=1),
        conf=conf,
        try_number=2,
        max_tries=3,
        external_trigger=external_trigger,
    )


def _hourly_dag(**kwargs: object) -> DAG:
    with DAG("ctx", schedule="30 * * * *", start_date=datetime(2024, 1, 1), **kwargs) as dag:  # type: ignore[arg-type]
        EmptyOperator(task_id="t", params={"from_task": "task", "both": "task"})
    return dag


def test_date_strings_follow_airflow_formats() -> None:
    context = _context(_hourly_dag())
    assert context["ds"] == "2024-03-10"
    assert context["ds_nodash"] == "20240310"
    assert context["ts"] == "2024-03-10T06:30:05+00:00"
    assert context["ts_nodash"] == "20240310T063005"
    assert context["ts_nodash_with_tz"] == "20240310T063005+0000"
    assert context["yesterday_ds"] == "2024-03-09"
    assert context["yesterday_ds_nodash"] == "20240309"
    assert context["tomorrow_ds"] == "2024-03-11"
    assert context["tomorrow_ds_nodash"] == "20240311"
    assert context["logical_date"] == context["execution_date"] == LOGICAL
    assert context["data_interval_end"] == LOGICAL + timedelta(hours=1)
    assert context["task_instance_key_str"] == "ctx__t__20240310"


def test_scheduled_runs_see_their_neighbours_on_the_schedule() -> None:
    with DAG("daily", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
        EmptyOperator(task_id="t")
    context = build_context(
        dag,
        dag.tasks[0],
        run_id="scheduled__2024-03-10T00:00:00+00:00",
        run_type="scheduled",
        logical_date=datetime(2024, 3, 10),
        data_interval_start=datetime(2024, 3, 10),
        data_interval_end=datetime(2024, 3, 11),
        conf=None,
        try_number=1,
        max_tries=0,
        external_trigger=False,
    )
    assert context["prev_ds"] == "2024-03-09"
    assert context["prev_ds_nodash"] == "20240309"
    assert context["next_ds"] == "2024-03-11"
    assert context["next_ds_nodash"] == "20240311"
    assert context["prev_execution_date"] == datetime(2024, 3, 9, tzinfo=UTC)
    assert context["next_execution_date"] == datetime(2024, 3, 11, tzinfo=UTC)


def test_manual_runs_are_their_own_neighbours_like_airflow() -> None:
    context = _context(_hourly_dag(), external_trigger=True)
    assert context["prev_ds"] == context["next_ds"] == context["ds"]


def test_unscheduled_dags_have_no_neighbours() -> None:
    with DAG("manual_only", schedule=None) as dag:
        EmptyOperator(task_id="t")
    context = _context(dag)
    assert context["prev_ds"] is None
    assert context["next_ds"] is None


def test_run_conf_overrides_task_params_which_override_dag_params() -> None:
    dag = _hourly_dag(params={"from_dag": "dag", "both": "dag", "conf": "dag"})
    context = _context(dag, conf={"conf": "run"})
    assert context["params"] == {"from_dag": "dag", "from_task": "task", "both": "task", "conf": "run"}


def test_run_task_and_ti_describe_the_try() -> None:
    dag = _hourly_dag()
    context = _context(dag, conf={"x": 1})
    ti = context["ti"]
    assert context["task_instance"] is ti
    assert (ti.dag_id, ti.task_id, ti.run_id, ti.try_number, ti.max_tries) == (  # type: ignore[attr-defined]
        "ctx",
        "t",
        "scheduled__2024-03-10T06:30:05+00:00",
        2,
        3,
    )
    dag_run = context["dag_run"]
    assert dag_run.conf == {"x": 1}  # type: ignore[attr-defined]
    assert dag_run.run_type == "scheduled"  # type: ignore[attr-defined]
    assert dag_run.external_trigger is False  # type: ignore[attr-defined]
    assert dag_run.logical_date == LOGICAL  # type: ignore[attr-defined]
    assert context["run_id"] == "scheduled__2024-03-10T06:30:05+00:00"
    assert context["try_number"] == 2
    assert context["dag"] is dag
    assert context["task"] is dag.tasks[0]
    assert context["test_mode"] is False
    assert context["inlets"] == context["outlets"] == []
    assert context["templates_dict"] is None
    assert context["prev_data_interval_start_success"] is None


def test_macros_compute_dates() -> None:
    macros = _context(_hourly_dag())["macros"]
    assert macros.ds_add("2024-03-10", 5) == "2024-03-15"  # type: ignore[attr-defined]
    assert macros.ds_add("2024-03-10", -10) == "2024-02-29"  # type: ignore[attr-defined]
    assert macros.ds_format("2024-03-10", "%Y-%m-%d", "%d/%m/%y") == "10/03/24"  # type: ignore[attr-defined]
    assert macros.timedelta(days=1) == timedelta(days=1)  # type: ignore[attr-defined]
    assert macros.dateutil.relativedelta.relativedelta(months=1)  # type: ignore[attr-defined]


def test_var_and_conn_read_through_the_runtime(runtime: LocalRuntime) -> None:
    runtime.variables.update({"plain": "text", "settings": '{"depth": 2}'})
    runtime.connections["warehouse"] = LocalConnection(conn_id="warehouse", conn_type="postgres", host="db")
    context = _context(_hourly_dag())
    assert context["var"].value.plain == "text"  # type: ignore[attr-defined]
    assert context["var"].json.settings == {"depth": 2}  # type: ignore[attr-defined]
    assert context["var"].value.get("missing", "fallback") == "fallback"  # type: ignore[attr-defined]
    assert context["conn"].warehouse.host == "db"  # type: ignore[attr-defined]
    assert context["conn"].get("nowhere") is None  # type: ignore[attr-defined]


def test_conf_reads_airflow_environment_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False")
    conf = _context(_hourly_dag())["conf"]
    assert conf.getboolean("core", "dags_are_paused_at_creation") is False  # type: ignore[attr-defined]
    assert conf.get("core", "missing", fallback="x") == "x"  # type: ignore[attr-defined]


def test_weekday_cron_neighbours_skip_the_weekend() -> None:
    with DAG("weekdays", schedule="0 6 * * 1-5", start_date=datetime(2024, 1, 1)) as dag:
        EmptyOperator(task_id="t")
    monday = datetime(2024, 3, 11, 6, tzinfo=UTC)
    context = build_context(
        dag,
        dag.tasks[0],
        run_id="scheduled__2024-03-11T06:00:00+00:00",
        run_type="scheduled",
        logical_date=monday,
        data_interval_start=monday,
        data_interval_end=monday + timedelta(days=1),
        conf=None,
        try_number=1,
        max_tries=0,
        external_trigger=False,
    )
    assert (context["prev_ds"], context["next_ds"]) == ("2024-03-08", "2024-03-12")
