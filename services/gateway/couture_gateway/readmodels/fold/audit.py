"""The ``event_log`` entries: user-visible actions, as Airflow's audit log shows them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from couture_gateway.readmodels.fold.context import Context
from couture_gateway.readmodels.rowset import RowSet
from couture_gateway.readmodels.tables import event_log


def record(
    rows: RowSet,
    ctx: Context,
    event: str,
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    map_index: int | None = None,
    try_number: int | None = None,
    logical_date: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Add one entry. ``extra`` holds details shown to auditors, so it must never hold a secret."""
    rows.append(
        event_log,
        {
            "event_log_id": ctx.position_id,
            "event_id": ctx.event_id,
            "when": ctx.time,
            "dag_id": dag_id,
            "task_id": task_id,
            "run_id": run_id,
            "map_index": map_index,
            "try_number": try_number,
            "logical_date": logical_date,
            "event": event,
            "owner": ctx.user or ctx.actor,
            "extra": json.dumps(extra, sort_keys=True, default=str) if extra else None,
        },
    )
