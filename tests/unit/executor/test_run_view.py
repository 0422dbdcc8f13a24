"""What xcom_pull answers and which tries count as finished, given the run topic's events."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from couture_common.events import (
    DagRunCreated,
    DagRunDeleted,
    DagRunFinished,
    TaskInstanceFinished,
    TaskInstancesCleared,
    TaskInstanceStarted,
    XComPushed,
)
from couture_executor.domain.run_view import RunView, XComsEvictedError
from couture_executor.domain.tries import TryKey

T0 = datetime(2024, 1, 1, tzinfo=UTC)
RUN = "scheduled__2024-01-01T00:00:00+00:00"


def xcom(
    task_id: str,
    value: str,
    *,
    key: str = "return_value",
    try_number: int = 1,
    run_id: str = RUN,
    map_index: int = -1,
) -> XComPushed:
    return XComPushed(
        dag_id="etl",
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        try_number=try_number,
        key=key,
        value=value,
    )


def started(task_id: str, try_number: int) -> TaskInstanceStarted:
    return TaskInstanceStarted(
        dag_id="etl",
        run_id=RUN,
        task_id=task_id,
        try_number=try_number,
        hostname="h",
        pid=1,
        executor_id="e",
        start_date=T0,
    )


def created(run_id: str, logical_date: datetime) -> DagRunCreated:
    return DagRunCreated(
        dag_id="etl",
        run_id=run_id,
        run_type="scheduled",
        logical_date=logical_date,
        data_interval_start=logical_date,
        data_interval_end=logical_date,
        dag_version="v",
    )


def view_of(*events: object) -> RunView:
    view = RunView(retention=timedelta(hours=24))
    for event in events:
        view.apply(event, T0)  # type: ignore[arg-type]
    return view


def pull(
    view: RunView, task_ids: list[str] | None, key: str = "return_value", **kw: object
) -> list[str | None]:
    return view.pull(dag_id="etl", run_id=RUN, task_ids=task_ids, key=key, **kw)  # type: ignore[arg-type]


def test_pull_answers_per_task_in_order_with_none_where_absent() -> None:
    view = view_of(xcom("a", '"x"'), xcom("b", "[1, 2]"))
    assert pull(view, ["b", "missing", "a"]) == ["[1, 2]", None, '"x"']


def test_pull_without_task_ids_answers_every_task_with_the_key_in_push_order() -> None:
    view = view_of(xcom("b", "2"), xcom("a", "1"), xcom("c", "3", key="other"))
    assert pull(view, None) == ["2", "1"]


def test_a_new_try_drops_the_xcoms_of_earlier_tries() -> None:
    view = view_of(xcom("a", "1", try_number=1), started("a", 2))
    assert pull(view, ["a"]) == [None]
    view.apply(xcom("a", "2", try_number=2), T0)
    view.apply(xcom("a", "stale", try_number=1), T0)
    assert pull(view, ["a"]) == ["2"]


def test_applying_an_event_twice_changes_nothing() -> None:
    view = view_of(xcom("a", "1"), xcom("b", "2"), xcom("a", "1"))
    assert pull(view, None) == ["1", "2"]


def test_mapped_task_values_come_back_as_a_list_by_map_index() -> None:
    view = view_of(xcom("m", '"one"', map_index=1), xcom("m", '"zero"', map_index=0))
    assert pull(view, ["m"]) == ['["zero","one"]']


def test_include_prior_dates_falls_back_to_the_latest_earlier_run() -> None:
    earlier, earliest = "scheduled__2023-12-31", "scheduled__2023-12-30"
    view = view_of(
        created(earliest, T0 - timedelta(days=2)),
        created(earlier, T0 - timedelta(days=1)),
        created(RUN, T0),
        xcom("a", '"old"', run_id=earliest),
        xcom("a", '"newer"', run_id=earlier),
    )
    assert pull(view, ["a"]) == [None]
    assert pull(view, ["a"], include_prior_dates=True) == ['"newer"']


def test_finished_tries_are_known_from_the_log_and_from_this_executor() -> None:
    finished = TaskInstanceFinished(
        dag_id="etl", run_id=RUN, task_id="a", try_number=1, state="success", end_date=T0
    )
    view = view_of(finished)
    assert view.is_finished(TryKey("etl", RUN, "a", -1, 1))
    assert not view.is_finished(TryKey("etl", RUN, "a", -1, 2))
    view.record_finished(TryKey("etl", RUN, "a", -1, 2))
    assert view.is_finished(TryKey("etl", RUN, "a", -1, 2))


def test_runs_finished_longer_ago_than_the_retention_are_evicted_and_their_pulls_refused() -> None:
    view = view_of(xcom("a", "1"), xcom("a", "2", run_id="live"))
    view.apply(DagRunFinished(dag_id="etl", run_id=RUN, state="success"), T0)
    assert view.evict(T0 + timedelta(hours=23)) == 0
    assert pull(view, ["a"]) == ["1"]
    assert view.evict(T0 + timedelta(hours=24)) == 1
    assert len(view) == 1
    with pytest.raises(
        XComsEvictedError,
        match=re.escape(
            f"XComs of run etl/{RUN} are no longer held by this executor: the run finished more than 24 h ago"
        ),
    ):
        pull(view, ["a"])
    assert view.pull(dag_id="etl", run_id="live", task_ids=["a"], key="return_value") == ["2"]


def test_a_cleared_run_is_not_evicted() -> None:
    view = view_of(xcom("a", "1"), DagRunFinished(dag_id="etl", run_id=RUN, state="failed"))
    view.apply(TaskInstancesCleared(dag_id="etl", run_id=RUN, task_ids=("a",)), T0)
    assert view.evict(T0 + timedelta(days=3)) == 0
    assert pull(view, ["a"]) == ["1"]


def test_a_deleted_run_is_forgotten_at_once() -> None:
    view = view_of(xcom("a", "1"), DagRunDeleted(dag_id="etl", run_id=RUN))
    assert len(view) == 0
    with pytest.raises(XComsEvictedError):
        pull(view, ["a"])
