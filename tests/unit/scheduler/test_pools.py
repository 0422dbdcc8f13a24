"""Pool slots across schedulers: the owner of a try asks, the pool's arbiter grants, the owner gives back.

Given the log so far, when a scheduler decides (as owner of some DAGs, arbiter of some pools), then
these events come out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import pytest

from couture_common.events import (
    DagPausedSet,
    DagRunDeleted,
    DagRunStateSet,
    Event,
    ExecuteTask,
    PoolSet,
    PoolSlotsGranted,
    PoolSlotsReleased,
    PoolSlotsRequested,
    TaskInstancesCleared,
    TaskInstanceStateSet,
)
from couture_scheduler.domain import SchedulerPolicy, SchedulerState, apply, decide

from .driver import T0, Log, at, dag_spec, finished, of_type, parsed, started, task, trigger


def _nobody(_name: str) -> bool:
    return False


def _only_p(dag_id: str) -> bool:
    return dag_id == "p"


def decide_as(
    log: Log,
    now: datetime,
    *,
    owns: Callable[[str], bool] | None = None,
    arbitrates: Callable[[str], bool] | None = None,
) -> list[Event]:
    """A scheduler owning/arbitrating what it is told decides and folds its answers until idle."""
    everything: list[Event] = []
    for _ in range(20):
        out = decide(log.state, now, SchedulerPolicy(), owns=owns, arbitrates=arbitrates)
        if not out:
            return everything
        log.append(out, now)
        everything += out
    raise AssertionError(f"decide kept emitting: {everything[-5:]}")


def slot_traffic(events: Sequence[Event]) -> list[tuple[str, str, int]]:
    return [
        (e.TYPE.removeprefix("pool.slots_"), e.task_id, e.try_number)
        for e in events
        if isinstance(e, (PoolSlotsRequested, PoolSlotsGranted, PoolSlotsReleased))
    ]


def request(
    task_id: str, *, priority: int = 1, minutes: float = 0, dag_id: str = "elsewhere"
) -> PoolSlotsRequested:
    """A request from another scheduler's DAG (this one knows nothing of that DAG's runs)."""
    return PoolSlotsRequested(
        pool="db",
        dag_id=dag_id,
        run_id="manual_1",
        task_id=task_id,
        try_number=1,
        priority_weight=priority,
        logical_date=at(minutes),
    )


def one_slot_dag(log: Log, *task_ids: str, slots: int = 1) -> None:
    log.given(PoolSet(name="db", slots=slots))
    spec = dag_spec("p", *(task(t, pool="db") for t in task_ids))
    log.given(*parsed(spec), trigger("p"))


def test_alone_a_scheduler_asks_grants_and_queues_in_one_answer() -> None:
    log = Log()
    one_slot_dag(log, "a")
    out = log.settle(T0)
    assert [e.TYPE for e in out[-5:]] == [
        "ti.scheduled",
        "pool.slots_requested",
        "pool.slots_granted",
        "ti.queued",
        "queue.execute_task",
    ]
    assert log.state.granted["db"] == 1


def test_the_arbiter_grants_in_airflows_priority_order_while_slots_are_free() -> None:
    log = Log()
    log.given(PoolSet(name="db", slots=2))
    log.given(
        request("low", priority=1),
        request("late", priority=5, minutes=10),
        request("early", priority=5, minutes=1),
        request("high", priority=9, minutes=20),
    )
    out = decide_as(log, at(30), owns=_nobody)
    # Not the owner of these tries: it grants, their owner queues them.
    assert slot_traffic(out) == [("granted", "high", 1), ("granted", "early", 1)]
    assert of_type(out, ExecuteTask) == []
    assert decide_as(log, at(30), owns=_nobody) == []

    log.given(
        PoolSlotsReleased(
            pool="db", dag_id="elsewhere", run_id="manual_1", task_id="high", try_number=1, reason="done"
        )
    )
    assert slot_traffic(decide_as(log, at(31), owns=_nobody)) == [("granted", "late", 1)]


def test_a_request_bigger_than_the_free_slots_lets_a_smaller_one_pass() -> None:
    log = Log()
    log.given(PoolSet(name="db", slots=2))
    big = request("big", priority=9)
    log.given(PoolSlotsRequested(**{**_fields(big), "slots": 3}), request("small"))
    assert slot_traffic(decide_as(log, at(1), owns=_nobody)) == [("granted", "small", 1)]


def test_a_scheduler_that_does_not_arbitrate_the_pool_asks_and_queues_on_the_grant() -> None:
    log = Log()
    one_slot_dag(log, "a")
    out = decide_as(log, T0, arbitrates=_nobody)
    assert slot_traffic(out) == [("requested", "a", 1)]
    assert of_type(out, ExecuteTask) == []

    # The arbiter (another scheduler) grants.
    log.given(PoolSlotsGranted(pool="db", dag_id="p", run_id="manual_1", task_id="a", try_number=1))
    out = decide_as(log, T0, arbitrates=_nobody)
    assert [e.TYPE for e in out] == ["ti.queued", "queue.execute_task"]
    assert log.ti_state("p", "manual_1", "a") == "queued"
    assert decide_as(log, T0, arbitrates=_nobody) == []


def test_an_arbiter_that_is_not_the_owner_never_queues() -> None:
    log = Log()
    one_slot_dag(log, "a")
    # Owner without the pool, then the arbiter's view of the same log but not owning DAG p.
    decide_as(log, T0, arbitrates=_nobody)
    out = decide_as(log, T0, owns=_nobody)
    assert slot_traffic(out) == [("granted", "a", 1)]
    assert of_type(out, ExecuteTask) == []


def test_the_arbiter_never_grants_more_than_the_pools_slots_across_owners() -> None:
    log = Log()
    one_slot_dag(log, "a", "b")
    log.given(request("x", priority=100))
    out = decide_as(log, T0, owns=_only_p)
    # The other owner's x goes first (its priority); a and b wait for the one slot.
    assert sorted(slot_traffic(out)) == [("granted", "x", 1), ("requested", "a", 1), ("requested", "b", 1)]
    assert of_type(out, ExecuteTask) == []
    log.given(
        PoolSlotsReleased(
            pool="db", dag_id="elsewhere", run_id="manual_1", task_id="x", try_number=1, reason="done"
        )
    )
    out = decide_as(log, at(1), owns=_only_p)
    assert slot_traffic(out) == [("granted", "a", 1)]
    assert [e.task_id for e in of_type(out, ExecuteTask)] == ["a"]


def test_a_new_arbiter_replaying_the_pool_topic_knows_the_grants_outstanding() -> None:
    log = Log()
    one_slot_dag(log, "a")
    log.settle(T0)
    log.given(request("x"))
    # A scheduler owning no DAG but arbitrating db, rebuilt from the log.
    replayed = SchedulerState()
    for record in log.records:
        apply(replayed, record)
    assert decide(replayed, at(1), owns=_nobody) == []


def test_a_redelivered_request_or_grant_counts_once() -> None:
    log = Log()
    log.given(PoolSet(name="db", slots=2))
    log.given(request("x"), request("x"))
    assert slot_traffic(decide_as(log, at(1), owns=_nobody)) == [("granted", "x", 1)]
    log.given(PoolSlotsGranted(pool="db", dag_id="elsewhere", run_id="manual_1", task_id="x", try_number=1))
    assert log.state.granted["db"] == 1


def test_max_active_tasks_counts_tries_waiting_for_slots() -> None:
    log = Log()
    log.given(PoolSet(name="db", slots=5))
    spec = dag_spec("p", *(task(t, pool="db") for t in "abc"), max_active_tasks=2)
    log.given(*parsed(spec), trigger("p"))
    out = decide_as(log, T0, arbitrates=_nobody)
    assert slot_traffic(out) == [("requested", "a", 1), ("requested", "b", 1)]


# release paths: the try leaves queued/running, its owner gives the slots back


def _queued_a(log: Log) -> ExecuteTask:
    one_slot_dag(log, "a", "b")
    return of_type(log.settle(T0), ExecuteTask)[0]


RELEASES: dict[str, Callable[[ExecuteTask], list[Event]]] = {
    "result": lambda cmd: [started(cmd, at(1)), finished(cmd, "success", at(2))],
    "cleared": lambda cmd: [TaskInstancesCleared(dag_id="p", run_id="manual_1", task_ids=("a",))],
    "marked": lambda cmd: [TaskInstanceStateSet(dag_id="p", run_id="manual_1", task_id="a", state="failed")],
    "run marked": lambda cmd: [DagRunStateSet(dag_id="p", run_id="manual_1", state="failed")],
    "run deleted": lambda cmd: [DagRunDeleted(dag_id="p", run_id="manual_1")],
}


@pytest.mark.parametrize("how", sorted(RELEASES))
def test_a_try_leaving_queued_or_running_gives_its_slot_to_the_next(how: str) -> None:
    log = Log()
    cmd = _queued_a(log)
    assert cmd.task_id == "a"
    log.given(*RELEASES[how](cmd), time=at(2))
    out = log.settle(at(2))
    released = {(e.task_id, e.try_number) for e in out if isinstance(e, PoolSlotsReleased)}
    if how in ("run deleted", "run marked"):
        # b's request is withdrawn with its run.
        assert released == {("a", 1), ("b", 1)}
        assert log.state.claims == {}
    else:
        assert released == {("a", 1)}
        # The next waiting try gets the slot in the same answer: a's second try after a clear
        # (same priority, task id first), else b.
        after = ("a", 2) if how == "cleared" else ("b", 1)
        assert ("granted", *after) in slot_traffic(out)
    assert log.state.granted["db"] == sum(1 for c in log.state.claims.values() if c.granted) <= 1


def test_a_zombie_gives_its_slot_back() -> None:
    log = Log(SchedulerPolicy(zombie_threshold=60))
    cmd = _queued_a(log)
    log.given(started(cmd, at(1)), time=at(1))
    out = log.settle(at(5))
    assert ("released", "a", 1) in slot_traffic(out)
    assert ("granted", "b", 1) in slot_traffic(out)


def test_a_grant_for_a_try_that_moved_on_is_released() -> None:
    log = Log()
    one_slot_dag(log, "a")
    decide_as(log, T0, arbitrates=_nobody)
    log.given(TaskInstanceStateSet(dag_id="p", run_id="manual_1", task_id="a", state="skipped"))
    # The request is withdrawn at once; a grant landing after it for the same try is stale too.
    out = decide_as(log, at(1), arbitrates=_nobody)
    assert slot_traffic(out) == [("released", "a", 1)]
    log.given(PoolSlotsGranted(pool="db", dag_id="p", run_id="manual_1", task_id="a", try_number=1))
    assert decide_as(log, at(1), arbitrates=_nobody) == []
    assert log.state.granted.get("db", 0) == 0


def test_a_grant_reaching_a_paused_run_is_given_back_and_asked_again_on_unpause() -> None:
    log = Log()
    one_slot_dag(log, "a")
    decide_as(log, T0, arbitrates=_nobody)
    log.given(DagPausedSet(dag_id="p", is_paused=True))
    log.given(PoolSlotsGranted(pool="db", dag_id="p", run_id="manual_1", task_id="a", try_number=1))
    assert slot_traffic(decide_as(log, at(1), arbitrates=_nobody)) == [("released", "a", 1)]
    assert decide_as(log, at(1), arbitrates=_nobody) == []
    log.given(DagPausedSet(dag_id="p", is_paused=False))
    assert slot_traffic(decide_as(log, at(2), arbitrates=_nobody)) == [("requested", "a", 1)]


def _fields(e: PoolSlotsRequested) -> dict[str, object]:
    return {f: getattr(e, f) for f in e.__struct_fields__}


def test_alone_the_slot_a_finished_try_gives_back_goes_to_the_next_in_the_same_answer() -> None:
    log = Log()
    cmd = _queued_a(log)
    log.given(started(cmd, at(1)), finished(cmd, "success", at(2)), time=at(2))
    out = decide_as(log, at(2))
    assert [e.TYPE for e in out] == [
        "pool.slots_released",
        "pool.slots_granted",
        "ti.queued",
        "queue.execute_task",
    ]
    assert slot_traffic(out) == [("released", "a", 1), ("granted", "b", 1)]
    assert log.state.granted["db"] == 1


def test_a_request_replayed_after_its_try_ended_is_withdrawn_by_its_owner() -> None:
    log = Log()
    one_slot_dag(log, "a")
    decide_as(log, T0, arbitrates=_nobody)
    log.given(TaskInstanceStateSet(dag_id="p", run_id="manual_1", task_id="a", state="success"))
    # A new owner replays the run topic before the pool topic: the try is over when its request comes.
    replayed = SchedulerState()
    for record in sorted(log.records, key=lambda r: r.topic == "pool"):
        apply(replayed, record)
    out = decide(replayed, at(1), arbitrates=_nobody)
    assert slot_traffic(out) == [("released", "a", 1)]
