from __future__ import annotations

from datetime import datetime

from couture_gateway.schemas.common import ApiModel


class SlaMissResponse(ApiModel):
    """A task instance that had not succeeded by its deadline (the logical interval's end + ``sla``)."""

    dag_id: str
    dag_run_id: str
    task_id: str
    map_index: int
    logical_date: datetime
    deadline: datetime
    #: When the scheduler noticed the miss.
    timestamp: datetime


class SlaMissCollectionResponse(ApiModel):
    sla_misses: list[SlaMissResponse]
    total_entries: int
