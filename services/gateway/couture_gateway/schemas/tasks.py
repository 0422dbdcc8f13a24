from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from couture_gateway.schemas.common import ApiModel


class TimeDelta(ApiModel):
    type: str = Field(default="TimeDelta", alias="__type")
    days: int
    seconds: int
    microseconds: int

    @classmethod
    def from_seconds(cls, seconds: float) -> TimeDelta:
        whole = int(seconds)
        return cls(
            days=whole // 86400,
            seconds=whole % 86400,
            microseconds=round((seconds - whole) * 1_000_000),
        )


class TaskResponse(ApiModel):
    task_id: str | None
    task_display_name: str | None
    owner: str | None
    start_date: datetime | None = None
    end_date: datetime | None = None
    trigger_rule: str | None
    depends_on_past: bool
    wait_for_downstream: bool
    retries: int | None
    queue: str | None
    pool: str | None
    pool_slots: int | None
    execution_timeout: TimeDelta | None = None
    retry_delay: TimeDelta | None = None
    retry_exponential_backoff: float
    priority_weight: int | None
    weight_rule: str | None
    ui_color: str | None
    ui_fgcolor: str | None
    template_fields: list[str] | None
    downstream_task_ids: list[str] | None
    doc_md: str | None = None
    operator_name: str | None
    params: dict[str, Any] | None = None
    class_ref: dict[str, Any] | None = None
    is_mapped: bool | None = False
    extra_links: list[str]
    couture_run_dag_id: str | None = Field(
        default=None,
        description="Couture: the DAG a DagOperator task triggers (its ``run_dag_id``); null for other "
        "operators. The runs it triggered: ``GET /api/couture/dags/{dag_id}/dagRuns/{dag_run_id}"
        "/taskInstances/{task_id}/triggeredDagRuns``.",
    )


class TaskCollectionResponse(ApiModel):
    tasks: list[TaskResponse]
    total_entries: int
