"""What the registry remembers of DAG files, folded from the dag topic (given events, then state)."""

from __future__ import annotations

from couture_common.events import DagFileProcessed, DagFileRemoved, DagImportFailed, DagPausedSet, Event
from couture_registry.file_states import FileState, FolderState, duplicate_dag_id_error

A = "/dags/a.py"
B = "/dags/b.py"


def fold(*events: Event) -> FolderState:
    state = FolderState()
    for event in events:
        state.apply(event)
    return state


def test_a_processed_file_owns_its_dags() -> None:
    state = fold(DagFileProcessed(fileloc=A, version="v1", dag_ids=("etl", "report")))
    assert state.files == {A: FileState(A, "v1", ("etl", "report"))}
    assert state.owners == {"etl": A, "report": A}


def test_an_import_error_keeps_the_dags_of_the_last_good_version() -> None:
    state = fold(
        DagFileProcessed(fileloc=A, version="v1", dag_ids=("etl",)),
        DagImportFailed(fileloc=A, version="v2", stacktrace="SyntaxError"),
    )
    assert state.files[A] == FileState(A, "v2", ("etl",), "SyntaxError")
    assert state.owners == {"etl": A}


def test_a_clean_parse_clears_the_import_error_and_drops_dags_no_longer_defined() -> None:
    state = fold(
        DagFileProcessed(fileloc=A, version="v1", dag_ids=("etl", "old")),
        DagImportFailed(fileloc=A, version="v2", stacktrace="boom"),
        DagFileProcessed(fileloc=A, version="v3", dag_ids=("etl",)),
    )
    assert state.files[A] == FileState(A, "v3", ("etl",))
    assert state.owners == {"etl": A}


def test_a_removed_file_lets_its_dags_go() -> None:
    state = fold(DagFileProcessed(fileloc=A, version="v1", dag_ids=("etl",)), DagFileRemoved(fileloc=A))
    assert state.files == {}
    assert state.owners == {}


def test_replaying_events_twice_changes_nothing() -> None:
    events: list[Event] = [
        DagFileProcessed(fileloc=A, version="v1", dag_ids=("etl",)),
        DagImportFailed(fileloc=B, version="w1", stacktrace="DAG id etl is already defined in /dags/a.py"),
        DagPausedSet(dag_id="etl", is_paused=False),
        DagFileRemoved(fileloc="/dags/never-seen.py"),
    ]
    once = fold(*events)
    twice = fold(*events, *events)
    assert twice.files == once.files
    assert twice.owners == once.owners


def test_a_dag_id_defined_by_another_file_is_an_import_error_naming_that_file() -> None:
    owners = {"etl": A, "report": B}
    assert duplicate_dag_id_error(["etl", "report", "new"], B, owners) == (
        "DAG id etl is already defined in /dags/a.py"
    )
    assert duplicate_dag_id_error(["report", "new"], B, owners) is None
    assert duplicate_dag_id_error(["x", "y"], "/dags/c.py", {"x": A, "y": B}) == (
        "DAG id x is already defined in /dags/a.py\nDAG id y is already defined in /dags/b.py"
    )


def test_a_file_refused_for_a_duplicate_is_retried_once_the_id_is_free() -> None:
    refused = DagImportFailed(
        fileloc=B, version="w1", stacktrace="DAG id etl is already defined in /dags/a.py"
    )
    state = fold(DagFileProcessed(fileloc=A, version="v1", dag_ids=("etl",)), refused)
    assert state.files[B].wanted_dag_ids == {"etl"}
    assert state.files_to_retry() == []

    state.apply(DagFileProcessed(fileloc=A, version="v2", dag_ids=("renamed",)))
    assert state.files_to_retry() == [B]


def test_a_file_that_failed_for_another_reason_is_not_retried() -> None:
    state = fold(DagImportFailed(fileloc=B, version="w1", stacktrace="NameError: name 'x' is not defined"))
    assert state.files[B].wanted_dag_ids == frozenset()
    assert state.files_to_retry() == []
