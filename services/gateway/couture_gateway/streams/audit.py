"""The audit trail consumer: ``AuditRecorded`` events into the read model's ``audit_log`` table.

The agent takes batches from the ``audit`` topic in the app's consumer group (its partitions spread
over the workers) and applies them with the projector's own fold and SQL path, one transaction per
batch. Each row's id is derived from its event's position, and rows are inserted with ``ON
CONFLICT DO NOTHING``: a batch delivered again after a crash (faust commits offsets after the
batch is applied, at least once) changes nothing, so each entry is written exactly once. The same
holds when the gateway's projector also folds the topic into the same database.

The trail is append-only, grows forever and is browsed with filters and paging, so it belongs in
SQL rather than in a faust table (whose changelog and in-memory store would hold every entry).
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import faust
from faust.streams import Stream
from sqlalchemy.ext.asyncio import AsyncEngine

from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.topics import AUDIT
from couture_gateway.readmodels.projector import apply_records
from couture_streams.app import raw_topic, record_of

#: A batch is one transaction: up to this many entries, or what came within the wait.
BATCH = 500
BATCH_WAIT = timedelta(milliseconds=50)


def install(app: faust.App, log: KafkaEventLog, engine: AsyncEngine) -> None:
    """Add the audit trail agent to ``app``; it writes to the read models behind ``engine``."""

    async def record_audit(stream: faust.StreamT[bytes]) -> None:
        # The StreamT protocol lacks take_events; the Stream an agent is given has it.
        batches = cast(Stream[bytes], stream).take_events(BATCH, within=BATCH_WAIT)
        async for events in batches:
            records = [record_of(AUDIT, event) for event in events]
            async with engine.begin() as conn:
                await apply_records(conn, records)

    app.agent(raw_topic(app, log, AUDIT), name="audit-trail")(record_audit)
