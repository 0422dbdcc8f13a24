"""Given a try's result, which TaskInstanceFinished the executor appends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from couture_common.events import ExecuteTask
from couture_executor.domain.tries import TryResult, exit_description, failure, finished_event, next_state

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 1, 1, 0, 1, tzinfo=UTC)


def command(try_number: int = 1, max_tries: int = 0) -> ExecuteTask:
    return ExecuteTask(
        dag_id="etl",
        run_id="manual__2024-01-01T00:00:00+00:00",
        task_id="load",
        try_number=try_number,
        max_tries=max_tries,
        dag_version="ab" * 32,
        fileloc="/dags/etl.py",
        run_type="manual",
        logical_date=T0,
        data_interval_start=T0,
        data_interval_end=T0,
    )


@pytest.mark.parametrize(
    ("try_number", "max_tries", "no_retry", "expected"),
    [
        (1, 0, False, "failed"),
        (1, 1, False, "up_for_retry"),
        (2, 1, False, "failed"),
        (3, 5, False, "up_for_retry"),
        (1, 3, True, "failed"),
    ],
)
def test_a_failure_is_retried_while_tries_are_left(
    try_number: int, max_tries: int, no_retry: bool, expected: str
) -> None:
    result = failure("boom", no_retry=no_retry)
    assert next_state(result, try_number=try_number, max_tries=max_tries) == expected


@pytest.mark.parametrize("state", ["success", "skipped"])
def test_success_and_skip_are_final_whatever_the_tries(state: str) -> None:
    result = TryResult(state=state)  # type: ignore[arg-type]
    assert next_state(result, try_number=1, max_tries=3) == state


def test_a_branch_decision_travels_with_the_success() -> None:
    result = TryResult(state="success", skip_downstream=("b", "c"), skip_all_descendants=False)
    event = finished_event(command(), result, start_date=T0, end_date=T1)
    assert event.state == "success"
    assert event.skip_downstream == ("b", "c")
    assert (event.dag_id, event.run_id, event.task_id, event.try_number) == (
        "etl",
        "manual__2024-01-01T00:00:00+00:00",
        "load",
        1,
    )
    assert (event.start_date, event.end_date) == (T0, T1)


def test_a_short_circuit_skips_all_descendants() -> None:
    result = TryResult(state="success", skip_all_descendants=True)
    assert finished_event(command(), result, start_date=T0, end_date=T1).skip_all_descendants


def test_a_failed_try_skips_nothing_downstream() -> None:
    result = TryResult(state="failed", error="boom", skip_downstream=("b",), skip_all_descendants=True)
    event = finished_event(command(try_number=2, max_tries=1), result, start_date=T0, end_date=T1)
    assert event.state == "failed"
    assert event.error == "boom"
    assert event.skip_downstream == ()
    assert not event.skip_all_descendants


def test_a_failure_with_retries_left_is_up_for_retry() -> None:
    event = finished_event(command(try_number=1, max_tries=2), failure("boom"), start_date=T0, end_date=T1)
    assert event.state == "up_for_retry"


def test_a_process_killed_by_a_signal_names_the_signal() -> None:
    assert exit_description(-9) == "Task process was killed by SIGKILL (9) before it reported a result"
    assert exit_description(3) == "Task process exited with code 3 before it reported a result"
