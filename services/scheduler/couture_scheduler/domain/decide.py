"""``decide(state, now, policy) -> events``: what the scheduler does next, as events to append.

No I/O, no clock, deterministic. Only runs touched since the last decide, and those a timer
names (retries, SLAs, dagrun_timeout, liveness), are evaluated, so a call stays cheap with
thousands of runs; to know which, decide drains the state's attention bookkeeping (touched runs,
due timers, pending kills).

Scaled out, each scheduler folds only the ``run`` partitions it owns (so only those DAGs' runs are
in its state) but every DAG; ``owns(dag_id)`` keeps it from creating runs of the other DAGs.

Pool slots are not counted per scheduler (N schedulers would then fill a pool N times): a ready try
asks its pool's arbiter (``PoolSlotsRequested``); the arbiter (``arbitrates(pool)``) grants waiting
requests in Airflow's priority order while slots are free (``PoolSlotsGranted``); the try's owner
queues it when the grant is folded, and releases the claim (``PoolSlotsReleased``) once the try
leaves queued/running or the grant no longer fits it (a newer try, a paused or deleted run). The
grants are events on the pool's one partition, so a later arbiter replaying the ``pool`` topic
knows them. A scheduler that is owner and arbiter asks, grants and queues in one answer.

The caller's contract: append the answer, fold it back, decide again. Folded back, nothing in an
answer is decided again. If the append fails, rebuild the state from the log before the next
decide: the fold re-derives everything decide drained.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from couture_common.clock import ensure_utc
from couture_common.eventlog.port import partition_for
from couture_common.events._base import Event
from couture_common.events.execution import ExecuteTask, KillTask
from couture_common.events.pool import PoolSlotsGranted, PoolSlotsReleased, PoolSlotsRequested
from couture_common.events.run import (
    DagRunCreated,
    DagRunFinished,
    DagRunRejected,
    DagRunStarted,
    DecidedState,
    SlaMissed,
    TaskInstanceFinished,
    TaskInstanceQueued,
    TaskInstanceScheduled,
    TaskInstanceStateDecided,
    TryOutcome,
)
from couture_common.timetables import DataInterval
from couture_common.topics import RUN, TOPICS
from couture_scheduler.domain.plan import DagPlan
from couture_scheduler.domain.state import (
    FAILED_LEAF,
    FINISHED,
    OCCUPYING,
    Claim,
    DagRun,
    DagState,
    RunKey,
    SchedulerState,
    TaskInstance,
    TaskKey,
)
from couture_scheduler.domain.triggers import Verdict, evaluate

#: States in which a task instance is on its way to (or in) an executor.
IN_FLIGHT = frozenset({"scheduled", "queued", "running", "up_for_retry"})
#: What depends_on_past accepts from the same task in the previous run.
PAST_OK = frozenset({"success", "skipped"})


@dataclass(frozen=True, slots=True)
class SchedulerPolicy:
    #: Seconds without a heartbeat (or start) after which a running try is a zombie.
    zombie_threshold: float = 300.0
    #: Most task instances sent to executors by one decide (Airflow's max_tis_per_query).
    max_queued_per_decide: int = 512


@dataclass(slots=True)
class _Candidate:
    """A task instance ready for a pool slot."""

    dag: DagState
    run: DagRun
    ti: TaskInstance
    try_number: int
    priority: int
    pool: str


@dataclass(frozen=True, slots=True)
class _Request:
    """A try asking for slots, as its pool's arbiter weighs it."""

    pool: str
    key: TaskKey
    try_number: int
    slots: int
    priority: int
    logical_date: datetime
    #: Asked for in the decide now under way (its ti.scheduled is not folded yet).
    asked_now: bool

    def order(self) -> tuple[int, datetime, str, str, str]:
        """Airflow's: priority weight first, then the oldest run."""
        return (-self.priority, self.logical_date, *self.key)


def decide(
    state: SchedulerState,
    now: datetime,
    policy: SchedulerPolicy | None = None,
    *,
    owns: Callable[[str], bool] | None = None,
    arbitrates: Callable[[str], bool] | None = None,
) -> list[Event]:
    """What to do next; with ``owns``, scheduled runs are created only for the DAGs it accepts.

    ``arbitrates(pool)``: whether this scheduler grants the slots of ``pool`` (all pools when
    omitted, as when alone).
    """
    return _Decision(state, now, policy or SchedulerPolicy(), owns or _all, arbitrates or _all).run()


