"""Topic ``audit``: each ``AuditRecorded`` becomes one Browse → Audit Logs row (append-only)."""

from __future__ import annotations

from couture_common.events import AuditRecorded
from couture_gateway.readmodels.fold.context import Context
from couture_gateway.readmodels.rowset import RowSet, Scope
from couture_gateway.readmodels.security_tables import audit_log


def audit_scopes(_: AuditRecorded) -> list[Scope]:
    # Rows are only appended, keyed by the event's position: nothing to read first.
    return []


def audit_recorded(rows: RowSet, event: AuditRecorded, ctx: Context) -> None:
    rows.append(
        audit_log,
        {
            "audit_log_id": ctx.position_id,
            "event_id": ctx.event_id,
            "when": ctx.time,
            "username": event.username,
            "action": event.action,
            "method": event.method,
            "path": event.path,
            "dag_id": event.dag_id,
            "target": event.target,
            "source_ip": event.source_ip,
            "outcome": event.outcome,
            "status_code": event.status_code,
            "request_id": event.request_id,
        },
    )
