"""Given these events, when decide(now) runs, then these events: the scheduler's behaviour."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from couture_common.dagspec import DagSpec, ScheduleSpec
from couture_common.events import (
    DagFileProcessed,
    DagPausedSet,
    DagRunCreated,
    DagRunDeleted,
    DagRunFinished,
    DagRunRejected,
    DagRunStarted,
    DagRunStateSet,
    Event,
    ExecuteTask,
    KillTask,
    PoolSet,
    SlaMissed,
    TaskHeartbeat,
    TaskInstanceFinished,
    TaskInstanceQueued,
    TaskInstancesCleared,
    TaskInstanceStateDecided,
    TaskInstanceStateSet,
    encode_payload,
)
from couture_scheduler.domain import SchedulerPolicy, apply
from couture_scheduler.domain.retry import retry_delay_seconds

from .driver import (
    DAILY,
    T0,
    Executor,
    Log,
    at,
    dag_spec,
    finished,
    of_type,
    of_types,
    parsed,
    started,
    summary,
    task,
    trigger,
)


def executes(events: Sequence[Event]) -> list[str]:
    return [e.task_id for e in events if isinstance(e, ExecuteTask)]


def run_manually(log: Log, spec: DagSpec, run_id: str = "manual_1", when: datetime = T0) -> list[Event]:
    log.given(*parsed(spec), trigger(spec.dag_id, run_id, when))
    return log.settle(when)


# runs


def test_a_trigger_creates_starts_and_queues_the_root_tasks() -> None:
    log = Log()
    out = run_manually(log, dag_spec("etl", task("extract"), task("load", "extract")))
    assert summary(out) == [
        ("run.created", "manual_1"),
        ("run.started", "manual_1"),
        ("ti.scheduled", "extract", "1"),
        ("ti.queued", "extract", "1"),
        ("queue.execute_task", "extract", "1"),
    ]
    cmd = of_type(out, ExecuteTask)[0]
    assert isinstance(cmd, ExecuteTask)
    assert (cmd.dag_version, cmd.fileloc, cmd.run_type, cmd.logical_date) == (
        "v1",
        "/dags/etl.py",
        "manual",
        T0,
    )


def test_the_execute_command_names_the_run_log_position_already_folded() -> None:
    log = Log()
    out = run_manually(log, dag_spec("etl", task("extract")))
    cmd = of_type(out, ExecuteTask)[0]
    assert isinstance(cmd, ExecuteTask)
    # decide saw the run topic up to run.started; its own ti.scheduled / ti.queued come after.
    started_record = next(r for r in log.records if isinstance(r.envelope.payload, DagRunStarted))
    assert (cmd.run_log_partition, cmd.run_log_offset) == (started_record.partition, started_record.offset)


def test_triggers_are_validated_like_airflow() -> None:
    log = Log()
    spec = dag_spec("etl", task("a"))
    log.given(*parsed(spec), trigger("etl", "r1", at(0)))
    log.settle(at(0))
    log.given(trigger("etl", "r1", at(5)), trigger("etl", "r2", at(0)), trigger("nope", "r3", at(0)))
    out = log.decide(at(1))
    reasons = sorted(e.reason for e in of_type(out, DagRunRejected))
    assert reasons == [
        "DAG with dag_id: 'nope' not found",
        "DAGRun with DAG ID: 'etl' and DAGRun ID: 'r1' already exists",
        "DAGRun with DAG ID: 'etl' and DAGRun logical date: '2024-01-01T00:00:00+00:00' already exists",
    ]
    assert log.decide(at(2)) == []


def test_a_manual_run_of_a_paused_dag_waits_queued_until_unpaused() -> None:
    log = Log()
    log.given(*parsed(dag_spec("etl", task("a")), paused=True), trigger("etl"))
    assert summary(log.settle(at(0))) == [("run.created", "manual_1")]
    log.given(DagPausedSet(dag_id="etl", is_paused=False))
    assert summary(log.settle(at(1)))[0] == ("run.started", "manual_1")


def test_a_test_run_proceeds_while_its_dag_stays_paused() -> None:
    log = Log()
    log.given(*parsed(dag_spec("etl", task("a")), paused=True), trigger("etl", ignore_paused=True))
    assert executes(log.settle(at(0))) == ["a"]


def test_dags_are_paused_at_creation_unless_told_otherwise() -> None:
    log = Log()
    log.given(*parsed(dag_spec("a", task("t"), schedule=DAILY, start_date=T0), paused=True))
    log.given(
        *parsed(
            dag_spec("b", task("t"), schedule=DAILY, start_date=T0, is_paused_upon_creation=False),
            paused=True,
        )
    )
    out = log.settle(at(days=1))
    assert [e.dag_id for e in of_type(out, DagRunCreated)] == ["b"]


def test_catchup_creates_missed_intervals_up_to_max_active_runs() -> None:
    log = Log()
    spec = dag_spec("daily", task("a"), schedule=DAILY, start_date=T0, max_active_runs=2)
    log.given(*parsed(spec))
    out = log.decide(at(days=5, minutes=30))
    created = of_type(out, DagRunCreated)
    assert [(e.run_id, e.data_interval_end) for e in created] == [
        ("scheduled__2024-01-01T00:00:00+00:00", at(days=1)),
        ("scheduled__2024-01-02T00:00:00+00:00", at(days=2)),
    ]
    out = log.decide(at(days=5, minutes=30))
    assert summary(of_type(out, DagRunStarted)) == [
        ("run.started", "scheduled__2024-01-01T00:00:00+00:00"),
        ("run.started", "scheduled__2024-01-02T00:00:00+00:00"),
    ]
    assert of_type(out, DagRunCreated) == []


def test_without_catchup_only_the_latest_interval_is_created() -> None:
    log = Log()
    log.given(*parsed(dag_spec("daily", task("a"), schedule=DAILY, start_date=T0, catchup=False)))
    out = log.settle(at(days=5, minutes=30))
    assert [e.run_id for e in of_type(out, DagRunCreated)] == ["scheduled__2024-01-05T00:00:00+00:00"]
    assert log.settle(at(days=5, minutes=40)) == []


def test_queued_runs_start_in_logical_date_order_as_max_active_runs_frees() -> None:
    log = Log()
    spec = dag_spec("etl", task("a"), max_active_runs=1)
    log.given(*parsed(spec), trigger("etl", "late", at(60)), trigger("etl", "early", at(30)))
    out = log.settle(at(0))
    assert summary(of_type(out, DagRunStarted)) == [("run.started", "early")]
    cmd = of_type(out, ExecuteTask)[0]
    log.given(started(cmd, at(1)), finished(cmd, "success", at(2)), time=at(2))
    out = log.settle(at(2))
    assert summary(of_types(out, DagRunFinished, DagRunStarted)) == [
        ("run.finished", "early", "success"),
        ("run.started", "late"),
    ]


# task decisions


def test_failure_propagates_upstream_failed_down_a_chain_and_fails_the_run() -> None:
    log = Log()
    out = run_manually(log, dag_spec("etl", task("a"), task("b", "a"), task("c", "b"), task("d", "c")))
    cmd = of_type(out, ExecuteTask)[0]
    log.given(started(cmd, at(1)), finished(cmd, "failed", at(2)), time=at(2))
    assert summary(log.settle(at(2))) == [
        ("ti.state_decided", "b", "upstream_failed"),
        ("ti.state_decided", "c", "upstream_failed"),
        ("ti.state_decided", "d", "upstream_failed"),
        ("run.finished", "manual_1", "failed"),
    ]


def test_a_branch_skips_the_unchosen_path_and_the_join_still_runs() -> None:
    log = Log()
    spec = dag_spec(
        "branchy",
        task("choose", operator="BranchPythonOperator"),
        task("left", "choose"),
        task("right", "choose"),
        task("after_right", "right"),
        task("join", "left", "after_right", trigger_rule="none_failed_min_one_success"),
    )
    out = run_manually(log, spec)
    cmd = of_type(out, ExecuteTask)[0]
    log.given(started(cmd, at(1)), finished(cmd, "success", at(2), skip_downstream=("right",)), time=at(2))
    out = log.settle(at(2))
    assert ("ti.state_decided", "right", "skipped") in summary(out)
    assert ("ti.state_decided", "after_right", "skipped") in summary(out)
    assert executes(out) == ["left"]
    left = of_type(out, ExecuteTask)[0]
    log.given(started(left, at(3)), finished(left, "success", at(4)), time=at(4))
    assert executes(log.settle(at(4))) == ["join"]


def test_a_short_circuit_skips_every_descendant_regardless_of_trigger_rules() -> None:
    log = Log()
    spec = dag_spec(
        "short",
        task("check", operator="ShortCircuitOperator"),
        task("a", "check"),
        task("b", "a", trigger_rule="all_done"),
        task("c", "b", trigger_rule="none_failed"),
    )
    out = run_manually(log, spec)
    cmd = of_type(out, ExecuteTask)[0]
    log.given(started(cmd, at(1)), finished(cmd, "success", at(2), skip_all_descendants=True), time=at(2))
    assert summary(log.settle(at(2))) == [
        ("ti.state_decided", "a", "skipped"),
        ("ti.state_decided", "b", "skipped"),
        ("ti.state_decided", "c", "skipped"),
        ("run.finished", "manual_1", "success"),
    ]


def test_empty_operators_succeed_without_an_executor() -> None:
    log = Log()
    out = run_manually(log, dag_spec("e", task("start", is_empty=True), task("end", "start", is_empty=True)))
    assert summary(out)[2:] == [
        ("ti.state_decided", "start", "success"),
        ("ti.state_decided", "end", "success"),
        ("run.finished", "manual_1", "success"),
    ]


# retries


def test_a_failed_try_with_retries_left_runs_again_after_retry_delay() -> None:
    log = Log()
    out = run_manually(log, dag_spec("r", task("flaky", retries=2, retry_delay=600)))
    cmd = of_type(out, ExecuteTask)[0]
    assert isinstance(cmd, ExecuteTask) and cmd.max_tries == 2
    log.given(started(cmd, at(1)), finished(cmd, "up_for_retry", at(2)), time=at(2))
    # The failed try gives its slot back at once; nothing else happens before the retry delay.
    assert [e.TYPE for e in log.settle(at(11))] == ["pool.slots_released"]
    out = log.settle(at(12))
    assert summary(out) == [
        ("ti.scheduled", "flaky", "2"),
        ("ti.queued", "flaky", "2"),
        ("queue.execute_task", "flaky", "2"),
    ]


def test_exponential_backoff_doubles_per_try_within_airflows_jitter_and_cap() -> None:
    flaky = task("flaky", retries=5, retry_delay=60, retry_exponential_backoff=True, max_retry_delay=1000)
    delays = [retry_delay_seconds(flaky, dag_id="r", logical_date=T0, try_number=n) for n in (1, 2, 3, 4, 5)]
    for n, delay in zip((1, 2, 3), delays, strict=False):
        assert 60 * 2 ** (n - 1) <= delay < 60 * 2**n
    assert delays[4] == 1000
    assert delays == [
        retry_delay_seconds(flaky, dag_id="r", logical_date=T0, try_number=n) for n in (1, 2, 3, 4, 5)
    ]


def test_without_backoff_the_delay_stays_fixed() -> None:
    flaky = task("flaky", retries=5, retry_delay=45)
    assert {retry_delay_seconds(flaky, dag_id="r", logical_date=T0, try_number=n) for n in (1, 2, 3)} == {45}


# pools and concurrency


def test_pool_slots_limit_queueing_and_higher_priority_goes_first() -> None:
    log = Log()
    log.given(PoolSet(name="db", slots=3))
    spec = dag_spec(
        "p",
        task("low", pool="db", pool_slots=2, priority_weight=1),
        task("high", pool="db", pool_slots=2, priority_weight=10),
        task("mid", pool="db", priority_weight=5),
    )
    out = run_manually(log, spec)
    assert executes(out) == ["high", "mid"]
    assert log.state.pool_used["db"] == 3
    high = of_type(out, ExecuteTask)[0]
    log.given(started(high, at(1)), finished(high, "success", at(2)), time=at(2))
    assert executes(log.settle(at(2))) == ["low"]


def test_weight_rule_downstream_sums_descendant_weights() -> None:
    log = Log()
    spec = dag_spec("w", task("root_a"), task("root_b"), task("child", "root_b"), max_active_tasks=1)
    out = run_manually(log, spec)
    queued = of_type(out, TaskInstanceQueued)
    assert [(e.task_id, e.priority_weight) for e in queued] == [("root_b", 2)]


def test_max_active_tasks_caps_concurrency_across_runs_of_a_dag() -> None:
    log = Log()
    spec = dag_spec("m", task("a"), task("b"), task("c"), max_active_tasks=2)
    out = run_manually(log, spec)
    assert len(executes(out)) == 2
    log.given(trigger("m", "second", at(5)))
    assert executes(log.settle(at(1))) == []


# depends_on_past


def test_depends_on_past_waits_for_the_previous_run_and_the_first_run_passes() -> None:
    log = Log()
    spec = dag_spec("dp", task("t", depends_on_past=True))
    log.given(*parsed(spec), trigger("dp", "first", at(0)), trigger("dp", "second", at(60)))
    out = log.settle(at(0))
    assert [(e.run_id, e.task_id) for e in of_type(out, ExecuteTask)] == [("first", "t")]
    cmd = of_type(out, ExecuteTask)[0]
    log.given(started(cmd, at(1)), finished(cmd, "success", at(2)), time=at(2))
    out = log.settle(at(2))
    assert [(e.run_id, e.task_id) for e in of_type(out, ExecuteTask)] == [("second", "t")]


def test_depends_on_past_after_a_failure_ends_the_next_run_as_deadlocked() -> None:
    log = Log()
    spec = dag_spec("dp", task("t", depends_on_past=True))
    log.given(*parsed(spec), trigger("dp", "first", at(0)), trigger("dp", "second", at(60)))
    cmd = of_type(log.settle(at(0)), ExecuteTask)[0]
    log.given(started(cmd, at(1)), finished(cmd, "failed", at(2)), time=at(2))
    finished_runs = of_type(log.settle(at(2)), DagRunFinished)
    assert [(e.run_id, e.state) for e in finished_runs] == [("first", "failed"), ("second", "failed")]
    assert "deadlock" in (finished_runs[1].reason or "")


def test_wait_for_downstream_also_needs_the_previous_runs_direct_downstream() -> None:
    log = Log()
    spec = dag_spec("wd", task("t", wait_for_downstream=True), task("after", "t"))
    log.given(*parsed(spec), trigger("wd", "first", at(0)), trigger("wd", "second", at(60)))
    cmd = of_type(log.settle(at(0)), ExecuteTask)[0]
    log.given(started(cmd, at(1)), finished(cmd, "success", at(2)), time=at(2))
    out = log.settle(at(2))
    assert [(e.run_id, e.task_id) for e in of_type(out, ExecuteTask)] == [("first", "after")]
    after = of_type(out, ExecuteTask)[0]
    log.given(started(after, at(3)), finished(after, "success", at(4)), time=at(4))
    assert [(e.run_id, e.task_id) for e in of_type(log.settle(at(4)), ExecuteTask)] == [("second", "t")]


# zombies


def test_a_running_try_without_heartbeat_is_retried_and_killed() -> None:
    log = Log(SchedulerPolicy(zombie_threshold=60))
    cmd = of_type(run_manually(log, dag_spec("z", task("t", retries=1))), ExecuteTask)[0]
    log.given(started(cmd, at(1)), time=at(1))
    log.given(
        TaskHeartbeat(
            dag_id="z", run_id="manual_1", task_id="t", try_number=1, executor_id="e", pid=1, at=at(2)
        )
    )
    assert log.settle(at(3)) == []
    out = log.decide(at(3.5))
    assert summary(out) == [("ti.finished", "t", "up_for_retry"), ("control.kill_task", "t", "1")]
    assert "heartbeat timeout" in (of_type(out, TaskInstanceFinished)[0].error or "")
    assert log.ti_state("z", "manual_1", "t") == "up_for_retry"


def test_a_zombie_without_tries_left_fails() -> None:
    log = Log(SchedulerPolicy(zombie_threshold=60))
    cmd = of_type(run_manually(log, dag_spec("z", task("t"))), ExecuteTask)[0]
    log.given(started(cmd, at(1)), time=at(1))
    out = log.settle(at(10))
    assert summary(out) == [
        ("ti.finished", "t", "failed"),
        ("control.kill_task", "t", "1"),
        ("run.finished", "manual_1", "failed"),
    ]


# redelivery and staleness


def test_a_redelivered_record_changes_nothing_and_is_counted() -> None:
    log = Log()
    run_manually(log, dag_spec("etl", task("a"), task("b", "a")))
    before = (log.ti_state("etl", "manual_1", "a"), log.state.pool_used.copy(), log.state.ignored)
    for record in log.records:
        apply(log.state, record)
    after = (log.ti_state("etl", "manual_1", "a"), log.state.pool_used.copy(), log.state.ignored)
    assert after[:2] == before[:2]
    assert after[2] == before[2] + len(log.records)
    assert log.settle(at(1)) == []


def test_a_result_for_an_old_try_is_ignored() -> None:
    log = Log()
    cmd = of_type(run_manually(log, dag_spec("r", task("t", retries=1, retry_delay=0))), ExecuteTask)[0]
    log.given(started(cmd, at(1)), finished(cmd, "up_for_retry", at(2)), time=at(2))
    second = of_type(log.settle(at(2)), ExecuteTask)[0]
    assert second.try_number == 2
    ignored = log.state.ignored
    log.given(finished(cmd, "success", at(3)), started(cmd, at(3)), time=at(3))
    assert log.state.ignored == ignored + 2
    assert log.ti_state("r", "manual_1", "t") == "queued"


# user actions


def test_clearing_a_failed_task_reruns_it_with_fresh_retries_and_reopens_the_run() -> None:
    log = Log()
    cmd = of_type(run_manually(log, dag_spec("c", task("t", retries=1), task("u", "t"))), ExecuteTask)[0]
    log.given(started(cmd, at(1)), finished(cmd, "up_for_retry", at(2)), time=at(2))
    second = of_type(log.settle(at(10)), ExecuteTask)[0]
    log.given(started(second, at(11)), finished(second, "failed", at(12)), time=at(12))
    assert summary(of_type(log.settle(at(12)), DagRunFinished)) == [("run.finished", "manual_1", "failed")]
    log.given(TaskInstancesCleared(dag_id="c", run_id="manual_1", task_ids=("t", "u")), time=at(20))
    out = log.settle(at(20))
    assert summary(out) == [
        ("run.started", "manual_1"),
        ("ti.scheduled", "t", "3"),
        ("ti.queued", "t", "3"),
        ("queue.execute_task", "t", "3"),
    ]
    assert of_type(out, ExecuteTask)[0].max_tries == 3


def test_clearing_a_running_task_kills_its_try() -> None:
    log = Log()
    cmd = of_type(run_manually(log, dag_spec("c", task("t"))), ExecuteTask)[0]
    log.given(started(cmd, at(1)), time=at(1))
    log.given(TaskInstancesCleared(dag_id="c", run_id="manual_1", task_ids=("t",)), time=at(2))
    out = log.settle(at(2))
    assert ("control.kill_task", "t", "1") in summary(out)
    assert ("queue.execute_task", "t", "2") in summary(out)


def test_marking_a_run_failed_fails_running_tasks_skips_the_rest_and_kills() -> None:
    log = Log()
    cmd = of_type(run_manually(log, dag_spec("m", task("a"), task("b", "a"))), ExecuteTask)[0]
    log.given(started(cmd, at(1)), time=at(1))
    log.given(DagRunStateSet(dag_id="m", run_id="manual_1", state="failed"), time=at(2))
    assert (log.ti_state("m", "manual_1", "a"), log.ti_state("m", "manual_1", "b")) == ("failed", "skipped")
    assert summary(log.settle(at(2))) == [("control.kill_task", "a", "1")]
    assert log.state.pool_used["default_pool"] == 0


def test_dagrun_timeout_fails_the_run_and_skips_unfinished_tasks() -> None:
    log = Log(SchedulerPolicy(zombie_threshold=3600))
    cmd = of_type(
        run_manually(log, dag_spec("t", task("slow"), task("next", "slow"), dagrun_timeout=600)), ExecuteTask
    )[0]
    log.given(started(cmd, at(1)), time=at(1))
    assert of_type(log.settle(at(9)), DagRunFinished) == []
    out = log.settle(at(10))
    assert summary(out) == [("run.finished", "manual_1", "failed"), ("control.kill_task", "slow", "1")]
    assert log.ti_state("t", "manual_1", "next") == "skipped"


def test_sla_miss_is_recorded_once_for_a_scheduled_run() -> None:
    log = Log()
    spec = dag_spec("s", task("t", sla=3600), schedule=DAILY, start_date=T0, catchup=False)
    log.given(*parsed(spec))
    log.settle(at(days=1))
    assert of_type(log.settle(at(days=1, minutes=59)), SlaMissed) == []
    misses = of_type(log.settle(at(days=1, minutes=61)), SlaMissed)
    assert [(m.task_id, m.deadline) for m in misses] == [("t", at(days=1, minutes=60))]
    assert of_type(log.settle(at(days=1, minutes=90)), SlaMissed) == []


def test_manual_runs_are_not_checked_for_sla() -> None:
    log = Log()
    run_manually(log, dag_spec("s", task("t", sla=60)))
    assert of_type(log.settle(at(days=3)), SlaMissed) == []


# the decide/apply loop


def test_decide_output_folded_back_is_never_emitted_again() -> None:
    """Over a day of hourly runs with retries, a lost worker and empty tasks, no event is decided twice."""
    log = Log(SchedulerPolicy(zombie_threshold=120))
    spec = dag_spec(
        "loop",
        task("a", retries=1, retry_delay=60),
        task("b", "a", is_empty=True),
        task("c", "b", trigger_rule="all_done"),
        task("d", retries=1, retry_delay=0),
        schedule=ScheduleSpec(kind="delta", delta_seconds=3600),
        start_date=T0,
        max_active_runs=3,
    )
    log.given(*parsed(spec))
    executor = Executor(log, {"a": ["failed", "success"], "d": ["hang", "success"]})
    seen: set[bytes] = set()
    now = at(0)
    for _ in range(100):
        decided = []
        for _ in range(2):
            out = log.decide(now)
            for event in out:
                fingerprint = event.TYPE.encode() + encode_payload(event)
                assert fingerprint not in seen, f"emitted twice: {event}"
                seen.add(fingerprint)
            decided.extend(out)
        executor.work(decided, now)
        now += timedelta(minutes=15)
    payloads = [r.envelope.payload for r in log.records]
    finished_runs = of_type(payloads, DagRunFinished)
    assert len(finished_runs) >= 20 and {e.state for e in finished_runs} == {"success"}
    assert of_type(payloads, KillTask)
    assert of_type(payloads, TaskInstanceStateDecided)


def test_marking_a_running_task_success_kills_its_try_and_ignores_its_late_result() -> None:
    log = Log()
    cmd = of_type(run_manually(log, dag_spec("m", task("a"), task("b", "a"))), ExecuteTask)[0]
    log.given(started(cmd, at(1)), time=at(1))
    log.given(TaskInstanceStateSet(dag_id="m", run_id="manual_1", task_id="a", state="success"), time=at(2))
    out = log.settle(at(2))
    assert ("control.kill_task", "a", "1") in summary(out)
    assert executes(out) == ["b"]
    ignored = log.state.ignored
    log.given(finished(cmd, "failed", at(3)), time=at(3))
    assert (log.ti_state("m", "manual_1", "a"), log.state.ignored) == ("success", ignored + 1)


def test_marking_a_run_success_succeeds_its_unfinished_tasks() -> None:
    log = Log()
    run_manually(log, dag_spec("m", task("a"), task("b", "a")))
    log.given(DagRunStateSet(dag_id="m", run_id="manual_1", state="success"), time=at(1))
    assert (log.ti_state("m", "manual_1", "a"), log.ti_state("m", "manual_1", "b")) == ("success", "success")
    assert summary(log.settle(at(1))) == [("control.kill_task", "a", "1")]


def test_deleting_a_run_kills_its_tries_and_frees_their_slots() -> None:
    log = Log()
    run_manually(log, dag_spec("d", task("a"), task("b")))
    assert log.state.pool_used["default_pool"] == 2
    log.given(DagRunDeleted(dag_id="d", run_id="manual_1"), time=at(1))
    assert log.state.pool_used["default_pool"] == 0
    assert summary(log.settle(at(1))) == [("control.kill_task", "a", "1"), ("control.kill_task", "b", "1")]
    log.given(trigger("d", "manual_1"), time=at(2))
    assert summary(log.settle(at(2)))[0] == ("run.created", "manual_1")


def test_a_task_in_an_unknown_pool_waits_scheduled_until_the_pool_exists() -> None:
    log = Log()
    out = run_manually(log, dag_spec("p", task("a", pool="gpu")))
    assert summary(out)[-1] == ("ti.scheduled", "a", "1")
    log.given(PoolSet(name="gpu", slots=1), time=at(1))
    assert executes(log.settle(at(1))) == ["a"]


def test_a_dag_its_file_no_longer_defines_creates_no_more_runs() -> None:
    log = Log()
    log.given(*parsed(dag_spec("gone", task("a"), schedule=DAILY, start_date=T0, max_active_runs=1)))
    log.settle(at(days=1))
    log.given(DagFileProcessed(fileloc="/dags/gone.py", version="v2", dag_ids=()), time=at(days=1))
    log.given(DagRunStateSet(dag_id="gone", run_id="scheduled__2024-01-01T00:00:00+00:00", state="success"))
    assert of_type(log.settle(at(days=3)), DagRunCreated) == []
    log.given(trigger("gone", "manual_1", at(days=3)))
    assert [e.reason for e in of_type(log.settle(at(days=3)), DagRunRejected)] == [
        "DAG with dag_id: 'gone' not found"
    ]


def test_a_manual_run_of_a_cron_dag_gets_the_last_complete_interval() -> None:
    log = Log()
    log.given(*parsed(dag_spec("daily", task("a"), schedule=DAILY, start_date=T0), paused=True))
    log.given(trigger("daily", "manual_1", at(days=3, minutes=90)))
    created = of_type(log.settle(at(days=3, minutes=90)), DagRunCreated)[0]
    assert (created.logical_date, created.data_interval_start, created.data_interval_end) == (
        at(days=3, minutes=90),
        at(days=2),
        at(days=3),
    )
    assert created.external_trigger


def test_the_schedule_steps_over_a_logical_date_a_manual_run_holds() -> None:
    log = Log()
    log.given(*parsed(dag_spec("daily", task("a"), schedule=DAILY, start_date=T0), paused=True))
    log.given(trigger("daily", "manual_1", T0))
    log.settle(at(0))
    log.given(DagPausedSet(dag_id="daily", is_paused=False))
    created = of_type(log.settle(at(days=2, minutes=1)), DagRunCreated)
    assert [e.run_id for e in created] == ["scheduled__2024-01-02T00:00:00+00:00"]


def test_at_once_dag_runs_a_single_time() -> None:
    log = Log()
    log.given(*parsed(dag_spec("once", task("a"), schedule=ScheduleSpec(kind="once"), start_date=T0)))
    assert [e.run_id for e in of_type(log.settle(at(days=9)), DagRunCreated)] == [
        "scheduled__2024-01-01T00:00:00+00:00"
    ]
    assert of_type(log.settle(at(days=20)), DagRunCreated) == []


def test_a_task_that_starts_after_the_logical_date_gets_no_instance() -> None:
    log = Log()
    spec = dag_spec("late", task("a"), task("new", "a", start_date=at(days=5)))
    out = run_manually(log, spec)
    run = log.state.run("late", "manual_1")
    assert run is not None and sorted(run.tis) == ["a"]
    assert executes(out) == ["a"]


def test_setting_a_finished_run_back_to_queued_runs_its_remaining_work() -> None:
    log = Log()
    run_manually(log, dag_spec("q", task("a"), task("b", "a")))
    log.given(DagRunStateSet(dag_id="q", run_id="manual_1", state="failed"), time=at(1))
    log.settle(at(1))
    log.given(
        DagRunStateSet(dag_id="q", run_id="manual_1", state="queued"),
        TaskInstancesCleared(dag_id="q", run_id="manual_1", task_ids=("a", "b"), reset_dag_run=False),
        time=at(2),
    )
    assert summary(log.settle(at(2)))[:2] == [("run.started", "manual_1"), ("ti.scheduled", "a", "2")]
