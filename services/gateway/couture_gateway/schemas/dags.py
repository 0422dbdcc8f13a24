from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from couture_gateway.schemas.common import ApiModel, RequestBody

DagRunType = Literal[
    "backfill", "scheduled", "manual", "operator_triggered", "asset_triggered", "asset_materialization"
]


class DagTagResponse(ApiModel):
    name: str
    dag_id: str
    dag_display_name: str


class DagVersionResponse(ApiModel):
    id: UUID
    version_number: int
    dag_id: str
    dag_display_name: str
    bundle_name: str | None = None
    bundle_version: str | None = None
    bundle_url: str | None = None
    created_at: datetime


class DAGResponse(ApiModel):
    dag_id: str
    dag_display_name: str
    is_paused: bool
    is_stale: bool
    last_parsed_time: datetime | None = None
    last_parse_duration: float | None = None
    last_expired: datetime | None = None
    bundle_name: str | None = None
    bundle_version: str | None = None
    relative_fileloc: str | None = None
    fileloc: str
    description: str | None = None
    timetable_summary: str | None = None
    timetable_description: str | None = None
    timetable_periodic: bool
    timetable_partitioned: bool
    allowed_run_types: list[DagRunType] | None = None
    tags: list[DagTagResponse]
    max_active_tasks: int
    max_active_runs: int | None = None
    max_consecutive_failed_dag_runs: int
    has_task_concurrency_limits: bool
    has_import_errors: bool
    is_backfillable: bool
    next_dagrun_logical_date: datetime | None = None
    next_dagrun_data_interval_start: datetime | None = None
    next_dagrun_data_interval_end: datetime | None = None
    next_dagrun_run_after: datetime | None = None
    owners: list[str]
    file_token: str


class DAGDetailsResponse(DAGResponse):
    catchup: bool
    #: ISO 8601 duration (``PT1H``).
    dag_run_timeout: timedelta | None = None
    asset_expression: dict[str, Any] | None = None
    doc_md: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    is_paused_upon_creation: bool | None = None
    params: dict[str, Any] | None = None
    render_template_as_native_obj: bool
    template_search_path: list[str] | None = None
    timezone: str | None = None
    last_parsed: datetime | None = None
    default_args: dict[str, Any] | None = None
    owner_links: dict[str, str] | None = None
    is_favorite: bool | None = None
    active_runs_count: int | None = None
    latest_dag_version: DagVersionResponse | None = None
    concurrency: int


class DAGCollectionResponse(ApiModel):
    dags: list[DAGResponse]
    total_entries: int


class DAGPatchBody(RequestBody):
    is_paused: bool


class DAGTagCollectionResponse(ApiModel):
    tags: list[str]
    total_entries: int


class DAGVersionCollectionResponse(ApiModel):
    dag_versions: list[DagVersionResponse]
    total_entries: int
