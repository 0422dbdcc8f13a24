"""Task-instance events of DAG ``etl`` for the stream processor tests, times in seconds after T0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from couture_common.events import Event, TaskInstanceFinished, TaskInstanceStarted

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def started(
    task_id: str, *, run_id: str = "r1", try_number: int = 1, at: float = 0, map_index: int = -1
) -> Event:
    return TaskInstanceStarted(
        dag_id="etl",
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        try_number=try_number,
        hostname="worker-1",
        pid=4242,
        executor_id="executor-1",
        start_date=T0 + timedelta(seconds=at),
    )


def finished(
    task_id: str,
    *,
    run_id: str = "r1",
    try_number: int = 1,
    at: float,
    state: str = "success",
    map_index: int = -1,
) -> Event:
    return TaskInstanceFinished(
        dag_id="etl",
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        try_number=try_number,
        state=state,  # type: ignore[arg-type]
        end_date=T0 + timedelta(seconds=at),
    )
