"""``apply(state, record)``: fold one log record into the scheduler's state.

Deterministic and free of I/O. Redelivered records (an offset already folded) change nothing; so
do stale transitions — a result for an old try, a start for a finished try, a decision for a
task that has moved on. Both are counted in ``state.ignored``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from couture_common.clock import ensure_utc
from couture_common.eventlog.port import Record
from couture_common.events.config import PoolDeleted, PoolSet
from couture_common.events.dag import DagFileProcessed, DagFileRemoved, DagParsed, DagPausedSet
from couture_common.events.execution import KillTask, TaskHeartbeat
from couture_common.events.pool import PoolSlotsGranted, PoolSlotsReleased, PoolSlotsRequested
from couture_common.events.run import (
    DagRunCreated,
    DagRunDeleted,
    DagRunFinished,
    DagRunRejected,
    DagRunRequested,
    DagRunStarted,
    DagRunStateSet,
    SlaMissed,
    TaskInstanceFinished,
    TaskInstanceQueued,
    TaskInstanceScheduled,
    TaskInstancesCleared,
    TaskInstanceStarted,
    TaskInstanceStateDecided,
    TaskInstanceStateSet,
)
from couture_common.timetables import DataInterval
from couture_scheduler.domain.retry import next_retry_at
from couture_scheduler.domain.state import (
    DEFAULT_POOL,
    FINISHED,
    OCCUPYING,
    Claim,
    DagRun,
    SchedulerState,
    TaskInstance,
)

Handler = Callable[[SchedulerState, Any, datetime], bool]


def apply(state: SchedulerState, record: Record) -> None:
    """Fold ``record``; the envelope's time is the event's time."""
    partitions = state.offsets.get(record.topic)
    if partitions is None:
        partitions = state.offsets[record.topic] = {}
    if record.offset <= partitions.get(record.partition, -1):
        state.ignored += 1
        return
    partitions[record.partition] = record.offset
    env = record.envelope
    kind = type(env.payload)
    if kind in _USER_ACTIONS:
        # A producer's retry can append an action twice; applying a clear twice would undo progress.
        if env.id in state.actions_seen:
            state.ignored += 1
            return
        state.actions_seen.add(env.id)
    handler = _HANDLERS.get(kind)
    if handler is not None and not handler(state, env.payload, env.time):
        state.ignored += 1


# dag topic


def _dag_parsed(state: SchedulerState, e: DagParsed, _: datetime) -> bool:
    is_new = e.dag_id not in state.dags
    dag = state.dag(e.dag_id)
    if dag.version == e.version and dag.is_active:
        return False
    try:
        dag.add_version(e.version, e.spec)
    except ValueError:
        # The parser validates specs; one that still cannot be planned must not stop the fold.
        return False
    if is_new:
        dag.is_paused = e.spec.is_paused_upon_creation is not False
    dag.is_active = True
    return True


def _dag_paused_set(state: SchedulerState, e: DagPausedSet, _: datetime) -> bool:
    dag = state.dag(e.dag_id)
    if dag.is_paused == e.is_paused:
        return False
    dag.is_paused = e.is_paused
    dag.nothing_due_before = None
    if not e.is_paused:
        state.touched.update((dag.dag_id, run_id) for run_id in dag.running_runs)
    return True


def _dag_file_processed(state: SchedulerState, e: DagFileProcessed, _: datetime) -> bool:
    for dag in state.dags.values():
        if dag.spec is not None and dag.spec.fileloc == e.fileloc:
            dag.is_active = dag.dag_id in e.dag_ids
    return True


def _dag_file_removed(state: SchedulerState, e: DagFileRemoved, _: datetime) -> bool:
    for dag in state.dags.values():
        if dag.spec is not None and dag.spec.fileloc == e.fileloc:
            dag.is_active = False
    return True


# run topic: runs


def _run_requested(state: SchedulerState, e: DagRunRequested, _: datetime) -> bool:
    pending = state.requests.setdefault(e.dag_id, {})
    if e.run_id in pending:
        return False
    pending[e.run_id] = e
    return True


def _forget_request(state: SchedulerState, dag_id: str, run_id: str) -> bool:
    pending = state.requests.get(dag_id)
    if pending is None or pending.pop(run_id, None) is None:
        return False
    if not pending:
        del state.requests[dag_id]
    return True


def _run_created(state: SchedulerState, e: DagRunCreated, _: datetime) -> bool:
    dag = state.dag(e.dag_id)
    plan = dag.plans.get(e.dag_version)
    if e.run_id in dag.runs or plan is None:
        return False
    _forget_request(state, e.dag_id, e.run_id)
    logical_date = ensure_utc(e.logical_date)
    interval = DataInterval(ensure_utc(e.data_interval_start), ensure_utc(e.data_interval_end))
    run = DagRun(
        dag_id=e.dag_id,
        run_id=e.run_id,
        run_type=e.run_type,
        logical_date=logical_date,
        data_interval=interval,
        conf=e.conf,
        dag_version=e.dag_version,
        external_trigger=e.external_trigger,
        ignore_paused=e.ignore_paused,
    )
    for task in plan.spec.tasks:
        # Airflow creates no instance of a task that starts after, or ended before, this run.
        if task.start_date is not None and ensure_utc(task.start_date) > logical_date:
            continue
        if task.end_date is not None and ensure_utc(task.end_date) < logical_date:
            continue
        run.tis[task.task_id] = TaskInstance(task.task_id, task.retries)
        if task.sla is not None and e.run_type == "scheduled":
            deadline = interval.end + timedelta(seconds=task.sla)
            state.add_timer((deadline, "sla", e.dag_id, e.run_id, task.task_id))
    dag.add_run(run)
    if e.run_type in ("scheduled", "backfill") and (
        dag.last_automated is None or interval.start > dag.last_automated.start
    ):
        dag.last_automated = interval
    dag.nothing_due_before = None
    state.touched.add(run.key)
    return True


def _run_rejected(state: SchedulerState, e: DagRunRejected, _: datetime) -> bool:
    return _forget_request(state, e.dag_id, e.run_id)


def _run_started(state: SchedulerState, e: DagRunStarted, time: datetime) -> bool:
    dag = state.dags.get(e.dag_id)
    run = None if dag is None else dag.runs.get(e.run_id)
    if dag is None or run is None or run.state != "queued":
        return False
    run.state = "running"
    run.start_date = time
    dag.queued_runs.discard(run.run_id)
    dag.running_runs.add(run.run_id)
    timeout = dag.plans[run.dag_version].spec.dagrun_timeout
    if timeout is not None:
        state.add_timer((time + timedelta(seconds=timeout), "timeout", e.dag_id, e.run_id, ""))
    state.touched.add(run.key)
    return True


def _end_run(state: SchedulerState, run: DagRun, run_state: str, time: datetime) -> None:
    dag = state.dags[run.dag_id]
    run.state = run_state
    run.end_date = time
    dag.queued_runs.discard(run.run_id)
    dag.running_runs.discard(run.run_id)
    dag.nothing_due_before = None
    state.touched.add(run.key)


def _run_finished(state: SchedulerState, e: DagRunFinished, time: datetime) -> bool:
    run = state.run(e.dag_id, e.run_id)
    if run is None or run.state in ("success", "failed"):
        return False
    # A run ended early (dagrun_timeout, deadlock): what had not finished is skipped, as Airflow does.
    for ti in run.tis.values():
        if ti.state not in FINISHED:
            _settle(state, run, ti, "skipped", time, why=f"dag run {e.state}: {e.reason or ''}".strip())
    _end_run(state, run, e.state, time)
    return True


def _run_state_set(state: SchedulerState, e: DagRunStateSet, time: datetime) -> bool:
    run = state.run(e.dag_id, e.run_id)
    if run is None or run.state == e.state:
        return False
    if e.state == "queued":
        dag = state.dags[run.dag_id]
        run.state = "queued"
        run.end_date = None
        dag.running_runs.discard(run.run_id)
        dag.queued_runs.add(run.run_id)
        state.touched.add(run.key)
        return True
    for ti in run.tis.values():
        if ti.state in FINISHED:
            continue
        # Airflow's mark failed: what is in flight fails, what never started is skipped.
        in_flight = ti.state in OCCUPYING
        target = "success" if e.state == "success" else ("failed" if in_flight else "skipped")
        _settle(state, run, ti, target, time, why=f"dag run marked {e.state}")
    _end_run(state, run, e.state, time)
    return True


def _run_deleted(state: SchedulerState, e: DagRunDeleted, _: datetime) -> bool:
    dag = state.dags.get(e.dag_id)
    run = None if dag is None else dag.runs.get(e.run_id)
    if dag is None or run is None:
        return False
    for ti in run.tis.values():
        if ti.state in OCCUPYING:
            state.kills[(run.dag_id, run.run_id, ti.task_id, ti.try_number)] = "dag run deleted"
        state.set_ti_state(run, ti, "removed")
    dag.remove_run(run)
    state.touched.discard(run.key)
    return True


def _tasks_cleared(state: SchedulerState, e: TaskInstancesCleared, _: datetime) -> bool:
    dag = state.dags.get(e.dag_id)
    run = None if dag is None else dag.runs.get(e.run_id)
    if dag is None or run is None:
        return False
    plan = dag.plans[run.dag_version]
    changed = False
    for task_id in e.task_ids:
        ti = run.tis.get(task_id)
        if ti is None:
            continue
        if ti.state in OCCUPYING:
            state.kills[(run.dag_id, run.run_id, task_id, ti.try_number)] = "task instance cleared"
        state.set_ti_state(run, ti, None)
        # Tries keep counting; a cleared task gets its full retries again.
        ti.max_tries = ti.try_number + plan.tasks[task_id].retries
        ti.start_date = ti.end_date = ti.retry_at = ti.last_heartbeat = None
        run.skips_from.pop(task_id, None)
        changed = True
    if changed and e.reset_dag_run and run.state in ("success", "failed"):
        run.state = "queued"
        run.end_date = None
        dag.queued_runs.add(run.run_id)
    if changed:
        state.touched.add(run.key)
    return changed


# run topic: task instances


def _ti(state: SchedulerState, dag_id: str, run_id: str, task_id: str) -> tuple[DagRun, TaskInstance] | None:
    dag = state.dags.get(dag_id)
    if dag is None:
        return None
    run = dag.runs.get(run_id)
    if run is None:
        return None
    ti = run.tis.get(task_id)
    return None if ti is None else (run, ti)


def _settle(
    state: SchedulerState, run: DagRun, ti: TaskInstance, to: str, time: datetime, *, why: str
) -> None:
    """Put a task instance in a finished state from outside its try; a try in flight is killed."""
    if ti.state in OCCUPYING:
        state.kills[(run.dag_id, run.run_id, ti.task_id, ti.try_number)] = why
    state.set_ti_state(run, ti, to)
    ti.end_date = time
    ti.retry_at = None


def _ti_scheduled(state: SchedulerState, e: TaskInstanceScheduled, _: datetime) -> bool:
    found = _ti(state, e.dag_id, e.run_id, e.task_id)
    if found is None:
        return False
    run, ti = found
    if ti.state not in (None, "up_for_retry") or e.try_number != ti.try_number + 1:
        return False
    task = state.dags[e.dag_id].plans[run.dag_version].tasks[e.task_id]
    ti.pool = task.pool
    ti.pool_slots = task.pool_slots
    state.set_ti_state(run, ti, "scheduled")
    return True


def _ti_queued(state: SchedulerState, e: TaskInstanceQueued, _: datetime) -> bool:
    found = _ti(state, e.dag_id, e.run_id, e.task_id)
    if found is None:
        return False
    run, ti = found
    if ti.state not in (None, "scheduled", "up_for_retry") or e.try_number != ti.try_number + 1:
        return False
    # Leave the scheduled index under the pool the task waited for, then hold the queued one's slots.
    state.set_ti_state(run, ti, None)
    ti.try_number = e.try_number
    ti.max_tries = e.max_tries
    ti.pool = e.pool
    ti.pool_slots = e.pool_slots
    ti.start_date = ti.end_date = ti.retry_at = ti.last_heartbeat = None
    state.set_ti_state(run, ti, "queued")
    return True


def _ti_started(state: SchedulerState, e: TaskInstanceStarted, _: datetime) -> bool:
    found = _ti(state, e.dag_id, e.run_id, e.task_id)
    if found is None:
        return False
    run, ti = found
    if ti.state != "queued" or e.try_number != ti.try_number:
        return False
    ti.start_date = ti.last_heartbeat = ensure_utc(e.start_date)
    state.set_ti_state(run, ti, "running")
    heapq.heappush(state.liveness, (ti.start_date, e.dag_id, e.run_id, e.task_id, e.try_number))
    return True


def _ti_finished(state: SchedulerState, e: TaskInstanceFinished, _: datetime) -> bool:
    key = (e.dag_id, e.run_id, e.task_id, e.try_number)
    # The try is over either way; there is nothing left to kill.
    state.kills.pop(key, None)
    found = _ti(state, e.dag_id, e.run_id, e.task_id)
    if found is None:
        return False
    run, ti = found
    if ti.state not in OCCUPYING or e.try_number != ti.try_number:
        return False
    ti.end_date = end = ensure_utc(e.end_date)
    if e.start_date is not None:
        ti.start_date = ensure_utc(e.start_date)
    state.set_ti_state(run, ti, e.state)
    plan = state.dags[e.dag_id].plans[run.dag_version]
    if e.state == "up_for_retry":
        task = plan.tasks[e.task_id]
        ti.retry_at = next_retry_at(
            task, dag_id=e.dag_id, logical_date=run.logical_date, try_number=e.try_number, ended_at=end
        )
        state.add_timer((ti.retry_at, "retry", e.dag_id, e.run_id, e.task_id))
    if e.skip_all_descendants:
        run.skips_from[e.task_id] = frozenset(plan.descendants(e.task_id))
    elif e.skip_downstream:
        run.skips_from[e.task_id] = frozenset(e.skip_downstream)
    return True


def _ti_state_decided(state: SchedulerState, e: TaskInstanceStateDecided, time: datetime) -> bool:
    found = _ti(state, e.dag_id, e.run_id, e.task_id)
    if found is None:
        return False
    run, ti = found
    if ti.state not in (None, "scheduled", "up_for_retry"):
        return False
    state.set_ti_state(run, ti, e.state)
    ti.end_date = time
    ti.retry_at = None
    return True


def _ti_state_set(state: SchedulerState, e: TaskInstanceStateSet, time: datetime) -> bool:
    found = _ti(state, e.dag_id, e.run_id, e.task_id)
    if found is None:
        return False
    run, ti = found
    if ti.state == e.state:
        return False
    _settle(state, run, ti, e.state, time, why=f"task instance marked {e.state}")
    return True


def _sla_missed(state: SchedulerState, e: SlaMissed, _: datetime) -> bool:
    found = _ti(state, e.dag_id, e.run_id, e.task_id)
    if found is None or found[1].sla_missed:
        return False
    found[1].sla_missed = True
    return True


def _heartbeat(state: SchedulerState, e: TaskHeartbeat, _: datetime) -> bool:
    ti = state.running.get((e.dag_id, e.run_id, e.task_id))
    if ti is None or ti.try_number != e.try_number:
        return False
    at = ensure_utc(e.at)
    if ti.last_heartbeat is not None and at <= ti.last_heartbeat:
        return False
    ti.last_heartbeat = at
    return True


def _kill_sent(state: SchedulerState, e: KillTask, _: datetime) -> bool:
    return state.kills.pop((e.dag_id, e.run_id, e.task_id, e.try_number), None) is not None


# config topic


def _pool_set(state: SchedulerState, e: PoolSet, _: datetime) -> bool:
    if state.pools.get(e.name) == e.slots:
        return False
    state.pools[e.name] = e.slots
    return True


def _pool_deleted(state: SchedulerState, e: PoolDeleted, _: datetime) -> bool:
    # default_pool cannot be deleted (Airflow refuses too).
    if e.name == DEFAULT_POOL or e.name not in state.pools:
        return False
    del state.pools[e.name]
    return True


# pool topic (every pool's, folded whole)


def _slots_requested(state: SchedulerState, e: PoolSlotsRequested, _: datetime) -> bool:
    key = (e.dag_id, e.run_id, e.task_id)
    if key in state.claims:
        # A redelivery, or a request its owner sent before the older claim's release: one claim each.
        return False
    claim = state.claims[key] = Claim(
        pool=e.pool,
        dag_id=e.dag_id,
        try_number=e.try_number,
        slots=e.slots,
        priority=e.priority_weight,
        logical_date=ensure_utc(e.logical_date),
    )
    state.requests_by_pool.setdefault(e.pool, {})[key] = claim
    state.unclaimed.pop(key, None)
    found = _ti(state, e.dag_id, e.run_id, e.task_id)
    claim.occupied = True  # so that mark_occupied counts it as claiming when it is not
    state.mark_occupied(key, claim, None if found is None else found[1])
    # Replayed after the runs, the try may be over already: its owner withdraws the request.
    state.claims_to_check.add(key)
    return True


def _slots_granted(state: SchedulerState, e: PoolSlotsGranted, _: datetime) -> bool:
    key = (e.dag_id, e.run_id, e.task_id)
    claim = state.claims.get(key)
    if claim is None or claim.granted or claim.try_number != e.try_number:
        return False
    claim.granted = True
    state.requests_by_pool[claim.pool].pop(key, None)
    state.granted[claim.pool] = state.granted.get(claim.pool, 0) + claim.slots
    # Its owner queues the try now, or gives the slots back if the try has moved on.
    state.claims_to_check.add(key)
    return True


def _slots_released(state: SchedulerState, e: PoolSlotsReleased, _: datetime) -> bool:
    key = (e.dag_id, e.run_id, e.task_id)
    claim = state.claims.get(key)
    if claim is None or claim.try_number != e.try_number:
        return False
    del state.claims[key]
    if claim.granted:
        state.granted[claim.pool] -= claim.slots
    else:
        state.requests_by_pool[claim.pool].pop(key, None)
    if not claim.occupied:
        dag = state.dags.get(e.dag_id)
        if dag is not None:
            dag.claiming -= 1
    found = _ti(state, e.dag_id, e.run_id, e.task_id)
    if found is not None and found[1].state == "scheduled":
        # Given back while still waiting (its run was paused when the grant came): ask again.
        state.unclaimed[key] = found[1]
    return True


#: Events people cause, de-duplicated by envelope id (rare, so remembering their ids is cheap).
_USER_ACTIONS: frozenset[type] = frozenset(
    {DagRunRequested, DagRunStateSet, DagRunDeleted, TaskInstancesCleared, TaskInstanceStateSet}
)

_HANDLERS: dict[type, Handler] = {
    DagParsed: _dag_parsed,
    DagPausedSet: _dag_paused_set,
    DagFileProcessed: _dag_file_processed,
    DagFileRemoved: _dag_file_removed,
    DagRunRequested: _run_requested,
    DagRunCreated: _run_created,
    DagRunRejected: _run_rejected,
    DagRunStarted: _run_started,
    DagRunFinished: _run_finished,
    DagRunStateSet: _run_state_set,
    DagRunDeleted: _run_deleted,
    TaskInstancesCleared: _tasks_cleared,
    TaskInstanceScheduled: _ti_scheduled,
    TaskInstanceQueued: _ti_queued,
    TaskInstanceStarted: _ti_started,
    TaskInstanceFinished: _ti_finished,
    TaskInstanceStateDecided: _ti_state_decided,
    TaskInstanceStateSet: _ti_state_set,
    SlaMissed: _sla_missed,
    TaskHeartbeat: _heartbeat,
    KillTask: _kill_sent,
    PoolSet: _pool_set,
    PoolDeleted: _pool_deleted,
    PoolSlotsRequested: _slots_requested,
    PoolSlotsGranted: _slots_granted,
    PoolSlotsReleased: _slots_released,
}
