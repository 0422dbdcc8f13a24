"""A scheduler that owns only some DAGs' run partitions creates scheduled runs only for those DAGs."""

from __future__ import annotations

from couture_common.events import DagRunCreated
from couture_scheduler.domain import decide

from .driver import DAILY, T0, Log, at, dag_spec, of_type, parsed, task


def test_scheduled_runs_are_created_only_for_the_dags_this_scheduler_owns() -> None:
    log = Log()
    for dag_id in ("mine", "theirs"):
        spec = dag_spec(dag_id, task("t"), schedule=DAILY, start_date=T0, catchup=False)
        log.given(*parsed(spec))
    out = decide(log.state, at(days=2, minutes=5), log.policy, owns=lambda dag_id: dag_id == "mine")
    assert [e.dag_id for e in of_type(out, DagRunCreated)] == ["mine"]


def test_the_unowned_dag_is_still_due_when_ownership_moves_here() -> None:
    log = Log()
    log.given(*parsed(dag_spec("theirs", task("t"), schedule=DAILY, start_date=T0, catchup=False)))
    assert decide(log.state, at(days=2, minutes=5), log.policy, owns=lambda _dag_id: False) == []
    out = decide(log.state, at(days=2, minutes=6), log.policy)
    assert [e.dag_id for e in of_type(out, DagRunCreated)] == ["theirs"]
