"""Browse → Audit Logs: one row per ``AuditRecorded`` (state-changing requests and logins).

Users and roles are not projected: the auth service folds them from the ``auth`` topic and the
gateway asks it, so role changes apply on the next request without waiting for a projector.
"""

from __future__ import annotations

import sqlalchemy as sa

from couture_gateway.readmodels.columns import ID, UtcDateTime, metadata

audit_log = sa.Table(
    "audit_log",
    metadata,
    # ``positions.position_id`` of the event: stable across rebuilds, ordered within a partition.
    sa.Column("audit_log_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("when", UtcDateTime, nullable=False),
    sa.Column("username", sa.String(256)),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("path", sa.String(2000), nullable=False),
    sa.Column("dag_id", ID),
    sa.Column("target", sa.String(2000)),
    sa.Column("source_ip", sa.String(64)),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_when", "when"),
    sa.Index("ix_audit_log_username_when", "username", "when"),
    sa.Index("ix_audit_log_dag_when", "dag_id", "when"),
    sa.Index("ix_audit_log_action", "action"),
)
