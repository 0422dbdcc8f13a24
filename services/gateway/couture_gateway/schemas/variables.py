from __future__ import annotations

from typing import Any

from pydantic import Field

from couture_gateway.schemas.common import ApiModel, RequestBody


class VariableResponse(ApiModel):
    key: str
    value: str | None
    description: str | None = None
    is_encrypted: bool
    team_name: str | None = None


class VariableCollectionResponse(ApiModel):
    variables: list[VariableResponse]
    total_entries: int


class VariableBody(RequestBody):
    key: str = Field(min_length=1, max_length=250)
    #: Airflow stores any JSON value; non-strings are kept as their JSON text.
    value: Any
    description: str | None = None
    team_name: str | None = Field(default=None, max_length=50)
