"""What a committed batch of events changed in the read models, in words the UI refreshes by.

The projector calls its listeners with a :class:`Changes` after each commit, so a listener (the
live-updates hub) tells browsers what to refetch without reading the tables itself. A change names
a *kind* of read model (``dag_run``, ``task_instance``, ``variable``...) and, where the event
names them, the DAG and the run: enough to refresh the affected views and to filter by DAG
permissions, never the rows' contents.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from couture_common.eventlog import Record
from couture_common.events import (
    ConnectionDeleted,
    ConnectionSet,
    DagFileProcessed,
    DagFileRemoved,
    DagImportFailed,
    DagRunCreated,
    DagRunDeleted,
    Event,
    PoolDeleted,
    PoolSet,
    SlaMissed,
    TaskInstancesCleared,
    VariableDeleted,
    VariableSet,
    XComPushed,
)
from couture_common.topics import AUDIT, DAG, RUN

logger = logging.getLogger(__name__)

DAG_KIND = "dag"
IMPORT_ERROR = "import_error"
DAG_RUN = "dag_run"
TASK_INSTANCE = "task_instance"
XCOM = "xcom"
SLA_MISS = "sla_miss"
VARIABLE = "variable"
CONNECTION = "connection"
POOL = "pool"
AUDIT_KIND = "audit"

#: Events whose kinds the topic alone does not tell.
_KINDS: dict[type[Event], tuple[str, ...]] = {
    DagImportFailed: (IMPORT_ERROR,),
    DagFileProcessed: (DAG_KIND, IMPORT_ERROR),
    DagFileRemoved: (DAG_KIND, IMPORT_ERROR),
    # A new run brings its task instances; clearing and deleting change both.
    DagRunCreated: (DAG_RUN, TASK_INSTANCE),
    DagRunDeleted: (DAG_RUN, TASK_INSTANCE),
    TaskInstancesCleared: (DAG_RUN, TASK_INSTANCE),
    XComPushed: (XCOM,),
    SlaMissed: (SLA_MISS,),
    VariableSet: (VARIABLE,),
    VariableDeleted: (VARIABLE,),
    ConnectionSet: (CONNECTION,),
    ConnectionDeleted: (CONNECTION,),
    PoolSet: (POOL,),
    PoolDeleted: (POOL,),
}


class Change(NamedTuple):
    kind: str
    #: The DAG the change is about; None for changes outside any DAG (a variable, a pool).
    dag_id: str | None = None
    run_id: str | None = None


#: Everything one committed batch changed, without repeats.
Changes = frozenset[Change]
ChangeListener = Callable[[Changes], None]


def kinds_of(event_type: type[Event]) -> tuple[str, ...]:
    known = _KINDS.get(event_type)
    if known is not None:
        return known
    if event_type.TOPIC == RUN:
        return (TASK_INSTANCE,) if "task_id" in event_type.__struct_fields__ else (DAG_RUN,)
    if event_type.TOPIC == DAG:
        return (DAG_KIND,)
    if event_type.TOPIC == AUDIT:
        return (AUDIT_KIND,)
    return (event_type.TOPIC,)


def changes_of(event: Event) -> Iterable[Change]:
    dag_ids: Sequence[str | None] = getattr(event, "dag_ids", None) or (getattr(event, "dag_id", None),)
    run_id: str | None = getattr(event, "run_id", None)
    for kind in kinds_of(type(event)):
        for dag_id in dag_ids:
            yield Change(kind, dag_id, run_id)


def summarise(records: Iterable[Record]) -> Changes:
    return frozenset(change for record in records for change in changes_of(record.envelope.payload))


def notify(listeners: Iterable[ChangeListener], changes: Changes) -> None:
    """Call each listener; one that fails is logged and never stops the projection or the others."""
    for listener in listeners:
        try:
            listener(changes)
        except Exception:
            logger.exception("a read-model change listener failed")
