"""A DAG's arguments, schedule and graph rules, as the user writes them in a DAG file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from couture_common.dagspec import ScheduleSpec
from couture_sdk.dag import DAG
from couture_sdk.exceptions import AirflowDagCycleException, AirflowException, DuplicateTaskIdFound
from couture_sdk.operators import BashOperator, EmptyOperator

START = datetime(2024, 1, 1)


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (None, ScheduleSpec(kind="none")),
        ("@once", ScheduleSpec(kind="once", display="@once")),
        ("@hourly", ScheduleSpec(kind="cron", cron="0 * * * *", display="@hourly")),
        ("@daily", ScheduleSpec(kind="cron", cron="0 0 * * *", display="@daily")),
        ("@weekly", ScheduleSpec(kind="cron", cron="0 0 * * 0", display="@weekly")),
        ("@monthly", ScheduleSpec(kind="cron", cron="0 0 1 * *", display="@monthly")),
        ("@quarterly", ScheduleSpec(kind="cron", cron="0 0 1 */3 *", display="@quarterly")),
        ("@yearly", ScheduleSpec(kind="cron", cron="0 0 1 1 *", display="@yearly")),
        ("*/5 * * * *", ScheduleSpec(kind="cron", cron="*/5 * * * *", display="*/5 * * * *")),
        (
            timedelta(days=1),
            ScheduleSpec(kind="delta", delta_seconds=86400.0, display="timedelta(days=1)"),
        ),
    ],
)
def test_schedule_interval_becomes_a_schedule_spec(schedule: object, expected: ScheduleSpec) -> None:
    assert DAG("d", schedule_interval=schedule, start_date=START).schedule == expected
    assert DAG("d", schedule=schedule, start_date=START).schedule == expected


def test_a_dag_without_schedule_runs_daily_like_airflow_2() -> None:
    assert DAG("d").schedule.delta_seconds == 86400.0


@pytest.mark.parametrize("bad", ["every day", "* * *", "@fortnightly", "61 * * * *"])
def test_an_invalid_cron_names_schedule_interval(bad: str) -> None:
    with pytest.raises(ValueError, match="schedule_interval of DAG 'd' is not a valid cron"):
        DAG("d", schedule_interval=bad)


def test_schedule_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError, match="schedule_interval of DAG 'd' must be"):
        DAG("d", schedule_interval=5)


def test_schedule_and_schedule_interval_together_are_refused() -> None:
    with pytest.raises(ValueError, match="both schedule and schedule_interval"):
        DAG("d", schedule="@daily", schedule_interval="@daily")


def test_start_and_end_date_come_from_default_args_as_aware_utc() -> None:
    dag = DAG("d", default_args={"start_date": datetime(2018, 10, 8), "end_date": datetime(2019, 1, 1)})
    assert dag.start_date == datetime(2018, 10, 8, tzinfo=UTC)
    assert dag.end_date == datetime(2019, 1, 1, tzinfo=UTC)


def test_an_aware_start_date_is_converted_to_utc() -> None:
    dag = DAG("d", start_date=datetime(2024, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))))
    assert dag.start_date == datetime(2024, 1, 1, tzinfo=UTC)


def test_concurrency_is_the_old_name_of_max_active_tasks() -> None:
    assert DAG("d", concurrency=3).max_active_tasks == 3
    assert DAG("d", max_active_tasks=4).max_active_tasks == 4
    assert DAG("d").max_active_tasks == 16


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dag_id": "has space"}, r"dag_id must be .*, got 'has space'"),
        ({"dag_id": 7}, "dag_id must be a string"),
        ({"dag_id": "d", "catchup": "no"}, "catchup of DAG 'd' must be bool"),
        ({"dag_id": "d", "max_active_runs": 0}, "max_active_runs of DAG 'd' must be >= 1"),
        ({"dag_id": "d", "start_date": "2024-01-01"}, "start_date of DAG 'd' must be a datetime"),
        ({"dag_id": "d", "default_args": ["x"]}, "default_args of DAG 'd' must be a dict"),
        ({"dag_id": "d", "tags": [1]}, "tags of DAG 'd' must be a string or a list of strings"),
        ({"dag_id": "d", "on_failure_callback": "oops"}, "on_failure_callback of DAG 'd' must be callable"),
        (
            {"dag_id": "d", "start_date": datetime(2024, 2, 1), "end_date": datetime(2024, 1, 1)},
            "end_date of DAG 'd' is before its start_date",
        ),
    ],
)
def test_bad_dag_arguments_name_the_argument(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        DAG(**kwargs)  # type: ignore[arg-type]


def test_with_block_collects_tasks_and_exposes_them() -> None:
    with DAG("d", start_date=START) as dag:
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
    assert dag.task_ids == ["a", "b"]
    assert dag.tasks == [a, b]
    assert dag.get_task("b") is b
    assert a.dag is dag
    with pytest.raises(KeyError, match="Task c not found"):
        dag.get_task("c")


def test_nested_with_blocks_use_the_innermost_dag() -> None:
    with DAG("outer", start_date=START) as outer:
        with DAG("inner", start_date=START) as inner:
            EmptyOperator(task_id="x")
        EmptyOperator(task_id="y")
    assert inner.task_ids == ["x"]
    assert outer.task_ids == ["y"]


def test_a_duplicate_task_id_fails_with_airflows_message() -> None:
    with DAG("d", start_date=START):
        EmptyOperator(task_id="same")
        with pytest.raises(DuplicateTaskIdFound, match=r"^Task id 'same' has already been added to the DAG$"):
            EmptyOperator(task_id="same")


def test_a_cycle_fails_with_airflows_message_naming_the_faulty_task() -> None:
    with DAG("looping", start_date=START) as dag:
        a, b, c = (EmptyOperator(task_id=t) for t in "abc")
        a >> b >> c >> a
    with pytest.raises(AirflowDagCycleException, match=r"^Cycle detected in DAG: looping\. Faulty task: c$"):
        dag.validate()


def test_a_self_loop_is_a_cycle() -> None:
    with DAG("self", start_date=START) as dag:
        a = EmptyOperator(task_id="a")
        a >> a
    with pytest.raises(AirflowDagCycleException, match="Faulty task: a"):
        dag.check_cycle()


def test_setting_the_same_dependency_twice_is_fine() -> None:
    with DAG("d", start_date=START) as dag:
        a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
        a >> b
        a >> b
        b.set_upstream(a)
    dag.validate()
    assert b.upstream_task_ids == {"a"}


def test_a_diamond_is_not_a_cycle() -> None:
    with DAG("d", start_date=START) as dag:
        a, b, c, d = (EmptyOperator(task_id=t) for t in "abcd")
        a >> [b, c] >> d
    dag.validate()


def test_a_scheduled_dag_needs_a_start_date() -> None:
    with DAG("d", schedule_interval="@daily") as dag:
        EmptyOperator(task_id="a")
    with pytest.raises(AirflowException, match="DAG 'd' has a schedule but no start_date"):
        dag.validate()


def test_a_manual_dag_needs_no_start_date() -> None:
    with DAG("d", schedule_interval=None) as dag:
        EmptyOperator(task_id="a")
    dag.validate()


def test_tasks_start_no_earlier_than_their_dag() -> None:
    with DAG("d", start_date=datetime(2024, 1, 10), end_date=datetime(2024, 2, 1)):
        early = EmptyOperator(task_id="early", start_date=datetime(2024, 1, 1))
        late = EmptyOperator(task_id="late", start_date=datetime(2024, 1, 20), end_date=datetime(2024, 3, 1))
    assert early.start_date == datetime(2024, 1, 10, tzinfo=UTC)
    assert late.start_date == datetime(2024, 1, 20, tzinfo=UTC)
    assert late.end_date == datetime(2024, 2, 1, tzinfo=UTC)


def test_owner_lists_the_task_owners() -> None:
    with DAG("d", start_date=START, default_args={"owner": "couture"}) as dag:
        EmptyOperator(task_id="a")
        EmptyOperator(task_id="b", owner="ops")
        EmptyOperator(task_id="c")
    assert dag.owner == "couture, ops"


def test_to_spec_fills_every_field() -> None:
    def on_failure(context: object) -> None:
        return None

    with DAG(
        "full",
        description="all of it",
        schedule="@daily",
        start_date=datetime(2024, 1, 1),
        end_date=datetime(2024, 12, 31),
        catchup=False,
        max_active_runs=2,
        max_active_tasks=5,
        dagrun_timeout=timedelta(hours=1),
        params={"n": 1, "when": datetime(2024, 1, 1, tzinfo=UTC)},
        tags=["etl"],
        doc_md="# Full",
        is_paused_upon_creation=False,
        on_failure_callback=on_failure,
        default_args={"owner": "couture", "retries": 2, "retry_delay": timedelta(minutes=1)},
    ) as dag:
        first = BashOperator(
            task_id="first",
            bash_command="echo hi",
            execution_timeout=timedelta(minutes=10),
            sla=timedelta(hours=2),
            email="a@example.com",
            pool="small",
            pool_slots=2,
            priority_weight=3,
            weight_rule="absolute",
            queue="q",
            description="says hi",
            doc_md="doc",
            max_retry_delay=timedelta(minutes=30),
            retry_exponential_backoff=True,
            wait_for_downstream=True,
        )
        last = EmptyOperator(task_id="last", trigger_rule="none_failed_or_skipped")
        first >> last
    spec = dag.to_spec("/dags/full.py")
    assert spec.dag_id == "full"
    assert spec.fileloc == "/dags/full.py"
    assert spec.schedule == ScheduleSpec(kind="cron", cron="0 0 * * *", display="@daily")
    assert spec.description == "all of it"
    assert spec.start_date == datetime(2024, 1, 1, tzinfo=UTC)
    assert spec.end_date == datetime(2024, 12, 31, tzinfo=UTC)
    assert (spec.catchup, spec.max_active_runs, spec.max_active_tasks) == (False, 2, 5)
    assert spec.dagrun_timeout == 3600.0
    assert spec.params == {"n": 1, "when": "2024-01-01T00:00:00+00:00"}
    assert spec.tags == ("etl",)
    assert spec.owner == "couture"
    assert spec.is_paused_upon_creation is False
    assert spec.doc_md == "# Full"
    assert (spec.has_on_failure_callback, spec.has_on_success_callback, spec.has_sla_miss_callback) == (
        True,
        False,
        False,
    )
    task = spec.task("first")
    assert task.operator == "BashOperator"
    assert task.upstream == ()
    assert (task.retries, task.retry_delay, task.max_retry_delay) == (2, 60.0, 1800.0)
    assert task.retry_exponential_backoff is True
    assert (task.depends_on_past, task.wait_for_downstream) == (True, True)
    assert (task.execution_timeout, task.sla) == (600.0, 7200.0)
    assert (task.pool, task.pool_slots, task.priority_weight, task.weight_rule) == ("small", 2, 3, "absolute")
    assert task.queue == "q"
    assert task.owner == "couture"
    assert (task.description, task.doc_md) == ("says hi", "doc")
    assert task.start_date == datetime(2024, 1, 1, tzinfo=UTC)
    assert task.end_date == datetime(2024, 12, 31, tzinfo=UTC)
    assert task.is_empty is False
    assert task.template_fields == ("bash_command", "env", "cwd")
    assert task.ui_color == "#f0ede4"
    assert task.email == ("a@example.com",)
    assert task.operator_extra == {"bash_command": "echo hi"}
    last_spec = spec.task("last")
    assert last_spec.upstream == ("first",)
    assert last_spec.trigger_rule == "none_failed_min_one_success"
    assert last_spec.is_empty is True


def test_to_spec_of_a_timedelta_schedule_and_unusual_params() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    dag = DAG("d", schedule_interval=timedelta(hours=6), start_date=START, params={"o": Opaque()})
    spec = dag.to_spec("/dags/d.py")
    assert spec.schedule.kind == "delta"
    assert spec.schedule.delta_seconds == 21600.0
    assert spec.params == {"o": "<opaque>"}


def test_an_empty_operator_with_a_success_callback_goes_to_an_executor() -> None:
    with DAG("d", start_date=START) as dag:
        EmptyOperator(task_id="plain")
        EmptyOperator(task_id="notifies", on_success_callback=print)
    spec = dag.to_spec("/d.py")
    assert spec.task("plain").is_empty is True
    assert spec.task("notifies").is_empty is False
