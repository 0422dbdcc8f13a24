"""DagOperator: the seed's "master DAG" task, which triggers a run of another DAG.

``python_callable(context, dag_run_obj)`` decides: returning the object (with its ``payload``
set) triggers ``run_dag_id`` with that payload as the run's conf; returning None triggers nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from couture_sdk import _validation as v
from couture_sdk.baseoperator import BaseOperator
from couture_sdk.runtime import current_runtime


@dataclass
class DagRunOrder:
    run_id: str | None = None
    payload: dict[str, Any] | None = field(default=None)


class DagOperator(BaseOperator):
    template_fields: ClassVar[tuple[str, ...]] = ("run_dag_id",)
    ui_color: ClassVar[str] = "#ffefeb"

    def __init__(
        self,
        *,
        run_dag_id: str,
        python_callable: Callable[[dict[str, Any], DagRunOrder], DagRunOrder | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = f"task '{self.task_id}'"
        self.run_dag_id = v.check_key(run_dag_id, field=f"run_dag_id of {who}")
        if python_callable is not None and not callable(python_callable):
            raise TypeError(
                f"python_callable of {who} must be callable, got {type(python_callable).__name__}"
            )
        self.python_callable = python_callable

    def execute(self, context: dict[str, Any]) -> None:
        order: DagRunOrder | None = DagRunOrder()
        if self.python_callable is not None:
            order = self.python_callable(context, DagRunOrder())
        if order is None:
            print(f"Condition not met: {self.run_dag_id} is not triggered", flush=True)
            return
        if not isinstance(order, DagRunOrder):
            raise TypeError(
                f"python_callable of {self} must return the dag_run_obj it was given or None, "
                f"got {type(order).__name__}"
            )
        payload = order.payload if order.payload is not None else {}
        if not isinstance(payload, dict):
            raise TypeError(f"dag_run_obj.payload of {self} must be a dict, got {type(payload).__name__}")
        run_id = current_runtime().trigger_dag_run(self.run_dag_id, payload, order.run_id)
        print(f"Triggered {self.run_dag_id}: run {run_id}", flush=True)
        context["ti"].xcom_push("trigger_run_id", run_id)

    def spec_extra(self) -> dict[str, Any]:
        return {"run_dag_id": self.run_dag_id}
