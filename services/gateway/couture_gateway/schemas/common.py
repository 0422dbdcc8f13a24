"""Shared pieces of every API body."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """Response bodies: built from read-model rows, serialised as JSON with RFC 3339 datetimes."""

    model_config = ConfigDict(from_attributes=True)


class RequestBody(BaseModel):
    """Request bodies refuse unknown fields, so a typo is a 422 naming it rather than ignored."""

    model_config = ConfigDict(extra="forbid")


class HTTPExceptionResponse(BaseModel):
    detail: str | dict[str, object]
