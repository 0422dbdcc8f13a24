"""Which trace each DAG run belongs to, so the scheduler's events join their run's trace.

A manual run's trace starts at the request that asked for it (the gateway's span travels in the
``DagRunRequested`` envelope); a scheduled run's trace starts at its creation. The mapping is
rebuilt from envelopes while the log is folded, so a restarted scheduler keeps it.
"""

from __future__ import annotations

from couture_common.eventlog.port import Record
from couture_common.events import (
    DagRunCreated,
    DagRunDeleted,
    DagRunFinished,
    DagRunRequested,
    Event,
)
from couture_common.tracing import span_headers

RunKey = tuple[str, str]


class RunTraces:
    def __init__(self) -> None:
        self._traces: dict[RunKey, dict[str, str]] = {}

    def observe(self, record: Record) -> None:
        event = record.envelope.payload
        if isinstance(event, DagRunRequested | DagRunCreated) and record.envelope.trace:
            self._traces[(event.dag_id, event.run_id)] = record.envelope.trace
        elif isinstance(event, DagRunFinished | DagRunDeleted):
            self._traces.pop((event.dag_id, event.run_id), None)

    def headers_for(self, event: Event) -> dict[str, str]:
        """Trace headers for an event the scheduler is about to append: a span of the event's
        run (a new trace for a run nobody requested), or none for events outside any run."""
        dag_id = getattr(event, "dag_id", None)
        run_id = getattr(event, "run_id", None)
        if not isinstance(dag_id, str) or not isinstance(run_id, str):
            return {}
        attributes: dict[str, str | int] = {"dag_id": dag_id, "run_id": run_id}
        task_id = getattr(event, "task_id", None)
        if isinstance(task_id, str):
            attributes["task_id"] = task_id
        name = "dag_run" if isinstance(event, DagRunCreated) else f"scheduler {event.TYPE}"
        return span_headers(name, self._traces.get((dag_id, run_id), {}), attributes)
