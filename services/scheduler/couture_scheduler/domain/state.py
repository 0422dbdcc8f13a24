"""The scheduler's state: what the fold of the ``dag``, ``run``, ``config`` and ``heartbeat`` topics knows.

Mutable and indexed for speed (the fold applies hundreds of thousands of events a second). Only
:mod:`couture_scheduler.domain.fold` changes the facts here; :mod:`~couture_scheduler.domain.decide`
reads them and drains the attention bookkeeping at the bottom of :class:`SchedulerState` (which
runs were touched, due timers, pending kills).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from datetime import datetime
from typing import Any

from couture_common.dagspec import DagSpec
from couture_common.events.run import DagRunRequested
from couture_common.timetables import DataInterval
from couture_scheduler.domain.plan import DagPlan, build_plan

DEFAULT_POOL = "default_pool"
DEFAULT_POOL_SLOTS = 128

#: Task-instance states in which nothing more happens unless a user acts.
FINISHED = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
#: States that hold pool slots and count against max_active_tasks.
OCCUPYING = frozenset({"queued", "running"})
#: Leaf states that fail a run.
FAILED_LEAF = frozenset({"failed", "upstream_failed"})

RunKey = tuple[str, str]
TaskKey = tuple[str, str, str]
#: (due, kind, dag_id, run_id, task_id): kinds ``retry``, ``sla``, ``timeout``, ``zombie``.
Timer = tuple[datetime, str, str, str, str]


class TaskInstance:
    __slots__ = (
        "end_date",
        "last_heartbeat",
        "max_tries",
        "pool",
        "pool_slots",
        "retry_at",
        "sla_missed",
        "start_date",
        "state",
        "task_id",
        "try_number",
    )

    def __init__(self, task_id: str, max_tries: int) -> None:
        self.task_id = task_id
        self.state: str | None = None
        #: Tries queued so far; the try in flight when queued/running (1 for the first).
        self.try_number = 0
        #: The last try number that may still fail into up_for_retry.
        self.max_tries = max_tries
        self.start_date: datetime | None = None
        self.end_date: datetime | None = None
        #: When an up_for_retry task becomes eligible again.
        self.retry_at: datetime | None = None
        self.last_heartbeat: datetime | None = None
        #: The pool and slots the current try holds while queued or running.
        self.pool = DEFAULT_POOL
        self.pool_slots = 1
        self.sla_missed = False

    def __repr__(self) -> str:
        return f"TaskInstance({self.task_id!r}, state={self.state!r}, try={self.try_number})"


class Claim:
    """One try's claim on a pool's slots, from its request until its release (the ``pool`` topic)."""

    __slots__ = ("dag_id", "granted", "logical_date", "occupied", "pool", "priority", "slots", "try_number")

    def __init__(
        self, *, pool: str, dag_id: str, try_number: int, slots: int, priority: int, logical_date: datetime
    ) -> None:
        self.pool = pool
        self.dag_id = dag_id
        self.try_number = try_number
        self.slots = slots
        self.priority = priority
        self.logical_date = logical_date
        self.granted = False
        #: Whether the claiming try is queued or running (then it counts in the DAG's active tasks).
        self.occupied = False

    def __repr__(self) -> str:
        return f"Claim({self.pool!r}, try={self.try_number}, granted={self.granted})"


class DagRun:
    __slots__ = (
        "conf",
        "dag_id",
        "dag_version",
        "data_interval",
        "end_date",
        "external_trigger",
        "ignore_paused",
        "logical_date",
        "run_id",
        "run_type",
        "skips_from",
        "start_date",
        "state",
        "tis",
    )

    def __init__(
        self,
        *,
        dag_id: str,
        run_id: str,
        run_type: str,
        logical_date: datetime,
        data_interval: DataInterval,
        conf: dict[str, Any],
        dag_version: str,
        external_trigger: bool,
        ignore_paused: bool = False,
    ) -> None:
        self.dag_id = dag_id
        self.run_id = run_id
        self.run_type = run_type
        self.logical_date = logical_date
        self.data_interval = data_interval
        self.conf = conf
        self.state = "queued"
        self.dag_version = dag_version
        self.external_trigger = external_trigger
        #: ``couture dags test``: this run proceeds while its DAG is paused.
        self.ignore_paused = ignore_paused
        self.start_date: datetime | None = None
        self.end_date: datetime | None = None
        self.tis: dict[str, TaskInstance] = {}
        #: Branch / short-circuit decisions: finished task id -> the task ids it skips.
        self.skips_from: dict[str, frozenset[str]] = {}

    @property
    def key(self) -> RunKey:
        return (self.dag_id, self.run_id)

    def forced_skips(self) -> set[str]:
        skips: set[str] = set()
        for targets in self.skips_from.values():
            skips |= targets
        return skips

    def __repr__(self) -> str:
        return f"DagRun({self.dag_id!r}, {self.run_id!r}, state={self.state!r})"


class DagState:
    __slots__ = (
        "active_tasks",
        "by_logical_date",
        "claiming",
        "dag_id",
        "is_active",
        "is_paused",
        "last_automated",
        "nothing_due_before",
        "ordered",
        "plans",
        "queued_runs",
        "running_runs",
        "runs",
        "spec",
        "version",
    )

    def __init__(self, dag_id: str) -> None:
        self.dag_id = dag_id
        #: None until the DAG is parsed (a pause or trigger may arrive first).
        self.spec: DagSpec | None = None
        self.version: str | None = None
        #: Every version a run may be pinned to.
        self.plans: dict[str, DagPlan] = {}
        self.is_paused = True
        self.is_active = True
        self.runs: dict[str, DagRun] = {}
        self.by_logical_date: dict[datetime, str] = {}
        #: (logical_date, run_id), sorted: previous/next run for depends_on_past.
        self.ordered: list[tuple[datetime, str]] = []
        #: The data interval of the latest scheduled or backfill run.
        self.last_automated: DataInterval | None = None
        self.queued_runs: set[str] = set()
        self.running_runs: set[str] = set()
        #: Queued + running task instances over all runs (max_active_tasks).
        self.active_tasks = 0
        #: Pool claims of this DAG's tries that are not queued or running (yet): max_active_tasks
        #: counts them, or a DAG could ask for more slots than it may use.
        self.claiming = 0
        #: Memo of the last decide: no scheduled run falls due before this time.
        self.nothing_due_before: datetime | None = None

    def halts(self, run: DagRun) -> bool:
        """Whether the DAG's pause holds ``run`` back."""
        return self.is_paused and not run.ignore_paused

    @property
    def plan(self) -> DagPlan | None:
        return None if self.version is None else self.plans.get(self.version)

    def add_version(self, version: str, spec: DagSpec) -> None:
        if version not in self.plans:
            self.plans[version] = build_plan(spec)
        self.spec = spec
        self.version = version
        self.nothing_due_before = None

    def add_run(self, run: DagRun) -> None:
        self.runs[run.run_id] = run
        self.by_logical_date[run.logical_date] = run.run_id
        insort(self.ordered, (run.logical_date, run.run_id))
        self.queued_runs.add(run.run_id)

    def remove_run(self, run: DagRun) -> None:
        del self.runs[run.run_id]
        if self.by_logical_date.get(run.logical_date) == run.run_id:
            del self.by_logical_date[run.logical_date]
        self.ordered.remove((run.logical_date, run.run_id))
        self.queued_runs.discard(run.run_id)
        self.running_runs.discard(run.run_id)

    def previous_run(self, run: DagRun) -> DagRun | None:
        index = bisect_left(self.ordered, (run.logical_date, run.run_id))
        return self.runs[self.ordered[index - 1][1]] if index > 0 else None

    def next_run(self, run: DagRun) -> DagRun | None:
        index = bisect_left(self.ordered, (run.logical_date, run.run_id))
        return self.runs[self.ordered[index + 1][1]] if index + 1 < len(self.ordered) else None


