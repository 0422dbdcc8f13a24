"""``GET /api/v2/dagStats``: per DAG, how many runs are in each state."""

from __future__ import annotations

from typing import Annotated, get_args

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from couture_gateway.api.access import only_readable
from couture_gateway.deps import ReadableDags, SessionDep
from couture_gateway.readmodels import tables as t
from couture_gateway.schemas.dag_runs import DagRunState
from couture_gateway.schemas.dag_stats import (
    DagStatsCollectionResponse,
    DagStatsResponse,
    DagStatsStateResponse,
)

router = APIRouter(tags=["DagStats"])

_STATES: tuple[DagRunState, ...] = get_args(DagRunState)


@router.get("/dagStats")
async def get_dag_stats(
    conn: SessionDep, readable: ReadableDags, dag_ids: Annotated[list[str] | None, Query()] = None
) -> DagStatsCollectionResponse:
    """Every state is listed for every DAG, with 0 where it has no run in it (as Airflow does)."""
    dags_query = select(t.dag.c.dag_id).where(t.dag.c.is_active.is_(True)).order_by(t.dag.c.dag_id)
    counts_query = select(t.dag_run.c.dag_id, t.dag_run.c.state, func.count()).group_by(
        t.dag_run.c.dag_id, t.dag_run.c.state
    )
    if dag_ids:
        dags_query = dags_query.where(t.dag.c.dag_id.in_(dag_ids))
        counts_query = counts_query.where(t.dag_run.c.dag_id.in_(dag_ids))
    dags_query = dags_query.where(*only_readable(t.dag.c.dag_id, readable))
    counts_query = counts_query.where(*only_readable(t.dag_run.c.dag_id, readable))
    dag_list = list((await conn.execute(dags_query)).scalars())
    counts = {(dag_id, state): n for dag_id, state, n in await conn.execute(counts_query)}
    dags = [
        DagStatsResponse(
            dag_id=dag_id,
            dag_display_name=dag_id,
            stats=[DagStatsStateResponse(state=s, count=counts.get((dag_id, s), 0)) for s in _STATES],
        )
        for dag_id in dag_list
    ]
    return DagStatsCollectionResponse(dags=dags, total_entries=len(dags))
