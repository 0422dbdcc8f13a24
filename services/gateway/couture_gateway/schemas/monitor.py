from __future__ import annotations

from couture_gateway.schemas.common import ApiModel


class BaseInfoResponse(ApiModel):
    status: str | None


class SchedulerInfoResponse(BaseInfoResponse):
    latest_scheduler_heartbeat: str | None = None


class TriggererInfoResponse(BaseInfoResponse):
    latest_triggerer_heartbeat: str | None = None


class DagProcessorInfoResponse(BaseInfoResponse):
    latest_dag_processor_heartbeat: str | None = None


class HealthInfoResponse(ApiModel):
    metadatabase: BaseInfoResponse
    scheduler: SchedulerInfoResponse
    triggerer: TriggererInfoResponse
    dag_processor: DagProcessorInfoResponse | None = None


class VersionInfo(ApiModel):
    version: str
    git_version: str | None = None
