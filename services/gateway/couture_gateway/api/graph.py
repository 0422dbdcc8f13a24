"""Walking a DAG's task graph: what ``include_upstream`` / ``include_downstream`` reach."""

from __future__ import annotations

from collections.abc import Iterable

from couture_common.dagspec import DagSpec


def with_relatives(spec: DagSpec, task_ids: Iterable[str], *, upstream: bool, downstream: bool) -> set[str]:
    """``task_ids`` plus every task upstream and/or downstream of them, transitively."""
    parents = {task.task_id: set(task.upstream) for task in spec.tasks}
    children: dict[str, set[str]] = {task.task_id: set() for task in spec.tasks}
    for task in spec.tasks:
        for parent in task.upstream:
            children.setdefault(parent, set()).add(task.task_id)
    selected = set(task_ids)
    for enabled, edges in ((upstream, parents), (downstream, children)):
        if not enabled:
            continue
        frontier = list(task_ids)
        while frontier:
            for nxt in edges.get(frontier.pop(), ()):
                if nxt not in selected:
                    selected.add(nxt)
                    frontier.append(nxt)
    return selected
