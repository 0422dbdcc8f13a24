"""Airflow 3's bulk bodies: several create / update / delete actions in one request."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from couture_gateway.schemas.common import ApiModel, RequestBody

T = TypeVar("T", bound=BaseModel)


class BulkCreateAction(RequestBody, Generic[T]):
    action: Literal["create"]
    entities: list[T]
    #: ``fail`` refuses the whole action when an entity exists; ``skip`` leaves those alone.
    action_on_existence: Literal["fail", "skip", "overwrite"] = "fail"


class BulkUpdateAction(RequestBody, Generic[T]):
    action: Literal["update"]
    entities: list[T]
    update_mask: list[str] | None = None
    action_on_non_existence: Literal["fail", "skip"] = "fail"


class BulkDeleteAction(RequestBody, Generic[T]):
    action: Literal["delete"]
    #: The entities' keys, or the entities themselves.
    entities: list[str | T]
    action_on_non_existence: Literal["fail", "skip"] = "fail"


class BulkBody(RequestBody, Generic[T]):
    actions: list[
        Annotated[
            BulkCreateAction[T] | BulkUpdateAction[T] | BulkDeleteAction[T],
            Field(discriminator="action"),
        ]
    ]


class BulkActionResponse(ApiModel):
    success: list[str] = []
    errors: list[dict[str, Any]] = []


class BulkResponse(ApiModel):
    create: BulkActionResponse | None = None
    update: BulkActionResponse | None = None
    delete: BulkActionResponse | None = None
