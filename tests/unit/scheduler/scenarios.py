"""Whole scheduling stories, played by the pure driver and recorded as golden histories."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from couture_common.dagspec import ScheduleSpec
from couture_common.events import PoolSet, TaskInstancesCleared
from couture_scheduler.domain import SchedulerPolicy

from .driver import DAILY, T0, Executor, Log, at, dag_spec, parsed, run_scenario, task, trigger


@dataclass(frozen=True)
class Played:
    log: Log
    now: datetime


def daily_catchup_with_retries() -> Played:
    """Three missed days caught up two at a time; every run's extract fails once then succeeds."""
    log = Log()
    spec = dag_spec(
        "daily_etl",
        task("extract", retries=1, retry_delay=300),
        task("transform", "extract"),
        task("load", "transform"),
        schedule=DAILY,
        start_date=T0,
        max_active_runs=2,
    )
    log.given(*parsed(spec))
    executor = Executor(log, {"extract": ["failed", "success"]})
    now = run_scenario(log, executor, at(days=3, minutes=1), steps=12, step=timedelta(minutes=5))
    return Played(log, now)


def branch_and_join() -> Played:
    """A branch picks one path; the other is skipped and the join still runs."""
    log = Log()
    spec = dag_spec(
        "branching",
        task("choose", operator="BranchPythonOperator"),
        task("fast", "choose"),
        task("slow", "choose"),
        task("slow_2", "slow"),
        task("join", "fast", "slow_2", trigger_rule="none_failed_min_one_success"),
        task("report", "join", is_empty=True),
    )
    log.given(*parsed(spec), trigger("branching"))
    executor = Executor(log, choose={"skip_downstream": ("slow",)})
    now = run_scenario(log, executor, T0, steps=6, step=timedelta(minutes=2))
    return Played(log, now)


def failure_then_clear() -> Played:
    """A failure fails the run through upstream_failed; clearing it reruns and the run succeeds."""
    log = Log()
    spec = dag_spec("fragile", task("a"), task("b", "a"), task("cleanup", "a", trigger_rule="all_done"))
    log.given(*parsed(spec), trigger("fragile"))
    executor = Executor(log, {"a": ["failed", "success"]})
    cleared = TaskInstancesCleared(dag_id="fragile", run_id="manual_1", task_ids=("a", "b", "cleanup"))
    now = run_scenario(log, executor, T0, steps=8, step=timedelta(minutes=2), interventions={4: [cleared]})
    return Played(log, now)


def zombie_then_retry() -> Played:
    """A worker is lost mid-try; the try is declared a zombie, killed, and the retry succeeds."""
    log = Log(SchedulerPolicy(zombie_threshold=120))
    spec = dag_spec("lost", task("work", retries=1, retry_delay=60))
    log.given(*parsed(spec), trigger("lost"))
    executor = Executor(log, {"work": ["hang", "success"]})
    now = run_scenario(log, executor, T0, steps=10, step=timedelta(minutes=1))
    return Played(log, now)


def pool_contention() -> Played:
    """Two hourly runs share a one-slot pool; higher priority tasks take the slot first."""
    log = Log()
    spec = dag_spec(
        "pooled",
        task("small", pool="single", priority_weight=1),
        task("big", pool="single", priority_weight=5),
        task("after", "small", "big", is_empty=True),
        schedule=ScheduleSpec(kind="delta", delta_seconds=3600),
        start_date=T0,
    )
    log.given(PoolSet(name="single", slots=1), *parsed(spec))
    executor = Executor(log)
    now = run_scenario(log, executor, at(121), steps=8, step=timedelta(minutes=2))
    return Played(log, now)


SCENARIOS: dict[str, Callable[[], Played]] = {
    fn.__name__: fn
    for fn in (
        daily_catchup_with_retries,
        branch_and_join,
        failure_then_clear,
        zombie_then_retry,
        pool_contention,
    )
}
