"""Task-duration statistics: given these task-instance events, the statistics the gateway shows."""

from __future__ import annotations

import pytest

from couture_common.events import DagRunStarted, Event, TaskInstanceStarted
from couture_gateway.readmodels.fold.durations import DagDurations, apply
from tests.unit.streams.events import T0, finished, started


def fold(events: list[Event]) -> DagDurations | None:
    stats = None
    for event in events:
        stats = apply(stats, event)
    return stats


def test_a_finished_try_counts_the_seconds_from_its_start_to_its_end() -> None:
    stats = fold([started("extract", at=10), finished("extract", at=12.5)])

    assert stats is not None
    task = stats.tasks["extract"]
    assert (task.count, task.last_seconds, task.mean_seconds) == (1, 2.5, 2.5)
    assert task.outcomes == {"success": 1}
    assert task.running == ()


def test_retries_and_runs_add_up_per_task() -> None:
    stats = fold(
        [
            started("load", run_id="r1", try_number=1, at=0),
            finished("load", run_id="r1", try_number=1, at=2, state="up_for_retry"),
            started("load", run_id="r1", try_number=2, at=10),
            finished("load", run_id="r1", try_number=2, at=14),
            started("load", run_id="r2", at=100),
            finished("load", run_id="r2", at=103),
            started("extract", run_id="r2", at=100),
        ]
    )

    assert stats is not None
    load = stats.tasks["load"]
    assert (load.count, load.total_seconds, load.min_seconds, load.max_seconds) == (3, 9.0, 2.0, 4.0)
    assert load.mean_seconds == 3.0
    assert load.last_seconds == 3.0
    assert load.outcomes == {"up_for_retry": 1, "success": 2}
    extract = stats.tasks["extract"]
    assert extract.count == 0
    assert extract.mean_seconds is None
    assert [(t.run_id, t.try_number) for t in extract.running] == [("r2", 1)]


def test_an_event_delivered_twice_is_counted_once() -> None:
    events = [started("extract", at=0), finished("extract", at=4)]

    twice = fold([events[0], events[0], events[1], events[1]])

    assert twice == fold(events)


def test_a_try_that_never_started_has_no_duration() -> None:
    stats = fold([finished("extract", at=4, state="failed")])

    assert stats == DagDurations(dag_id="etl")


def test_mapped_instances_are_separate_tries() -> None:
    stats = fold(
        [
            started("square", map_index=0, at=0),
            started("square", map_index=1, at=0),
            finished("square", map_index=1, at=3),
            finished("square", map_index=0, at=5),
        ]
    )

    assert stats is not None
    square = stats.tasks["square"]
    assert (square.count, square.min_seconds, square.max_seconds) == (2, 3.0, 5.0)


def test_other_events_leave_the_statistics_as_they_are() -> None:
    stats = fold([started("extract", at=0)])

    assert apply(stats, DagRunStarted(dag_id="etl", run_id="r1")) is stats
    assert apply(None, DagRunStarted(dag_id="etl", run_id="r1")) is None


def test_statistics_of_one_dag_refuse_another_dags_events() -> None:
    stats = fold([started("extract", at=0)])
    other = TaskInstanceStarted(
        dag_id="billing",
        run_id="r1",
        task_id="extract",
        try_number=1,
        hostname="worker-1",
        pid=1,
        executor_id="executor-1",
        start_date=T0,
    )

    with pytest.raises(ValueError, match="'etl' cannot take an event of DAG 'billing'"):
        apply(stats, other)
