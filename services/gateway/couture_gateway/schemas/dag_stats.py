from __future__ import annotations

from couture_gateway.schemas.common import ApiModel
from couture_gateway.schemas.dag_runs import DagRunState


class DagStatsStateResponse(ApiModel):
    state: DagRunState
    count: int


class DagStatsResponse(ApiModel):
    dag_id: str
    dag_display_name: str
    stats: list[DagStatsStateResponse]


class DagStatsCollectionResponse(ApiModel):
    dags: list[DagStatsResponse]
    total_entries: int
