"""Topic ``dag``: parsed DAG versions, import errors, pause state. Keyed by dag_id (fileloc for files)."""

from __future__ import annotations

from couture_common.dagspec import DagSpec
from couture_common.events._base import Event, event_type
from couture_common.topics import DAG


@event_type("dag.parsed", topic=DAG)
class DagParsed(Event, frozen=True, kw_only=True):
    """A DAG file was parsed; ``version`` is the sha256 of the file's bytes (the blob's name)."""

    dag_id: str
    version: str
    spec: DagSpec

    def partition_key(self) -> str:
        return self.dag_id


@event_type("dag.import_failed", topic=DAG)
class DagImportFailed(Event, frozen=True, kw_only=True):
    """A DAG file failed to import; ``stacktrace`` is what the parser printed."""

    fileloc: str
    version: str
    stacktrace: str

    def partition_key(self) -> str:
        return self.fileloc


@event_type("dag.file_processed", topic=DAG)
class DagFileProcessed(Event, frozen=True, kw_only=True):
    """A file was parsed cleanly and defines exactly ``dag_ids``; it clears that file's import error.

    DAGs the file defined before and no longer does are deactivated by folds that see this event.
    """

    fileloc: str
    version: str
    dag_ids: tuple[str, ...]

    def partition_key(self) -> str:
        return self.fileloc


@event_type("dag.file_removed", topic=DAG)
class DagFileRemoved(Event, frozen=True, kw_only=True):
    fileloc: str

    def partition_key(self) -> str:
        return self.fileloc


@event_type("dag.paused_set", topic=DAG)
class DagPausedSet(Event, frozen=True, kw_only=True):
    dag_id: str
    is_paused: bool

    def partition_key(self) -> str:
        return self.dag_id
