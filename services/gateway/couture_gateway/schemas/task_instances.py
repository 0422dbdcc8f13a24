from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, field_validator

from couture_gateway.schemas.common import ApiModel, RequestBody
from couture_gateway.schemas.dags import DagVersionResponse

TaskInstanceState = Literal[
    "removed",
    "scheduled",
    "queued",
    "running",
    "success",
    "restarting",
    "failed",
    "up_for_retry",
    "up_for_reschedule",
    "upstream_failed",
    "skipped",
    "deferred",
    "awaiting_input",
]


class TaskInstanceHistoryResponse(ApiModel):
    task_id: str
    dag_id: str
    dag_run_id: str
    map_index: int
    start_date: datetime | None = None
    end_date: datetime | None = None
    duration: float | None = None
    state: TaskInstanceState | None = None
    try_number: int
    max_tries: int
    task_display_name: str
    dag_display_name: str
    hostname: str | None = None
    unixname: str | None = None
    pool: str
    pool_slots: int
    queue: str | None = None
    priority_weight: int | None = None
    operator: str | None = None
    operator_name: str | None = None
    queued_when: datetime | None = None
    scheduled_when: datetime | None = None
    pid: int | None = None
    executor: str | None = None
    executor_config: str
    dag_version: DagVersionResponse | None = None
    rendered_fields: dict[str, Any] | None = Field(
        default=None,
        description="Template fields as the try rendered them, secrets masked and each field capped at 4096 "
        "characters; null before the try rendered. Given by the task-instance and try endpoints (Couture "
        "adds them to each try); null in lists, which the UI polls and which would carry every field.",
    )


class TaskInstanceResponse(TaskInstanceHistoryResponse):
    id: UUID
    logical_date: datetime | None = None
    run_after: datetime
    note: str | None = None
    rendered_map_index: str | None = None
    trigger: None = None
    triggerer_job: None = None


class ExtraLinkCollectionResponse(ApiModel):
    """Link name -> URL (null while there is nothing to link to yet)."""

    extra_links: dict[str, str | None]
    total_entries: int


class TaskInstanceCollectionResponse(ApiModel):
    task_instances: list[TaskInstanceResponse]
    total_entries: int


class ClearTaskInstanceCollectionResponse(ApiModel):
    """The task instances a clear resets (or would, with ``dry_run``)."""

    task_instances: list[TaskInstanceResponse]
    total_entries: int


class TaskInstanceHistoryCollectionResponse(ApiModel):
    task_instances: list[TaskInstanceHistoryResponse]
    total_entries: int


class StructuredLogMessage(ApiModel):
    """One log line; structured logs carry more keys (``level``, ``logger``...), kept as they are."""

    model_config = ConfigDict(extra="allow")

    timestamp: datetime | None = None
    event: str


class TaskInstancesLogResponse(ApiModel):
    content: list[StructuredLogMessage] | list[str]
    continuation_token: str | None = None


class PatchTaskInstanceBody(RequestBody):
    new_state: Literal["success", "failed", "skipped"] | None = None
    note: str | None = Field(default=None, max_length=1000)
    include_upstream: bool = False
    include_downstream: bool = False
    include_future: bool = False
    include_past: bool = False


class ClearTaskInstancesBody(RequestBody):
    dry_run: bool = True
    start_date: datetime | None = None
    end_date: datetime | None = None
    only_failed: bool = True
    only_running: bool = False
    reset_dag_runs: bool = True
    task_ids: list[str] | None = Field(default=None, min_length=1)
    dag_run_id: str | None = None
    include_upstream: bool = False
    include_downstream: bool = False
    include_future: bool = False
    include_past: bool = False
    run_on_latest_version: bool = False
    prevent_running_task: bool = False
    note: str | None = Field(default=None, max_length=1000)

    @field_validator("task_ids", mode="before")
    @classmethod
    def _plain_task_ids(cls, value: object) -> object:
        # Airflow also accepts [task_id, map_index] pairs; tasks here are never mapped, so a pair
        # names its task.
        if isinstance(value, list):
            return [v[0] if isinstance(v, list) and len(v) == 2 else v for v in value]
        return value


class TaskInstancesBatchBody(RequestBody):
    dag_ids: list[str] | None = None
    dag_run_ids: list[str] | None = None
    task_ids: list[str] | None = None
    state: list[TaskInstanceState | None] | None = None
    pool: list[str] | None = None
    queue: list[str] | None = None
    executor: list[str] | None = None
    order_by: str | None = None
    page_offset: int = Field(default=0, ge=0)
    page_limit: int = Field(default=100, ge=0, le=100)
    run_after_gte: datetime | None = None
    run_after_gt: datetime | None = None
    run_after_lte: datetime | None = None
    run_after_lt: datetime | None = None
    logical_date_gte: datetime | None = None
    logical_date_gt: datetime | None = None
    logical_date_lte: datetime | None = None
    logical_date_lt: datetime | None = None
    start_date_gte: datetime | None = None
    start_date_gt: datetime | None = None
    start_date_lte: datetime | None = None
    start_date_lt: datetime | None = None
    end_date_gte: datetime | None = None
    end_date_gt: datetime | None = None
    end_date_lte: datetime | None = None
    end_date_lt: datetime | None = None
