"""What the scheduler derives once from a DAG version: graph order, leaves, effective priorities."""

from __future__ import annotations

from dataclasses import dataclass

from couture_common.clock import ensure_utc
from couture_common.dagspec import TRIGGER_RULES, DagSpec, TaskSpec
from couture_common.timetables import TimeRestriction, Timetable, timetable_for
from couture_scheduler.domain.triggers import canonical_rule

WEIGHT_RULES = frozenset({"downstream", "upstream", "absolute"})


@dataclass(frozen=True, slots=True)
class DagPlan:
    spec: DagSpec
    timetable: Timetable
    restriction: TimeRestriction
    tasks: dict[str, TaskSpec]
    upstream: dict[str, tuple[str, ...]]
    downstream: dict[str, tuple[str, ...]]
    #: Task ids, every task after all of its upstream tasks.
    order: tuple[str, ...]
    leaves: frozenset[str]
    trigger_rule: dict[str, str]
    #: priority_weight after the task's weight_rule.
    priority: dict[str, int]
    has_depends_on_past: bool

    def descendants(self, task_id: str) -> set[str]:
        return _reachable(task_id, self.downstream)


def build_plan(spec: DagSpec) -> DagPlan:
    """Raises ValueError naming the task and field at fault (unknown upstream, rule, cycle)."""
    tasks = {t.task_id: t for t in spec.tasks}
    downstream: dict[str, list[str]] = {task_id: [] for task_id in tasks}
    rules: dict[str, str] = {}
    for task in spec.tasks:
        rule = canonical_rule(task.trigger_rule)
        if rule not in TRIGGER_RULES:
            raise ValueError(f"task {task.task_id!r}: trigger_rule {task.trigger_rule!r} is unknown")
        rules[task.task_id] = rule
        if task.weight_rule not in WEIGHT_RULES:
            raise ValueError(f"task {task.task_id!r}: weight_rule {task.weight_rule!r} is unknown")
        for up in task.upstream:
            if up not in tasks:
                raise ValueError(f"task {task.task_id!r}: upstream {up!r} is not a task of {spec.dag_id!r}")
            downstream[up].append(task.task_id)
    upstream = {t.task_id: tuple(dict.fromkeys(t.upstream)) for t in spec.tasks}
    downstream_ids = {k: tuple(dict.fromkeys(v)) for k, v in downstream.items()}
    return DagPlan(
        spec=spec,
        timetable=timetable_for(spec.schedule),
        restriction=TimeRestriction(
            earliest=ensure_utc(spec.start_date) if spec.start_date else None,
            latest=ensure_utc(spec.end_date) if spec.end_date else None,
            catchup=spec.catchup,
        ),
        tasks=tasks,
        upstream=upstream,
        downstream=downstream_ids,
        order=_topological_order(spec.dag_id, upstream),
        leaves=frozenset(k for k, v in downstream.items() if not v),
        trigger_rule=rules,
        priority=_effective_priorities(tasks, upstream, downstream_ids),
        has_depends_on_past=any(t.depends_on_past or t.wait_for_downstream for t in spec.tasks),
    )


def _reachable(start: str, edges: dict[str, tuple[str, ...]]) -> set[str]:
    seen: set[str] = set()
    stack = list(edges[start])
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(edges[current])
    return seen


def _topological_order(dag_id: str, upstream: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    remaining = {task_id: len(ups) for task_id, ups in upstream.items()}
    dependents: dict[str, list[str]] = {task_id: [] for task_id in upstream}
    for task_id, ups in upstream.items():
        for up in ups:
            dependents[up].append(task_id)
    ready = [task_id for task_id, n in remaining.items() if n == 0]
    order: list[str] = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for dependent in dependents[current]:
            remaining[dependent] -= 1
            if remaining[dependent] == 0:
                ready.append(dependent)
    if len(order) < len(upstream):
        faulty = next(task_id for task_id in upstream if task_id not in set(order))
        raise ValueError(f"Cycle detected in DAG: {dag_id}. Faulty task: {faulty}")
    return tuple(order)


def _effective_priorities(
    tasks: dict[str, TaskSpec],
    upstream: dict[str, tuple[str, ...]],
    downstream: dict[str, tuple[str, ...]],
) -> dict[str, int]:
    """Airflow's weight rules: a task's own weight plus its descendants' (downstream, the default)
    or its ancestors' (upstream), or its own alone (absolute)."""
    weights: dict[str, int] = {}
    for task_id, task in tasks.items():
        if task.weight_rule == "absolute":
            related: set[str] = set()
        elif task.weight_rule == "upstream":
            related = _reachable(task_id, upstream)
        else:
            related = _reachable(task_id, downstream)
        weights[task_id] = task.priority_weight + sum(tasks[t].priority_weight for t in related)
    return weights
