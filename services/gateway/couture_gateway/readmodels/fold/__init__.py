"""The pure mapping from events to read-model rows: which rows an event needs, and how it changes them.

``scopes_for`` names the rows an event reads; the store loads them into a ``RowSet``; ``apply``
folds the event into that set. No I/O and no clock here: time is the event's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from couture_common.eventlog import Record
from couture_common.events import (
    AuditRecorded,
    ConnectionDeleted,
    ConnectionSet,
    DagFileProcessed,
    DagFileRemoved,
    DagImportFailed,
    DagParsed,
    DagPausedSet,
    DagRunCreated,
    DagRunDeleted,
    DagRunFinished,
    DagRunNoteSet,
    DagRunRejected,
    DagRunRequested,
    DagRunStarted,
    DagRunStateSet,
    Event,
    PoolDeleted,
    PoolSet,
    SlaMissed,
    TaskInstanceFinished,
    TaskInstanceNoteSet,
    TaskInstanceQueued,
    TaskInstanceRendered,
    TaskInstanceScheduled,
    TaskInstancesCleared,
    TaskInstanceStarted,
    TaskInstanceStateDecided,
    TaskInstanceStateSet,
    VariableDeleted,
    VariableSet,
    XComPushed,
)
from couture_gateway.readmodels.fold import config, dag, rendered, run, security
from couture_gateway.readmodels.fold.context import Context
from couture_gateway.readmodels.positions import position_id
from couture_gateway.readmodels.rowset import RowSet, Scope

Scopes = Callable[[Any], list[Scope]]
Fold = Callable[[RowSet, Any, Context], None]

#: Per event type: the scopes it reads and the fold that applies it.
MAPPING: dict[type[Event], tuple[Scopes, Fold]] = {
    DagParsed: (dag.parsed_scopes, dag.parsed),
    DagImportFailed: (dag.file_scopes, dag.import_failed),
    DagFileProcessed: (dag.file_scopes, dag.file_processed),
    DagFileRemoved: (dag.file_scopes, dag.file_removed),
    DagPausedSet: (dag.paused_scopes, dag.paused_set),
    DagRunRequested: (run.run_scopes, run.requested),
    DagRunCreated: (run.run_scopes, run.created),
    DagRunRejected: (run.run_scopes, run.rejected),
    DagRunStarted: (run.run_scopes, run.started),
    DagRunFinished: (run.run_scopes, run.finished),
    DagRunStateSet: (run.run_scopes, run.state_set),
    DagRunNoteSet: (run.run_scopes, run.note_set),
    DagRunDeleted: (rendered.run_deleted_scopes, rendered.run_deleted),
    TaskInstancesCleared: (run.run_scopes, run.cleared),
    TaskInstanceScheduled: (run.run_scopes, run.ti_scheduled),
    TaskInstanceQueued: (run.run_scopes, run.ti_queued),
    TaskInstanceStarted: (run.run_scopes, run.ti_started),
    TaskInstanceFinished: (run.run_scopes, run.ti_finished),
    TaskInstanceStateDecided: (run.run_scopes, run.ti_state_decided),
    TaskInstanceStateSet: (run.run_scopes, run.ti_state_set),
    TaskInstanceNoteSet: (run.run_scopes, run.ti_note_set),
    TaskInstanceRendered: (rendered.rendered_scopes, rendered.rendered),
    XComPushed: (run.run_scopes, run.xcom_pushed),
    SlaMissed: (run.run_scopes, run.sla_missed),
    VariableSet: (config.variable_scopes, config.variable_set),
    VariableDeleted: (config.variable_scopes, config.variable_deleted),
    ConnectionSet: (config.connection_scopes, config.connection_set),
    ConnectionDeleted: (config.connection_scopes, config.connection_deleted),
    PoolSet: (config.pool_scopes, config.pool_set),
    PoolDeleted: (config.pool_scopes, config.pool_deleted),
    AuditRecorded: (security.audit_scopes, security.audit_recorded),
}


def _mapping(payload: Event) -> tuple[Scopes, Fold]:
    try:
        return MAPPING[type(payload)]
    except KeyError:
        raise LookupError(
            f"no read-model mapping for event {payload.TYPE!r} on topic {payload.TOPIC!r}"
        ) from None


def scopes_for(record: Record) -> list[Scope]:
    return _mapping(record.envelope.payload)[0](record.envelope.payload)


def apply(rows: RowSet, record: Record) -> None:
    """Fold one record into ``rows``; every scope ``scopes_for(record)`` names must be loaded."""
    env = record.envelope
    ctx = Context(env.time, env.actor, env.id, position_id(record.topic, record.partition, record.offset))
    _mapping(env.payload)[1](rows, env.payload, ctx)
