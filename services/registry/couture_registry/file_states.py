"""What the registry knows of each DAG file, folded from the ``dag`` topic.

Rebuilt on start by replaying the topic, so a restarted registry re-parses only files whose bytes
changed. Applying an event twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from couture_common.events import DagFileProcessed, DagFileRemoved, DagImportFailed, Event

_DUPLICATE = re.compile(r"^DAG id (\S+) is already defined in ", re.MULTILINE)


def duplicate_dag_id_error(dag_ids: Iterable[str], fileloc: str, owners: Mapping[str, str]) -> str | None:
    """The import error of a file defining DAG ids another file already defines, as Airflow words it.

    The first file to define a DAG id keeps it; a later one is refused rather than silently
    overriding it, until the first one lets the id go.
    """
    lines = [
        f"DAG id {dag_id} is already defined in {owners[dag_id]}"
        for dag_id in dag_ids
        if owners.get(dag_id, fileloc) != fileloc
    ]
    return "\n".join(lines) or None


@dataclass(frozen=True, slots=True)
class FileState:
    fileloc: str
    #: sha256 of the bytes last processed.
    version: str
    #: DAGs the file defines; kept through an import error (Airflow keeps a broken file's DAGs).
    dag_ids: tuple[str, ...] = ()
    import_error: str | None = None

    @property
    def wanted_dag_ids(self) -> frozenset[str]:
        """DAG ids this file was refused because another file held them."""
        return frozenset(_DUPLICATE.findall(self.import_error or ""))


@dataclass(slots=True)
class FolderState:
    files: dict[str, FileState] = field(default_factory=dict)
    #: dag_id → the file that defines it.
    owners: dict[str, str] = field(default_factory=dict)

    def apply(self, event: Event) -> None:
        if isinstance(event, DagFileProcessed):
            self._set(FileState(event.fileloc, event.version, tuple(event.dag_ids)))
        elif isinstance(event, DagImportFailed):
            previous = self.files.get(event.fileloc)
            kept = previous.dag_ids if previous else ()
            self._set(FileState(event.fileloc, event.version, kept, event.stacktrace))
        elif isinstance(event, DagFileRemoved):
            self._release(event.fileloc)
            self.files.pop(event.fileloc, None)

    def files_to_retry(self) -> list[str]:
        """Files refused for a duplicate DAG id that is free now (its first file dropped it)."""
        return sorted(
            state.fileloc
            for state in self.files.values()
            if any(self.owners.get(dag_id, state.fileloc) == state.fileloc for dag_id in state.wanted_dag_ids)
        )

    def _set(self, state: FileState) -> None:
        self._release(state.fileloc)
        self.files[state.fileloc] = state
        for dag_id in state.dag_ids:
            self.owners.setdefault(dag_id, state.fileloc)

    def _release(self, fileloc: str) -> None:
        previous = self.files.get(fileloc)
        if previous is None:
            return
        for dag_id in previous.dag_ids:
            if self.owners.get(dag_id) == fileloc:
                del self.owners[dag_id]
