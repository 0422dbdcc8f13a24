"""EmptyOperator: a node in the graph that does nothing; the scheduler completes it itself."""

from __future__ import annotations

from typing import Any, ClassVar

from couture_sdk.baseoperator import BaseOperator


class EmptyOperator(BaseOperator):
    ui_color: ClassVar[str] = "#e8f7e4"
    is_empty: ClassVar[bool] = True

    def execute(self, context: dict[str, Any]) -> None:
        return None


class DummyOperator(EmptyOperator):
    """Airflow 1.10's name for :class:`EmptyOperator`."""
