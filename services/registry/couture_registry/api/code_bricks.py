"""Code bricks: the snippet library of the DAG editor."""

# No ``from __future__ import annotations``: FastAPI must see the route signatures evaluated,
# since they name dependencies that exist only inside the router factory.

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from couture_common.clock import utcnow
from couture_registry.api.errors import invalid, not_found
from couture_registry.api.schemas import CodeBrickIn, CodeBrickList, CodeBrickOut
from couture_registry.code_bricks import (
    CodeBrick,
    CodeBrickNotFoundError,
    CodeBrickStore,
    InvalidCodeBrickError,
)


def code_bricks_router(
    store: CodeBrickStore, *, can_read: Callable[..., Any], can_edit: Callable[..., Any]
) -> APIRouter:
    """``can_edit`` returns the actor (``user:<name>``) recorded as a new brick's author."""
    router = APIRouter(prefix="/code-bricks", tags=["Code bricks"])
    Editor = Annotated[str, Depends(can_edit)]

    @router.get("", dependencies=[Depends(can_read)])
    async def list_code_bricks() -> CodeBrickList:
        bricks = [_out(brick) for brick in await store.all()]
        return CodeBrickList(code_bricks=bricks, total_entries=len(bricks))

    @router.get("/{brick_id}", dependencies=[Depends(can_read)])
    async def get_code_brick(brick_id: str) -> CodeBrickOut:
        try:
            return _out(await store.get(brick_id))
        except CodeBrickNotFoundError:
            raise not_found(f"code brick {brick_id} does not exist") from None

    @router.post("", status_code=status.HTTP_201_CREATED)
    async def add_code_brick(body: CodeBrickIn, actor: Editor) -> CodeBrickOut:
        try:
            return _out(await store.add(title=body.title, code=body.code, actor=actor, now=utcnow()))
        except InvalidCodeBrickError as error:
            raise invalid(["body", error.field], str(error)) from None

    @router.put("/{brick_id}")
    async def update_code_brick(brick_id: str, body: CodeBrickIn, actor: Editor) -> CodeBrickOut:
        try:
            return _out(await store.update(brick_id, title=body.title, code=body.code, now=utcnow()))
        except InvalidCodeBrickError as error:
            raise invalid(["body", error.field], str(error)) from None
        except CodeBrickNotFoundError:
            raise not_found(f"code brick {brick_id} does not exist") from None

    @router.delete("/{brick_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_code_brick(brick_id: str, actor: Editor) -> Response:
        try:
            await store.delete(brick_id)
        except CodeBrickNotFoundError:
            raise not_found(f"code brick {brick_id} does not exist") from None
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


def _out(brick: CodeBrick) -> CodeBrickOut:
    return CodeBrickOut(
        id=brick.id,
        title=brick.title,
        code=brick.code,
        created_by=brick.created_by,
        created_at=brick.created_at,
        updated_at=brick.updated_at,
    )
