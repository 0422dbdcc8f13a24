"""Events numbered as the log would number them, folded into read models on in-memory SQLite."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from couture_common.dagspec import DagSpec, ScheduleSpec, TaskSpec
from couture_common.eventlog import Record, partition_for
from couture_common.events import Event, envelope
from couture_common.topics import TOPICS
from couture_gateway.readmodels.projector import apply_records
from couture_gateway.readmodels.tables import PROJECTED_TABLES

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def spec(dag_id: str = "etl", *tasks: str, fileloc: str = "/dags/etl.py", **fields: Any) -> DagSpec:
    """A DAG whose tasks run in a chain, in the order given."""
    names = tasks or ("extract", "load")
    return DagSpec(
        dag_id=dag_id,
        fileloc=fileloc,
        tasks=tuple(
            TaskSpec(
                task_id=name,
                operator="BashOperator",
                upstream=(names[i - 1],) if i else (),
                retries=1,
                owner="data",
            )
            for i, name in enumerate(names)
        ),
        **{
            "schedule": ScheduleSpec(kind="cron", cron="0 0 * * *", display="@daily"),
            "start_date": T0,
            "tags": ("nightly",),
            **fields,
        },
    )


class ReadModels:
    """Numbers events as the log would and folds them into the tables, one batch per ``given``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.clock = T0
        self._next_offset: dict[tuple[str, int], int] = defaultdict(int)
        self.history: list[Record] = []

    def record(self, payload: Event, *, actor: str = "service:scheduler") -> Record:
        self.clock += timedelta(seconds=1)
        topic = payload.TOPIC
        partition = partition_for(payload.partition_key(), TOPICS[topic].partitions)
        offset = self._next_offset[(topic, partition)]
        self._next_offset[(topic, partition)] += 1
        record = Record(topic, partition, offset, envelope(payload, actor=actor, time=self.clock))
        self.history.append(record)
        return record

    async def given(self, *payloads: Event, actor: str = "service:scheduler") -> None:
        await self.apply(*(self.record(p, actor=actor) for p in payloads))

    async def apply(self, *records: Record) -> None:
        async with self.engine.begin() as conn:
            await apply_records(conn, records)

    async def rows(self, table: sa.Table, **equal: Any) -> list[dict[str, Any]]:
        query = sa.select(table).where(*(table.c[c] == v for c, v in equal.items()))
        query = query.order_by(*table.primary_key.columns)
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def one(self, table: sa.Table, **equal: Any) -> dict[str, Any]:
        found = await self.rows(table, **equal)
        assert len(found) == 1, f"expected one {table.name} row for {equal}, got {found}"
        return found[0]

    async def dump(self) -> dict[str, list[dict[str, Any]]]:
        return {t.name: await self.rows(t) for t in PROJECTED_TABLES}
