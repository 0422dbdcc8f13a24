"""Given a parsed DAG, what the scheduler derives from it, and which specs it refuses."""

from __future__ import annotations

import pytest

from couture_common.dagspec import TaskSpec
from couture_scheduler.domain.plan import build_plan

from .driver import Log, dag_spec, parsed, task


def test_order_puts_every_task_after_its_upstream() -> None:
    plan = build_plan(dag_spec("d", task("c", "b"), task("b", "a"), task("a"), task("z", "a")))
    assert plan.order.index("a") < plan.order.index("b") < plan.order.index("c")
    assert plan.leaves == {"c", "z"}


def test_weight_rules_follow_airflow() -> None:
    plan = build_plan(
        dag_spec(
            "w",
            task("a", priority_weight=1),
            task("b", "a", priority_weight=2),
            task("c", "b", priority_weight=4, weight_rule="upstream"),
            task("d", "b", priority_weight=8, weight_rule="absolute"),
        )
    )
    assert plan.priority == {"a": 15, "b": 14, "c": 7, "d": 8}


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ((task("a", "b"), task("b", "a")), "Cycle detected in DAG: bad. Faulty task: a"),
        ((task("a", "ghost"),), "task 'a': upstream 'ghost' is not a task of 'bad'"),
        ((task("a", trigger_rule="sometimes"),), "task 'a': trigger_rule 'sometimes' is unknown"),
        ((task("a", weight_rule="sideways"),), "task 'a': weight_rule 'sideways' is unknown"),
    ],
)
def test_an_unplannable_spec_is_refused_naming_the_fault(tasks: tuple[TaskSpec, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_plan(dag_spec("bad", *tasks))


def test_an_unplannable_version_is_ignored_and_the_last_good_one_kept() -> None:
    log = Log()
    log.given(*parsed(dag_spec("d", task("a"))))
    log.given(*parsed(dag_spec("d", task("a", "a")), version="v2", paused=True))
    assert (log.state.dags["d"].version, log.state.ignored) == ("v1", 1)
