"""Couture: Browse → Audit Logs, every state-changing request and login attempt (Admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement, select

from couture_gateway.api import filters
from couture_gateway.api.paging import PageDep, fetch_page
from couture_gateway.deps import SessionDep
from couture_gateway.readmodels.security_tables import audit_log
from couture_gateway.schemas.security import AuditLogCollectionResponse, AuditLogResponse

router = APIRouter(tags=["Audit Log (Couture)"])

_c = audit_log.c
_ORDER: dict[str, ColumnElement[Any]] = {
    "audit_log_id": _c.audit_log_id,
    "when": _c.when,
    "username": _c.username,
    "action": _c.action,
    "dag_id": _c.dag_id,
    "source_ip": _c.source_ip,
    "outcome": _c.outcome,
}
_NEWEST_FIRST = ["-when", "-audit_log_id"]


@router.get("/auditLogs")
async def get_audit_logs(
    conn: SessionDep,
    page: PageDep,
    username: str | None = None,
    action: Annotated[list[str] | None, Query()] = None,
    dag_id: str | None = None,
    outcome: Annotated[list[Literal["success", "denied", "failed", "error"]] | None, Query()] = None,
    source_ip: str | None = None,
    request_id: str | None = None,
    since: Annotated[datetime | None, Query(description="Entries at or after this time.")] = None,
    until: Annotated[datetime | None, Query(description="Entries before this time.")] = None,
) -> AuditLogCollectionResponse:
    """Newest first unless ``order_by`` says otherwise."""
    query = select(audit_log)
    for column, value in (
        (_c.username, username),
        (_c.dag_id, dag_id),
        (_c.source_ip, source_ip),
        (_c.request_id, request_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if action:
        query = query.where(_c.action.in_(action))
    if outcome:
        query = query.where(_c.outcome.in_(outcome))
    query = query.where(*filters.value_range(_c.when, gte=since, lt=until))
    rows, total = await fetch_page(
        conn, query, page, columns=_ORDER, default_order=["-when", "-audit_log_id"]
    )
    return AuditLogCollectionResponse(
        audit_logs=[AuditLogResponse.model_validate(r) for r in rows], total_entries=total
    )