def _all(_name: str) -> bool:
    return True


class _Decision:
    def __init__(
        self,
        state: SchedulerState,
        now: datetime,
        policy: SchedulerPolicy,
        owns: Callable[[str], bool],
        arbitrates: Callable[[str], bool],
    ) -> None:
        self.state = state
        self.now = now
        self.policy = policy
        self.owns = owns
        self.arbitrates = arbitrates
        self.out: list[Event] = []
        self.candidates: list[_Candidate] = []
        #: Tries sent to executors by this decide (max_queued_per_decide).
        self.queued = 0

    def run(self) -> list[Event]:
        self.answer_requests()
        self.create_scheduled_runs()
        self.start_queued_runs()
        due = self.fire_timers()
        self.detect_zombies()
        self.evaluate_runs(due)
        self.pool_slots()
        self.send_kills()
        return self.out

    # runs

    def answer_requests(self) -> None:
        for dag_id, pending in self.state.requests.items():
            dag = self.state.dags.get(dag_id)
            taken_ids: set[str] = set()
            taken_dates: set[datetime] = set()
            for request in pending.values():
                plan = None if dag is None or not dag.is_active else dag.plan
                if dag is None or plan is None or dag.version is None:
                    self.reject(dag_id, request.run_id, f"DAG with dag_id: '{dag_id}' not found")
                    continue
                logical_date = ensure_utc(request.logical_date)
                if request.run_id in dag.runs or request.run_id in taken_ids:
                    self.reject(
                        dag_id,
                        request.run_id,
                        f"DAGRun with DAG ID: '{dag_id}' and DAGRun ID: '{request.run_id}' already exists",
                    )
                    continue
                if logical_date in dag.by_logical_date or logical_date in taken_dates:
                    self.reject(
                        dag_id,
                        request.run_id,
                        f"DAGRun with DAG ID: '{dag_id}' and DAGRun logical date: "
                        f"'{logical_date.isoformat()}' already exists",
                    )
                    continue
                taken_ids.add(request.run_id)
                taken_dates.add(logical_date)
                if request.data_interval_start is not None and request.data_interval_end is not None:
                    interval = DataInterval(
                        ensure_utc(request.data_interval_start), ensure_utc(request.data_interval_end)
                    )
                else:
                    interval = plan.timetable.infer_manual_data_interval(logical_date)
                self.out.append(
                    DagRunCreated(
                        dag_id=dag_id,
                        run_id=request.run_id,
                        run_type=request.run_type,
                        logical_date=logical_date,
                        data_interval_start=interval.start,
                        data_interval_end=interval.end,
                        conf=request.conf,
                        dag_version=dag.version,
                        external_trigger=True,
                        note=request.note,
                        triggered_by_task=request.triggered_by_task,
                        ignore_paused=request.ignore_paused,
                    )
                )

    def reject(self, dag_id: str, run_id: str, reason: str) -> None:
        self.out.append(DagRunRejected(dag_id=dag_id, run_id=run_id, reason=reason))

    def create_scheduled_runs(self) -> None:
        for dag in self.state.dags.values():
            plan = dag.plan
            if plan is None or dag.is_paused or not dag.is_active or dag.version is None:
                continue
            if not self.owns(dag.dag_id):
                continue
            if dag.nothing_due_before is not None and self.now < dag.nothing_due_before:
                continue
            active = len(dag.queued_runs) + len(dag.running_runs)
            last = dag.last_automated
            while active < plan.spec.max_active_runs:
                info = plan.timetable.next_dagrun_info(
                    last_automated_data_interval=last, restriction=plan.restriction, now=self.now
                )
                if info is None or info.run_after > self.now:
                    dag.nothing_due_before = (
                        info.run_after if info is not None else datetime.max.replace(tzinfo=self.now.tzinfo)
                    )
                    break
                last = info.data_interval
                if info.logical_date in dag.by_logical_date:
                    # A manual run already holds this logical date; the schedule moves past it.
                    continue
                active += 1
                self.out.append(
                    DagRunCreated(
                        dag_id=dag.dag_id,
                        run_id=f"scheduled__{info.logical_date.isoformat()}",
                        run_type="scheduled",
                        logical_date=info.logical_date,
                        data_interval_start=info.data_interval.start,
                        data_interval_end=info.data_interval.end,
                        dag_version=dag.version,
                    )
                )

    def start_queued_runs(self) -> None:
        for dag in self.state.dags.values():
            plan = dag.plan
            if not dag.queued_runs or plan is None:
                continue
            room = plan.spec.max_active_runs - len(dag.running_runs)
            if room <= 0:
                continue
            startable = [run_id for run_id in dag.queued_runs if not dag.halts(dag.runs[run_id])]
            waiting = sorted(startable, key=lambda run_id: dag.runs[run_id].logical_date)
            for run_id in waiting[:room]:
                self.out.append(DagRunStarted(dag_id=dag.dag_id, run_id=run_id))

    # timers

    def fire_timers(self) -> set[RunKey]:
        """Pop due timers; returns the runs they name. SLA misses are emitted here."""
        due: set[RunKey] = set()
        timers = self.state.timers
        while timers and timers[0][0] <= self.now:
            when, kind, dag_id, run_id, task_id = heapq.heappop(timers)
            run = self.state.run(dag_id, run_id)
            if run is None:
                continue
            if kind == "sla":
                self.check_sla(run, task_id, deadline=when)
            elif kind == "timeout":
                self.check_timeout(run)
            else:
                due.add(run.key)
        return due

    def check_sla(self, run: DagRun, task_id: str, *, deadline: datetime) -> None:
        ti = run.tis.get(task_id)
        if ti is None or ti.sla_missed or ti.state in ("success", "skipped"):
            return
        self.out.append(
            SlaMissed(
                dag_id=run.dag_id,
                run_id=run.run_id,
                task_id=task_id,
                logical_date=run.logical_date,
                deadline=deadline,
            )
        )

    def check_timeout(self, run: DagRun) -> None:
        timeout = self.state.dags[run.dag_id].plans[run.dag_version].spec.dagrun_timeout
        if run.state != "running" or run.start_date is None or timeout is None:
            return
        if self.now - run.start_date >= timedelta(seconds=timeout):
            self.out.append(
                DagRunFinished(
                    dag_id=run.dag_id,
                    run_id=run.run_id,
                    state="failed",
                    reason=f"dagrun_timeout: running longer than {timeout:g}s",
                )
            )

    def detect_zombies(self) -> None:
        """A running try not seen alive (heartbeat or start) for longer than the threshold."""
        cutoff = self.now - timedelta(seconds=self.policy.zombie_threshold)
        liveness = self.state.liveness
        while liveness and liveness[0][0] < cutoff:
            seen, dag_id, run_id, task_id, try_number = heapq.heappop(liveness)
            ti = self.state.running.get((dag_id, run_id, task_id))
            if ti is None or ti.try_number != try_number:
                continue
            last = ti.last_heartbeat or seen
            if last > seen:
                heapq.heappush(liveness, (last, dag_id, run_id, task_id, try_number))
                continue
            state: TryOutcome = "up_for_retry" if ti.try_number <= ti.max_tries else "failed"
            error = (
                f"Detected zombie: heartbeat timeout, no heartbeat for "
                f"{(self.now - seen).total_seconds():g}s (threshold {self.policy.zombie_threshold:g}s)"
            )
            self.out.append(
                TaskInstanceFinished(
                    dag_id=dag_id,
                    run_id=run_id,
                    task_id=task_id,
                    try_number=try_number,
                    state=state,
                    end_date=self.now,
                    start_date=ti.start_date,
                    error=error,
                )
            )
            self.out.append(
                KillTask(dag_id=dag_id, run_id=run_id, task_id=task_id, try_number=try_number, reason=error)
            )

    # task decisions

    def evaluate_runs(self, due: set[RunKey]) -> None:
        keys = self.state.touched | due
        self.state.touched = set()
        for dag_id, run_id in list(keys):
            dag = self.state.dags.get(dag_id)
            run = None if dag is None else dag.runs.get(run_id)
            if dag is None or run is None:
                continue
            if dag.plans[run.dag_version].has_depends_on_past:
                # A change in this run may unblock depends_on_past in the one after it.
                following = dag.next_run(run)
                if following is not None:
                    keys.add(following.key)
        for dag_id, run_id in sorted(keys):
            dag = self.state.dags.get(dag_id)
            run = None if dag is None else dag.runs.get(run_id)
            if dag is not None and run is not None and run.state == "running" and not dag.halts(run):
                self.evaluate_run(dag, run)

    def evaluate_run(self, dag: DagState, run: DagRun) -> None:
        plan = dag.plans[run.dag_version]
        tis = run.tis
        decided: dict[str, str] = {}
        forced = run.forced_skips() if run.skips_from else set()
        blocked_by_past: list[str] = []
        for task_id in plan.order:
            ti = tis.get(task_id)
            if ti is None:
                continue
            if ti.state == "up_for_retry":
                if ti.retry_at is None or ti.retry_at <= self.now:
                    decided[task_id] = "scheduled"
                    self.schedule(dag, run, plan, ti)
                continue
            if ti.state is not None:
                continue
            if task_id in forced:
                self.settle(
                    run, task_id, "skipped", decided, "skipped by an upstream branch or short-circuit"
                )
                continue
            verdict = self.trigger_verdict(plan, tis, decided, task_id)
            if verdict == "wait":
                continue
            if verdict == "skipped" or verdict == "upstream_failed":
                self.settle(run, task_id, verdict, decided, f"trigger rule {plan.trigger_rule[task_id]}")
                continue
            past = self.past_verdict(dag, run, plan, task_id)
            if past != "ok":
                blocked_by_past.append(past)
                continue
            if plan.tasks[task_id].is_empty:
                self.settle(run, task_id, "success", decided, "EmptyOperator needs no executor")
                continue
            decided[task_id] = "scheduled"
            self.schedule(dag, run, plan, ti)
        self.maybe_finish(run, plan, decided, blocked_by_past)

    def trigger_verdict(
        self, plan: DagPlan, tis: dict[str, TaskInstance], decided: dict[str, str], task_id: str
    ) -> Verdict:
        success = skipped = failed = upstream_failed = done = 0
        upstream = plan.upstream[task_id]
        for up in upstream:
            ti = tis.get(up)
            state = decided.get(up) or ("removed" if ti is None else ti.state)
            if state in FINISHED:
                done += 1
                if state == "success":
                    success += 1
                elif state == "skipped":
                    skipped += 1
                elif state == "failed":
                    failed += 1
                elif state == "upstream_failed":
                    upstream_failed += 1
        return evaluate(
            plan.trigger_rule[task_id],
            total=len(upstream),
            success=success,
            skipped=skipped,
            failed=failed,
            upstream_failed=upstream_failed,
            done=done,
        )

    def past_verdict(self, dag: DagState, run: DagRun, plan: DagPlan, task_id: str) -> str:
        """``ok``; ``wait``; or ``stuck`` when the previous run's task failed and never will succeed."""
        task = plan.tasks[task_id]
        if not (task.depends_on_past or task.wait_for_downstream):
            return "ok"
        previous = dag.previous_run(run)
        if previous is None:
            return "ok"
        past = previous.tis.get(task_id)
        if past is None:
            return "ok"
        if past.state not in PAST_OK:
            return "stuck" if past.state in FAILED_LEAF else "wait"
        if task.wait_for_downstream:
            for down in plan.downstream[task_id]:
                past_down = previous.tis.get(down)
                if past_down is not None and past_down.state not in PAST_OK:
                    return "stuck" if past_down.state in FAILED_LEAF else "wait"
        return "ok"

    def settle(
        self, run: DagRun, task_id: str, to: DecidedState, decided: dict[str, str], reason: str
    ) -> None:
        decided[task_id] = to
        self.out.append(
            TaskInstanceStateDecided(
                dag_id=run.dag_id,
                run_id=run.run_id,
                task_id=task_id,
                state=to,
                reason=reason,
            )
        )

    def schedule(self, dag: DagState, run: DagRun, plan: DagPlan, ti: TaskInstance) -> None:
        try_number = ti.try_number + 1
        self.out.append(
            TaskInstanceScheduled(
                dag_id=run.dag_id, run_id=run.run_id, task_id=ti.task_id, try_number=try_number
            )
        )
        task = plan.tasks[ti.task_id]
        self.candidates.append(_Candidate(dag, run, ti, try_number, plan.priority[ti.task_id], task.pool))

    def maybe_finish(self, run: DagRun, plan: DagPlan, decided: dict[str, str], blocked: list[str]) -> None:
        """Airflow's rule: once every task instance has finished, failed leaves fail the run."""
        if "wait" in blocked:
            return
        unfinished = [t for t, ti in run.tis.items() if decided.get(t, ti.state) not in FINISHED]
        if any(decided.get(t, run.tis[t].state) in IN_FLIGHT for t in unfinished):
            return
        if unfinished:
            if blocked:
                self.out.append(
                    DagRunFinished(
                        dag_id=run.dag_id,
                        run_id=run.run_id,
                        state="failed",
                        reason="deadlock: depends_on_past can never be met, the previous run's task failed",
                    )
                )
            return
        leaves = [decided.get(t, run.tis[t].state) for t in plan.leaves if t in run.tis]
        failed = any(state in FAILED_LEAF for state in leaves)
        self.out.append(
            DagRunFinished(
                dag_id=run.dag_id,
                run_id=run.run_id,
                state="failed" if failed else "success",
                reason="a leaf task failed" if failed else None,
            )
        )

    # executors

    def pool_slots(self) -> None:
        """Slots through the pool's arbiter: queue granted tries, give back stale claims, ask, grant."""
        released = self.check_claims()
        asked = self.request_slots(released)
        self.grant_slots(asked, released)

    def check_claims(self) -> dict[TaskKey, Claim]:
        """This scheduler's claims whose try moved or that were granted: queue, keep or release."""
        state = self.state
        keys = state.claims_to_check
        state.claims_to_check = set()
        released: dict[TaskKey, Claim] = {}
        for key in sorted(keys):
            claim = state.claims.get(key)
            if claim is None or not self.owns(key[0]):
                continue
            dag = state.dags.get(key[0])
            run = None if dag is None else dag.runs.get(key[1])
            ti = None if run is None else run.tis.get(key[2])
            if ti is not None and ti.state in OCCUPYING and ti.try_number == claim.try_number:
                continue  # held by the try in flight
            if ti is not None and ti.state == "scheduled" and ti.try_number + 1 == claim.try_number:
                if not claim.granted:
                    continue  # still waiting for the arbiter
                assert dag is not None and run is not None
                if run.state == "running" and not dag.halts(run):
                    if self.queued < self.policy.max_queued_per_decide:
                        self.enqueue(dag, run, ti, claim.try_number)
                    else:
                        state.claims_to_check.add(key)
                    continue
            why = "the try is no longer waiting for or holding the slots"
            if ti is not None and ti.state is not None:
                why = f"task instance {ti.state}"
            self.out.append(
                PoolSlotsReleased(
                    pool=claim.pool,
                    dag_id=key[0],
                    run_id=key[1],
                    task_id=key[2],
                    try_number=claim.try_number,
                    reason=why,
                )
            )
            released[key] = claim
        return released

    def request_slots(self, released: dict[TaskKey, Claim]) -> list[_Request]:
        """Ask the pools' arbiters for slots for every scheduled try without a claim."""
        state = self.state
        candidates = list(self.candidates)
        for (dag_id, run_id, _), ti in state.unclaimed.items():
            dag = state.dags[dag_id]
            run = dag.runs[run_id]
            if run.state == "running" and not dag.halts(run):
                priority = dag.plans[run.dag_version].priority[ti.task_id]
                candidates.append(_Candidate(dag, run, ti, ti.try_number + 1, priority, ti.pool))
        if not candidates:
            return []
        candidates.sort(
            key=lambda c: (-c.priority, c.run.logical_date, c.run.dag_id, c.run.run_id, c.ti.task_id)
        )
        asking = {c.dag.dag_id: c.dag.active_tasks + c.dag.claiming for c in candidates}
        asked: list[_Request] = []
        for c in candidates:
            key = (c.run.dag_id, c.run.run_id, c.ti.task_id)
            if key in state.claims and key not in released:
                continue  # an older claim is still on its way out
            plan = c.dag.plans[c.run.dag_version]
            if asking[c.dag.dag_id] >= plan.spec.max_active_tasks:
                continue
            asking[c.dag.dag_id] += 1
            task = plan.tasks[c.ti.task_id]
            self.out.append(
                PoolSlotsRequested(
                    pool=task.pool,
                    dag_id=c.run.dag_id,
                    run_id=c.run.run_id,
                    task_id=task.task_id,
                    try_number=c.try_number,
                    slots=task.pool_slots,
                    priority_weight=c.priority,
                    logical_date=c.run.logical_date,
                )
            )
            asked.append(
                _Request(task.pool, key, c.try_number, task.pool_slots, c.priority, c.run.logical_date, True)
            )
        return asked

    def grant_slots(self, asked: list[_Request], released: dict[TaskKey, Claim]) -> None:
        """As the arbiter of a pool: grant its waiting requests in priority order while slots are free.

        A request this scheduler asked for in this decide, or one of its own DAGs' tries waiting in
        the state, is queued in the same answer: owner and arbiter at once, no round trip. Slots
        released in this answer are free again: the releases come before the grants on the pool's
        one partition, so the fold agrees.
        """
        state = self.state
        new: dict[str, list[_Request]] = {}
        for c in asked:
            new.setdefault(c.pool, []).append(c)
        freed: dict[str, int] = {}
        for claim in released.values():
            if claim.granted:
                freed[claim.pool] = freed.get(claim.pool, 0) + claim.slots
        for pool in sorted(set(new) | {p for p, waiting in state.requests_by_pool.items() if waiting}):
            if not self.arbitrates(pool):
                continue
            free = state.pools.get(pool, 0) - state.granted.get(pool, 0) + freed.get(pool, 0)
            if free <= 0:
                continue
            waiting = new.get(pool, []) + [
                _Request(pool, key, c.try_number, c.slots, c.priority, c.logical_date, False)
                for key, c in state.requests_by_pool.get(pool, {}).items()
                if key not in released
            ]
            waiting.sort(key=_Request.order)
            for w in waiting:
                if w.slots > free:
                    continue
                free -= w.slots
                self.out.append(
                    PoolSlotsGranted(
                        pool=pool,
                        dag_id=w.key[0],
                        run_id=w.key[1],
                        task_id=w.key[2],
                        try_number=w.try_number,
                    )
                )
                self.queue_granted(w)

    def queue_granted(self, w: _Request) -> None:
        """Queue a try just granted here when this scheduler owns it and it is ready to go."""
        if self.queued >= self.policy.max_queued_per_decide or not self.owns(w.key[0]):
            return
        dag = self.state.dags.get(w.key[0])
        run = None if dag is None else dag.runs.get(w.key[1])
        ti = None if run is None else run.tis.get(w.key[2])
        if dag is None or run is None or ti is None or run.state != "running" or dag.halts(run):
            return
        # Asked in this decide, its ti.scheduled is in this answer; otherwise already folded.
        if w.asked_now or (ti.state == "scheduled" and ti.try_number + 1 == w.try_number):
            self.enqueue(dag, run, ti, w.try_number)

    def enqueue(self, dag: DagState, run: DagRun, ti: TaskInstance, try_number: int) -> None:
        """Send a try holding its pool slots to the executors."""
        self.queued += 1
        plan = dag.plans[run.dag_version]
        task = plan.tasks[ti.task_id]
        priority = plan.priority[ti.task_id]
        partitions = TOPICS[RUN].partitions
        self.out.append(
            TaskInstanceQueued(
                dag_id=run.dag_id,
                run_id=run.run_id,
                task_id=task.task_id,
                try_number=try_number,
                max_tries=ti.max_tries,
                pool=task.pool,
                pool_slots=task.pool_slots,
                priority_weight=priority,
                queue=task.queue,
            )
        )
        partition = partition_for(run.dag_id, partitions)
        self.out.append(
            ExecuteTask(
                dag_id=run.dag_id,
                run_id=run.run_id,
                task_id=task.task_id,
                try_number=try_number,
                max_tries=ti.max_tries,
                dag_version=run.dag_version,
                fileloc=plan.spec.fileloc,
                run_type=run.run_type,
                logical_date=run.logical_date,
                data_interval_start=run.data_interval.start,
                data_interval_end=run.data_interval.end,
                conf=run.conf,
                external_trigger=run.external_trigger,
                pool=task.pool,
                priority_weight=priority,
                queue=task.queue,
                execution_timeout=task.execution_timeout,
                run_log_partition=partition,
                run_log_offset=self.state.offsets.get(RUN, {}).get(partition, -1),
            )
        )

    def send_kills(self) -> None:
        for (dag_id, run_id, task_id, try_number), reason in sorted(self.state.kills.items()):
            self.out.append(
                KillTask(dag_id=dag_id, run_id=run_id, task_id=task_id, try_number=try_number, reason=reason)
            )
        self.state.kills = {}
