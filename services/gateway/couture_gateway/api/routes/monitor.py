"""``GET /api/v2/monitor/health`` and ``GET /api/v2/version``: open to everyone, like Airflow's."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter
from sqlalchemy import select

from couture_common.topics import RUN
from couture_gateway.deps import GatewayDep, SessionDep
from couture_gateway.schemas.monitor import (
    BaseInfoResponse,
    DagProcessorInfoResponse,
    HealthInfoResponse,
    SchedulerInfoResponse,
    TriggererInfoResponse,
    VersionInfo,
)

router = APIRouter()

HEALTHY, UNHEALTHY = "healthy", "unhealthy"


@router.get("/monitor/health", tags=["Monitor"])
async def get_health(gateway: GatewayDep, conn: SessionDep) -> HealthInfoResponse:
    """``metadatabase`` is healthy when both the read models and the event log answer.

    The gateway sees no heartbeats of the scheduler or the parser, so their status is null
    (unknown) rather than a guess; Couture has no triggerer.
    """
    try:
        await conn.execute(select(1))
        await gateway.log.end_offsets(RUN)
        status = HEALTHY
    except Exception:
        status = UNHEALTHY
    return HealthInfoResponse(
        metadatabase=BaseInfoResponse(status=status),
        scheduler=SchedulerInfoResponse(status=None),
        triggerer=TriggererInfoResponse(status=None),
        dag_processor=DagProcessorInfoResponse(status=None),
    )


@router.get("/version", tags=["Version"])
async def get_version() -> VersionInfo:
    try:
        current = version("couture-workflow")
    except PackageNotFoundError:
        current = "0.0.0+unknown"
    return VersionInfo(version=current, git_version=None)
