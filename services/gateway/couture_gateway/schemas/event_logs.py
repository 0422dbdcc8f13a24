from __future__ import annotations

from datetime import datetime

from couture_gateway.schemas.common import ApiModel


class EventLogResponse(ApiModel):
    event_log_id: int
    when: datetime
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    map_index: int | None = None
    try_number: int | None = None
    event: str
    logical_date: datetime | None = None
    owner: str | None = None
    extra: str | None = None
    dag_display_name: str | None = None
    task_display_name: str | None = None


class EventLogCollectionResponse(ApiModel):
    event_logs: list[EventLogResponse]
    total_entries: int
