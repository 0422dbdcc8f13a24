"""Couture: the DAG runs a DagOperator task instance triggered (a master DAG's zoom into its sub-DAG).

The executor records the triggering task on each run it requests (``triggered_by_task``:
``dag_id/run_id/task_id``); this finds them again, newest first, so the latest try's run leads.
Airflow's own view of the same link is the task instance's "Triggered DAG" extra link.
"""

from __future__ import annotations

from fastapi import APIRouter

from couture_gateway.api.access import only_readable
from couture_gateway.api.lookups import dag_row
from couture_gateway.api.rows import Row
from couture_gateway.api.runs import run_responses, triggered_by_task
from couture_gateway.deps import ReadableDags, SessionDep
from couture_gateway.readmodels.tables import dag_run
from couture_gateway.schemas.dag_runs import DAGRunCollectionResponse

router = APIRouter(tags=["DagRun (Couture)"])


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/triggeredDagRuns")
async def get_triggered_dag_runs(
    dag_id: str, dag_run_id: str, task_id: str, conn: SessionDep, readable: ReadableDags
) -> DAGRunCollectionResponse:
    """Runs of other DAGs this task instance triggered (any try), newest first; only readable DAGs' runs."""
    await dag_row(conn, dag_id)
    query = triggered_by_task(dag_id, dag_run_id, task_id).where(*only_readable(dag_run.c.dag_id, readable))
    rows: list[Row] = list((await conn.execute(query)).mappings())
    return DAGRunCollectionResponse(dag_runs=await run_responses(conn, rows), total_entries=len(rows))