class SchedulerState:
    """Everything the scheduler knows, rebuilt by folding the log from offset 0."""

    def __init__(self) -> None:
        self.dags: dict[str, DagState] = {}
        #: Pool name -> slots. default_pool exists until the log says otherwise.
        self.pools: dict[str, int] = {DEFAULT_POOL: DEFAULT_POOL_SLOTS}
        #: Pool name -> slots held by queued and running task instances.
        self.pool_used: dict[str, int] = {}
        #: topic -> partition -> last offset folded.
        self.offsets: dict[str, dict[int, int]] = {}
        #: Events that changed nothing: redeliveries, stale tries, transitions from finished states.
        self.ignored = 0
        #: Envelope ids of user actions already applied (triggers, clears, marks, deletes).
        self.actions_seen: set[str] = set()
        #: Triggers waiting for an answer, by dag_id then run_id (the DAG may be unknown).
        self.requests: dict[str, dict[str, DagRunRequested]] = {}
        #: Pool name -> task instances in state ``scheduled`` waiting for a slot of it, across all DAGs.
        self.scheduled: dict[str, dict[TaskKey, TaskInstance]] = {}
        #: Slot claims on the ``pool`` topic (every DAG's, folded whole), by task instance.
        self.claims: dict[TaskKey, Claim] = {}
        #: Pool name -> claims waiting for a grant, and slots granted and not released.
        self.requests_by_pool: dict[str, dict[TaskKey, Claim]] = {}
        self.granted: dict[str, int] = {}
        #: Scheduled task instances with no claim: their owner asks for slots.
        self.unclaimed: dict[TaskKey, TaskInstance] = {}
        #: Task instances in state ``running``, for zombie detection.
        self.running: dict[TaskKey, TaskInstance] = {}

        # Attention bookkeeping: set by the fold, drained by decide.
        #: Runs whose task instances changed since the last decide.
        self.touched: set[RunKey] = set()
        self.timers: list[Timer] = []
        #: (last seen alive, dag_id, run_id, task_id, try_number) per running try, oldest first;
        #: an entry is refreshed from the task instance's last heartbeat when it comes up.
        self.liveness: list[tuple[datetime, str, str, str, int]] = []
        #: (dag_id, run_id, task_id, try_number) -> why: tries to kill (marked, cleared, deleted).
        self.kills: dict[tuple[str, str, str, int], str] = {}
        #: Claims whose task instance moved (or that were just granted): queue or release them.
        self.claims_to_check: set[TaskKey] = set()

    def dag(self, dag_id: str) -> DagState:
        dag = self.dags.get(dag_id)
        if dag is None:
            dag = self.dags[dag_id] = DagState(dag_id)
        return dag

    def run(self, dag_id: str, run_id: str) -> DagRun | None:
        dag = self.dags.get(dag_id)
        return None if dag is None else dag.runs.get(run_id)

    def add_timer(self, timer: Timer) -> None:
        heapq.heappush(self.timers, timer)

    def set_ti_state(self, run: DagRun, ti: TaskInstance, state: str | None) -> None:
        """Move a task instance, keeping the scheduled/running indexes and slot counts true."""
        old = ti.state
        if old == state:
            return
        key = (run.dag_id, run.run_id, ti.task_id)
        claim = self.claims.get(key) if self.claims else None
        if old == "scheduled":
            self.scheduled[ti.pool].pop(key, None)
            self.unclaimed.pop(key, None)
        elif old == "running":
            del self.running[key]
        if state == "scheduled":
            self.scheduled.setdefault(ti.pool, {})[key] = ti
            if claim is None:
                self.unclaimed[key] = ti
        elif state == "running":
            self.running[key] = ti
        was_occupying = old in OCCUPYING
        now_occupying = state in OCCUPYING
        if was_occupying != now_occupying:
            delta = 1 if now_occupying else -1
            self.pool_used[ti.pool] = self.pool_used.get(ti.pool, 0) + delta * ti.pool_slots
            self.dags[run.dag_id].active_tasks += delta
        ti.state = state
        self.touched.add((run.dag_id, run.run_id))
        if claim is not None:
            self.claims_to_check.add(key)
            self.mark_occupied(key, claim, ti)

    def mark_occupied(self, key: TaskKey, claim: Claim, ti: TaskInstance | None) -> None:
        """Keep ``claim.occupied`` and its DAG's count of claiming tries true to ``ti``."""
        occupied = ti is not None and ti.state in OCCUPYING and ti.try_number == claim.try_number
        if occupied != claim.occupied:
            claim.occupied = occupied
            dag = self.dags.get(key[0])
            if dag is not None:
                dag.claiming += -1 if occupied else 1
