"""The running task instance and DAG run as a task sees them (``ti``, ``dag_run`` in the context)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from couture_sdk.runtime import current_runtime

if TYPE_CHECKING:
    from couture_sdk.baseoperator import BaseOperator

XCOM_RETURN_KEY = "return_value"


@dataclass
class DagRun:
    dag_id: str
    run_id: str
    run_type: str
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    external_trigger: bool
    conf: dict[str, Any] = field(default_factory=dict)

    @property
    def execution_date(self) -> datetime:
        return self.logical_date

    def __repr__(self) -> str:
        return (
            f"<DagRun {self.dag_id} @ {self.logical_date.isoformat()}: {self.run_id}, "
            f"externally triggered: {self.external_trigger}>"
        )


class TaskInstance:
    """One try of one task in one DAG run. XComs go through the task process's runtime."""

    def __init__(
        self,
        task: BaseOperator,
        *,
        run_id: str,
        logical_date: datetime,
        try_number: int,
        max_tries: int,
    ) -> None:
        self.task = task
        self.dag_id = task.dag_id
        self.task_id = task.task_id
        self.run_id = run_id
        self.logical_date = logical_date
        self.try_number = try_number
        self.max_tries = max_tries
        self.map_index = -1
        self.state = "running"
        #: Set by branching operators: direct downstream tasks to skip.
        self.skip_downstream: tuple[str, ...] = ()
        #: Set by ShortCircuitOperator: skip every descendant regardless of trigger rules.
        self.skip_all_descendants = False

    @property
    def execution_date(self) -> datetime:
        return self.logical_date

    def __repr__(self) -> str:
        return f"<TaskInstance: {self.dag_id}.{self.task_id} {self.run_id} [{self.state}]>"

    def xcom_push(self, key: str, value: Any, execution_date: datetime | None = None) -> None:
        if not isinstance(key, str) or not key:
            raise TypeError(f"XCom key of task '{self.task_id}' must be a non-empty string, got {key!r}")
        if execution_date is not None:
            raise ValueError("xcom_push does not take execution_date: XComs belong to the running DAG run")
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"XCom {key!r} of task '{self.task_id}' must be JSON-serialisable: {exc}"
            ) from None
        current_runtime().xcom_push(key, value)

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        dag_id: str | None = None,
        key: str | None = XCOM_RETURN_KEY,
        include_prior_dates: bool = False,
        default: Any = None,
    ) -> Any:
        """Airflow's rules: one task id (or None, meaning any task) gives one value, the most
        recent; a list of task ids gives a list in the same order.

        ``key=None`` reads ``return_value``: the runtime filters by one key, and every seed
        example that passes None means the returned value.
        """
        single = task_ids is None or isinstance(task_ids, str)
        ids = None if task_ids is None else [task_ids] if isinstance(task_ids, str) else list(task_ids)
        values = current_runtime().xcom_pull(
            dag_id=dag_id or self.dag_id,
            run_id=self.run_id,
            task_ids=ids,
            key=key if key is not None else XCOM_RETURN_KEY,
            include_prior_dates=include_prior_dates,
        )
        if not single:
            return values
        return next((value for value in values if value is not None), default)
