"""A task try: its identity, the result its process reports, and the event that result becomes."""

from __future__ import annotations

import signal
from datetime import datetime
from typing import Literal

import msgspec

from couture_common.events import ExecuteTask, KillTask, TaskInstanceFinished
from couture_common.events.run import TryOutcome

ResultState = Literal["success", "failed", "skipped"]


class TryKey(msgspec.Struct, frozen=True, order=True):
    """One try of one task instance; every event about a try names these five fields."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int

    @classmethod
    def of(cls, event: ExecuteTask | KillTask) -> TryKey:
        return cls(event.dag_id, event.run_id, event.task_id, event.map_index, event.try_number)

    def __str__(self) -> str:
        mapped = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"{self.dag_id}/{self.run_id}/{self.task_id}{mapped} try {self.try_number}"


class TryResult(msgspec.Struct, frozen=True, kw_only=True):
    """What the task process reports when its try ends (the SDK's TaskResult, on the wire)."""

    state: ResultState
    error: str | None = None
    #: Branch / short-circuit decisions: downstream task ids to skip.
    skip_downstream: tuple[str, ...] = ()
    skip_all_descendants: bool = False
    #: The failure must not be retried (AirflowFailException, a kill).
    no_retry: bool = False


def failure(error: str, *, no_retry: bool = False) -> TryResult:
    return TryResult(state="failed", error=error, no_retry=no_retry)


def next_state(result: TryResult, *, try_number: int, max_tries: int) -> TryOutcome:
    """The task instance's state after this try: a failure with tries left becomes ``up_for_retry``.

    ``max_tries`` is Airflow's (the number of retries), so try ``n`` is retried while ``n <= max_tries``.
    """
    if result.state != "failed":
        return result.state
    if not result.no_retry and try_number <= max_tries:
        return "up_for_retry"
    return "failed"


def finished_event(
    command: ExecuteTask,
    result: TryResult,
    *,
    start_date: datetime | None,
    end_date: datetime,
) -> TaskInstanceFinished:
    return TaskInstanceFinished(
        dag_id=command.dag_id,
        run_id=command.run_id,
        task_id=command.task_id,
        map_index=command.map_index,
        try_number=command.try_number,
        state=next_state(result, try_number=command.try_number, max_tries=command.max_tries),
        start_date=start_date,
        end_date=end_date,
        error=result.error,
        skip_downstream=result.skip_downstream if result.state == "success" else (),
        skip_all_descendants=result.skip_all_descendants and result.state == "success",
    )


def exit_description(returncode: int) -> str:
    """Why a task process ended without reporting a result, from its wait status."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"Task process was killed by {name} ({-returncode}) before it reported a result"
    return f"Task process exited with code {returncode} before it reported a result"
