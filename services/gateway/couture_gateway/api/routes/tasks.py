"""The tasks of a DAG's newest parsed version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status

from couture_gateway.api.lookups import dag_row, dag_spec, task_of
from couture_gateway.api.rows import task_response
from couture_gateway.deps import SessionDep
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.tasks import TaskCollectionResponse, TaskResponse

router = APIRouter(tags=["Task"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": HTTPExceptionResponse}}
_SORTABLE = {"task_id", "operator_name", "owner", "pool", "queue", "priority_weight", "retries", "start_date"}


@router.get("/dags/{dag_id}/tasks", responses={**_NOT_FOUND, 400: {"model": HTTPExceptionResponse}})
async def get_tasks(dag_id: str, conn: SessionDep, order_by: str = "task_id") -> TaskCollectionResponse:
    spec, _ = await dag_spec(conn, await dag_row(conn, dag_id))
    field = order_by.lstrip("-")
    if field not in _SORTABLE:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"Ordering with '{field}' is disallowed or the attribute does not exist on the model",
        )
    tasks = [task_response(spec, task) for task in spec.tasks]

    def key(task: TaskResponse) -> tuple[bool, Any]:
        # Missing values sort first ascending, last descending; present ones compare among themselves.
        value = getattr(task, field)
        return (value is not None, value if value is not None else 0)

    tasks.sort(key=key, reverse=order_by.startswith("-"))
    return TaskCollectionResponse(tasks=tasks, total_entries=len(tasks))


@router.get("/dags/{dag_id}/tasks/{task_id}", responses=_NOT_FOUND)
async def get_task(dag_id: str, task_id: str, conn: SessionDep) -> TaskResponse:
    spec, _ = await dag_spec(conn, await dag_row(conn, dag_id))
    return task_response(spec, task_of(spec, task_id))
