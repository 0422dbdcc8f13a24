"""Task-duration statistics as a faust table, one entry per DAG, served over the worker's web view.

The agent reads the ``run`` topic in the app's consumer group and folds ``ti.started`` and
``ti.finished`` with the pure fold of ``readmodels.fold.durations``; every other event is skipped
by its type header, undecoded. The table's changelog topic makes the statistics survive restarts
and rebalances. ``GET /couture/task-durations/{dag_id}/`` answers from the worker owning the
DAG's partition; another worker redirects the request there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import faust
import msgspec
from faust.web import Request, Response, View

from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.eventlog.port import partition_for
from couture_common.topics import RUN
from couture_gateway.readmodels.fold import durations
from couture_streams.app import event_type, raw_topic, record_of

TABLE = "task-durations"
_TYPES = frozenset(event.TYPE for event in durations.DURATION_EVENTS)


def install(app: faust.App, log: KafkaEventLog) -> faust.types.TableT[str, Any]:
    """Add the statistics table, the agent that feeds it and its web view to ``app``."""
    table: faust.types.TableT[str, Any] = app.Table(
        TABLE, key_type=str, value_type=None, partitions=log.topics[RUN].partitions
    )

    async def fold_durations(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            if event_type(event) not in _TYPES:
                continue
            payload = record_of(RUN, event).envelope.payload
            dag_id = payload.dag_id  # type: ignore[attr-defined]
            before = stats_of(table.get(dag_id))
            after = durations.apply(before, payload)
            if after is not None and after is not before:
                table[dag_id] = msgspec.to_builtins(after)

    app.agent(raw_topic(app, log, RUN), name="task-durations")(fold_durations)

    @app.page("/couture/task-durations/{dag_id}/")
    async def dag_durations(web: View, request: Request, dag_id: str) -> Response:
        owner = owner_of(app, table, dag_id)
        if owner is not None and owner != str(app.conf.canonical_url):
            return web.json(
                {"detail": f"DAG {dag_id!r} is served by the worker at {owner}"},
                status=307,
                headers={"Location": f"{owner.rstrip('/')}/couture/task-durations/{quote(dag_id)}/"},
            )
        stats = stats_of(table.get(dag_id))
        if stats is None:
            return web.json({"detail": f"no finished or running try of DAG {dag_id!r} yet"}, status=404)
        return web.json(describe(stats))

    return table


def owner_of(app: faust.App, table: faust.types.TableT[str, Any], dag_id: str) -> str | None:
    """The web address of the worker holding ``dag_id``'s entry; None before partitions are assigned.

    Faust's own ``table_route`` cannot be used: it finds a key's partition with Kafka's default
    partitioner, while the event log places keys with ``partition_for``.
    """
    partition = partition_for(dag_id, table.partitions or 1)
    for url, topics in app.router.table_metadata(table.name).items():
        if any(partition in partitions for partitions in topics.values()):
            return url
    return None


def stats_of(stored: Any) -> durations.DagDurations | None:
    return None if stored is None else msgspec.convert(stored, durations.DagDurations)


def describe(stats: durations.DagDurations) -> dict[str, Any]:
    """The statistics as the web view shows them: seconds per task, running tries counted."""
    return {
        "dag_id": stats.dag_id,
        "tasks": {
            task_id: {
                "count": task.count,
                "mean_seconds": task.mean_seconds,
                "min_seconds": task.min_seconds,
                "max_seconds": task.max_seconds,
                "last_seconds": task.last_seconds,
                "total_seconds": task.total_seconds,
                "outcomes": task.outcomes,
                "running": len(task.running),
            }
            for task_id, task in sorted(stats.tasks.items())
        },
    }
