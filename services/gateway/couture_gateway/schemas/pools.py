from __future__ import annotations

from pydantic import Field

from couture_gateway.schemas.common import ApiModel, RequestBody


class PoolResponse(ApiModel):
    name: str
    slots: int
    description: str | None = None
    include_deferred: bool
    occupied_slots: int
    running_slots: int
    queued_slots: int
    scheduled_slots: int
    open_slots: int
    deferred_slots: int
    team_name: str | None = None


class PoolCollectionResponse(ApiModel):
    pools: list[PoolResponse]
    total_entries: int


class PoolBody(RequestBody):
    name: str = Field(min_length=1, max_length=256)
    slots: int = Field(ge=-1)
    description: str | None = None
    include_deferred: bool = False
    team_name: str | None = Field(default=None, max_length=50)


class PoolPatchBody(RequestBody):
    pool: str | None = None
    slots: int | None = Field(default=None, ge=-1)
    description: str | None = None
    include_deferred: bool | None = None
    team_name: str | None = Field(default=None, max_length=50)
