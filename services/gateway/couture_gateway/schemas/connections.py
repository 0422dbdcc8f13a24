from __future__ import annotations

from pydantic import Field

from couture_gateway.schemas.common import ApiModel, RequestBody


class ConnectionResponse(ApiModel):
    """``password`` is write-only: always null in answers."""

    connection_id: str
    conn_type: str
    description: str | None = None
    host: str | None = None
    login: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    port: int | None = None
    password: None = None
    extra: str | None = None
    team_name: str | None = None


class ConnectionCollectionResponse(ApiModel):
    connections: list[ConnectionResponse]
    total_entries: int


class ConnectionBody(RequestBody):
    #: Airflow's rule: letters, digits and ``_ # ! ( ) - . : / \``.
    connection_id: str = Field(min_length=1, max_length=200, pattern=r"^[\w#!()\-.:/\\]+$")
    conn_type: str = Field(min_length=1)
    description: str | None = None
    host: str | None = None
    login: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    port: int | None = Field(default=None, ge=0, le=65535)
    password: str | None = None
    extra: str | None = None
    team_name: str | None = Field(default=None, max_length=50)


class ConnectionEntryResponse(ConnectionResponse):
    """One of the entries sharing a ``connection_id`` (Couture: one is picked at random per use)."""

    entry_id: str


class ConnectionEntryCollectionResponse(ApiModel):
    entries: list[ConnectionEntryResponse]
    total_entries: int
