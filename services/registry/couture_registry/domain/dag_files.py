"""What a DAG file's parse result means on the ``dag`` topic."""

from __future__ import annotations

from couture_common.events import DagFileProcessed, DagImportFailed, DagParsed, Event
from couture_registry.parsing.result import ParseResult


def parse_result_events(result: ParseResult) -> list[Event]:
    """A failed file is one DagImportFailed; a clean one is a DagParsed per DAG, then the
    DagFileProcessed that lists them (and clears any earlier import error of the file)."""
    if result.error is not None:
        return [DagImportFailed(fileloc=result.fileloc, version=result.version, stacktrace=result.error)]
    parsed: list[Event] = [
        DagParsed(dag_id=spec.dag_id, version=result.version, spec=spec) for spec in result.specs
    ]
    dag_ids = tuple(spec.dag_id for spec in result.specs)
    return [*parsed, DagFileProcessed(fileloc=result.fileloc, version=result.version, dag_ids=dag_ids)]
