"""Operator arguments, default_args and dependencies, as a DAG file sets them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from couture_sdk.baseoperator import chain, cross_downstream
from couture_sdk.dag import DAG
from couture_sdk.exceptions import AirflowException
from couture_sdk.operators import BashOperator, EmptyOperator, PythonOperator
from couture_sdk.trigger_rule import TriggerRule

START = datetime(2024, 1, 1)


def test_default_args_fill_arguments_not_given() -> None:
    default_args = {
        "owner": "couture",
        "retries": 1,
        "retry_delay": timedelta(minutes=5),
        "bash_command": "echo d",
    }
    with DAG("d", start_date=START, default_args=default_args):
        task = BashOperator(task_id="t", retries=3)  # type: ignore[call-arg]
    assert (task.owner, task.retries, task.retry_delay) == ("couture", 3, timedelta(minutes=5))
    assert task.bash_command == "echo d"


def test_task_default_args_override_the_dags() -> None:
    with DAG("d", start_date=START, default_args={"owner": "dag", "queue": "dq"}):
        task = EmptyOperator(task_id="t", default_args={"owner": "task"})
    assert (task.owner, task.queue) == ("task", "dq")


def test_default_args_keys_an_operator_does_not_take_are_ignored() -> None:
    with DAG("d", start_date=START, default_args={"provide_context": True, "email": ["x@example.com"]}):
        task = BashOperator(task_id="t", bash_command="echo")
    assert task.email == ("x@example.com",)


def test_task_params_are_merged_over_dag_params() -> None:
    with DAG("d", start_date=START, params={"a": 1, "b": 1}):
        task = EmptyOperator(task_id="t", params={"b": 2})
    assert task.params == {"a": 1, "b": 2}


def test_unknown_arguments_are_refused_with_airflows_message() -> None:
    with DAG("d", start_date=START), pytest.raises(AirflowException) as raised:
        BashOperator(task_id="t", bash_command="echo", bash_comand="typo")
    assert str(raised.value).startswith("Invalid arguments were passed to BashOperator (task_id: t).")
    assert "'bash_comand': 'typo'" in str(raised.value)


def test_a_missing_required_argument_is_named() -> None:
    with (
        DAG("d", start_date=START),
        pytest.raises(AirflowException, match=r"missing required argument.*bash_command"),
    ):
        BashOperator(task_id="t")  # type: ignore[call-arg]


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(AirflowException, match="Use keyword arguments"):
        EmptyOperator("t")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"retries": -1}, ValueError, "retries of task 't' must be >= 0"),
        ({"retries": "3"}, TypeError, "retries of task 't' must be int"),
        ({"retry_delay": "5m"}, TypeError, "retry_delay of task 't' must be a timedelta or seconds"),
        (
            {"execution_timeout": timedelta(seconds=-1)},
            ValueError,
            "execution_timeout of task 't' must not be",
        ),
        ({"pool_slots": 0}, ValueError, "pool_slots of task 't' must be >= 1"),
        ({"weight_rule": "sideways"}, ValueError, "weight_rule of task 't' must be one of"),
        (
            {"trigger_rule": "most_success"},
            ValueError,
            "trigger_rule 'most_success' is not a valid trigger rule",
        ),
        ({"trigger_rule": 3}, TypeError, "trigger_rule must be a string"),
        ({"depends_on_past": "yes"}, TypeError, "depends_on_past of task 't' must be bool"),
        ({"on_failure_callback": 5}, TypeError, "on_failure_callback of task 't' must be callable"),
        ({"start_date": "2024"}, TypeError, "start_date of task 't' must be a datetime"),
        ({"task_id": "bad id"}, ValueError, r"task_id must be 1 to 250 characters .*, got 'bad id'"),
        ({"pool": "no spaces allowed"}, ValueError, r"pool of task 't' must be .*, got 'no spaces allowed'"),
        ({"email": 5}, TypeError, "email of task 't' must be a string or a list of strings"),
    ],
)
def test_bad_arguments_name_the_argument(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    arguments: dict[str, object] = {"task_id": "t", **kwargs}
    with DAG("d", start_date=START), pytest.raises(error, match=message):
        EmptyOperator(**arguments)  # type: ignore[arg-type]


def test_retry_delay_in_seconds_is_accepted_like_airflow() -> None:
    assert EmptyOperator(task_id="t", retry_delay=30).retry_delay == timedelta(seconds=30)


def test_wait_for_downstream_implies_depends_on_past() -> None:
    assert EmptyOperator(task_id="t", wait_for_downstream=True).depends_on_past is True


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("none_failed_or_skipped", "none_failed_min_one_success"),
        ("dummy", "always"),
        (TriggerRule.ONE_FAILED, "one_failed"),
        (TriggerRule.DUMMY, "always"),
        ("all_skipped", "all_skipped"),
    ],
)
def test_trigger_rule_aliases_are_stored_by_their_current_name(given: str, stored: str) -> None:
    assert EmptyOperator(task_id="t", trigger_rule=given).trigger_rule == stored


def test_bitshift_and_set_methods_build_the_same_graph() -> None:
    with DAG("d", start_date=START):
        t1, t2, t3 = (EmptyOperator(task_id=f"t{i}") for i in (1, 2, 3))
        assert (t1 >> t2) is t2
        assert (t3 << t2) is t2
    assert t1.downstream_task_ids == {"t2"}
    assert t2.upstream_task_ids == {"t1"}
    assert t3.upstream_task_ids == {"t2"}


def test_lists_on_either_side_of_a_bitshift() -> None:
    with DAG("d", start_date=START):
        a, b, c, d = (EmptyOperator(task_id=t) for t in "abcd")
        assert ([a, b] >> c) is c
        assert ([a, b] << d) is d
        a.set_downstream([c, d])
    assert c.upstream_task_ids == {"a", "b"}
    assert a.upstream_task_ids == {"d"}
    assert a.downstream_task_ids == {"c", "d"}


def test_a_task_created_without_a_dag_joins_when_linked() -> None:
    dag = DAG("d", start_date=START)
    inside = EmptyOperator(task_id="inside", dag=dag)
    outside = EmptyOperator(task_id="outside")
    inside >> outside
    assert dag.task_ids == ["inside", "outside"]
    assert outside.dag is dag


def test_assigning_dag_later_adds_the_task() -> None:
    dag = DAG("d", start_date=START)
    task = EmptyOperator(task_id="t")
    task.dag = dag
    assert dag.get_task("t") is task


def test_linking_tasks_without_any_dag_is_an_error() -> None:
    a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
    with pytest.raises(AirflowException, match="don't have DAGs yet"):
        a >> b


def test_linking_tasks_of_two_dags_is_an_error() -> None:
    a = EmptyOperator(task_id="a", dag=DAG("one", start_date=START))
    b = EmptyOperator(task_id="b", dag=DAG("two", start_date=START))
    with pytest.raises(AirflowException, match=r"more than one DAG: \['one', 'two'\]"):
        a >> b


def test_linking_to_something_that_is_not_a_task_is_an_error() -> None:
    with DAG("d", start_date=START):
        a = EmptyOperator(task_id="a")
        with pytest.raises(
            AirflowException, match="Relationships can only be set between Operators; received str"
        ):
            a >> "b"


def test_a_task_without_a_dag_says_so() -> None:
    with pytest.raises(AirflowException, match="has not been assigned to a DAG yet"):
        _ = EmptyOperator(task_id="a").dag


def test_chain_and_cross_downstream() -> None:
    with DAG("d", start_date=START):
        a, b, c, d, e = (EmptyOperator(task_id=t) for t in "abcde")
        chain(a, [b, c], d)
        cross_downstream([a, b], [e])
    assert d.upstream_task_ids == {"b", "c"}
    assert b.upstream_task_ids == {"a"}
    assert e.upstream_task_ids == {"a", "b"}


def test_python_callable_must_be_callable() -> None:
    with pytest.raises(TypeError, match="python_callable of task 't' must be callable, got str"):
        PythonOperator(task_id="t", python_callable="print")  # type: ignore[arg-type]


def test_bash_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="bash_command of task 't' must be str"):
        BashOperator(task_id="t", bash_command=["echo"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bash_command of task 't' must not be empty"):
        BashOperator(task_id="t", bash_command="  ")
    with pytest.raises(TypeError, match="skip_on_exit_code of task 't'"):
        BashOperator(task_id="t", bash_command="echo", skip_on_exit_code="99")  # type: ignore[arg-type]


def test_a_custom_operator_naming_its_arguments_without_kwargs() -> None:
    class Named(EmptyOperator):
        def __init__(self, task_id: str, size: int = 1) -> None:
            super().__init__(task_id=task_id)
            self.size = size

    with DAG("d", start_date=START, default_args={"size": 3, "owner": "couture"}):
        task = Named(task_id="t")
    assert (task.size, task.owner, task.dag_id) == (3, "couture", "d")
