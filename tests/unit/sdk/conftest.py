from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from couture_sdk.baseoperator import BaseOperator
from couture_sdk.compat import install_airflow_shim
from couture_sdk.context import build_context
from couture_sdk.dag import DagContext
from couture_sdk.execution import RenderedSink, TaskResult, execute_task
from couture_sdk.local_runtime import LocalRuntime
from couture_sdk.runtime import set_runtime

install_airflow_shim()

LOGICAL_DATE = datetime(2024, 3, 10, tzinfo=UTC)

RunTask = Callable[..., tuple[TaskResult, dict[str, Any]]]


@pytest.fixture(autouse=True)
def _no_open_dags() -> Iterator[None]:
    DagContext.reset()
    yield
    DagContext.reset()


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    local = LocalRuntime()
    set_runtime(local)
    yield local
    set_runtime(None)


@pytest.fixture
def run_task(runtime: LocalRuntime) -> RunTask:
    """Run one task the way a task process does: build its context, then execute it."""

    def run(
        task: BaseOperator,
        *,
        logical_date: datetime = LOGICAL_DATE,
        conf: dict[str, Any] | None = None,
        run_id: str = "scheduled__2024-03-10T00:00:00+00:00",
        external_trigger: bool = False,
        try_number: int = 1,
        on_rendered: RenderedSink | None = None,
    ) -> tuple[TaskResult, dict[str, Any]]:
        runtime.start_task(task.dag_id, run_id, task.task_id)
        context = build_context(
            task.dag,
            task,
            run_id=run_id,
            run_type="manual" if external_trigger else "scheduled",
            logical_date=logical_date,
            data_interval_start=logical_date,
            data_interval_end=logical_date + timedelta(days=1),
            conf=conf,
            try_number=try_number,
            max_tries=task.retries,
            external_trigger=external_trigger,
        )
        return execute_task(task, context, on_rendered), context

    return run
