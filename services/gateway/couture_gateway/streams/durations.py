"""Task-duration statistics as a faust table, one entry per DAG, served over the worker's web view.

The agent reads the ``run`` topic in the app's consumer group and folds ``ti.started`` and
``ti.finished`` with the pure fold of ``readmodels.fold.durations``; every other event is skipped
by its type header, undecoded. The table's changelog topic makes the statistics survive restarts
and rebalances.

Faust commits a source offset some time after the table change it caused: after a crash, records
already folded are delivered again. A DAG's events all sit on one partition, so each entry keeps
the offset of the last record folded into it and skips what it has already seen; the statistics
count each event once. ``GET /couture/task-durations/{dag_id}/`` answers from the worker owning the
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
from couture_common.events import Event
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
            record = record_of(RUN, event)
            dag_id = record.envelope.payload.dag_id  # type: ignore[attr-defined]
            after = advance(entry_of(table.get(dag_id)), record.offset, record.envelope.payload)
            if after is not None:
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
        entry = entry_of(table.get(dag_id))
        if entry is None:
            return web.json({"detail": f"no finished or running try of DAG {dag_id!r} yet"}, status=404)
        return web.json(describe(entry.stats))

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


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """A DAG's statistics and the offset, in its ``run`` partition, of the last record folded in."""

    offset: int
    stats: durations.DagDurations


def advance(entry: Entry | None, offset: int, event: Event) -> Entry | None:
    """``entry`` after the record at ``offset``; None when it changes nothing (or was folded already)."""
    if entry is not None and offset <= entry.offset:
        return None
    before = None if entry is None else entry.stats
    after = durations.apply(before, event)
    if after is None or after is before:
        return None
    return Entry(offset=offset, stats=after)


def entry_of(stored: Any) -> Entry | None:
    return None if stored is None else msgspec.convert(stored, Entry)


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
