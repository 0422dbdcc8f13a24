"""The registry on a real SQLite log, a real DAG folder and the real subprocess parser.

Given files written to the DAG folder while the watcher runs, then these events on the dag topic.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from couture_common.eventlog import Consumer
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import DagFileProcessed, DagFileRemoved, DagImportFailed, DagParsed, Event
from couture_common.topics import DAG
from couture_registry.blobstore import LocalBlobStore, dag_file_version
from couture_registry.dag_folder import DagFolder
from couture_registry.service import DagFolderRegistry

DAG_FILE = """\
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("{dag_id}", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    BashOperator(task_id="{task_id}", bash_command="echo hi")
"""

BROKEN_FILE = """\
from airflow import DAG

dag = DAG("broken", schedule=None)
raise RuntimeError("the database is down")
"""


def dag_source(dag_id: str, task_id: str = "hello") -> str:
    return DAG_FILE.format(dag_id=dag_id, task_id=task_id)


class Folder:
    """The DAG folder, the log and the registry under test, restartable."""

    def __init__(self, home: Path, log: SqliteEventLog) -> None:
        self.dags = home / "dags"
        self.blobs = LocalBlobStore(home / "blobs")
        self.log = log
        self.registry = self.new_registry()
        self.consumer: Consumer = log.consumer([DAG])

    def new_registry(self) -> DagFolderRegistry:
        return DagFolderRegistry(
            log=self.log, blobs=self.blobs, folder=DagFolder(self.dags), parse_timeout=10
        )

    def fileloc(self, name: str) -> str:
        return str((self.dags / name).resolve())

    def write(self, name: str, source: str) -> None:
        path = self.dags / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)

    async def events(self, until: type[Event], *, timeout: float = 5.0) -> list[Event]:
        """Events appended from now on, up to the first one of type ``until``."""
        seen: list[Event] = []
        deadline = time.monotonic() + timeout
        while not seen or not isinstance(seen[-1], until):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {until.__name__} within {timeout} s; got {seen}")
            for record in await self.consumer.poll(max_records=1, timeout=left):
                seen.append(record.envelope.payload)
        return seen

    async def no_more_events(self, wait: float = 0.8) -> None:
        extra = await self.consumer.poll(timeout=wait)
        assert [r.envelope.payload for r in extra] == []


@pytest.fixture
async def folder(tmp_path: Path) -> AsyncIterator[Folder]:
    log = SqliteEventLog(tmp_path / "events.db", sync="normal")
    await log.start()
    folder = Folder(tmp_path, log)
    (tmp_path / "dags").mkdir()
    await folder.registry.start()
    await folder.registry.idle()
    yield folder
    await folder.registry.stop()
    await folder.consumer.close()
    await log.close()


async def test_a_new_file_is_parsed_within_a_second_of_being_written(folder: Folder) -> None:
    source = dag_source("etl")
    written = time.monotonic()
    folder.write("etl.py", source)

    events = await folder.events(until=DagFileProcessed)

    elapsed = time.monotonic() - written
    version = dag_file_version(source.encode())
    fileloc = folder.fileloc("etl.py")
    [parsed, processed] = events
    assert isinstance(parsed, DagParsed)
    assert (parsed.dag_id, parsed.version, parsed.spec.fileloc) == ("etl", version, fileloc)
    assert [task.task_id for task in parsed.spec.tasks] == ["hello"]
    assert processed == DagFileProcessed(fileloc=fileloc, version=version, dag_ids=("etl",))
    assert elapsed < 1.0
    assert folder.blobs.get_dag_file(version) == source.encode()


async def test_an_edited_file_gives_a_new_version_and_its_blob_is_stored_first(folder: Folder) -> None:
    folder.write("etl.py", dag_source("etl"))
    await folder.events(until=DagFileProcessed)

    edited = dag_source("etl", task_id="goodbye")
    folder.write("etl.py", edited)
    [parsed, processed] = await folder.events(until=DagFileProcessed)

    version = dag_file_version(edited.encode())
    assert isinstance(parsed, DagParsed) and isinstance(processed, DagFileProcessed)
    assert parsed.version == processed.version == version
    assert [task.task_id for task in parsed.spec.tasks] == ["goodbye"]
    assert folder.blobs.path_for(version).read_text() == edited


async def test_a_broken_file_reports_its_traceback_until_it_is_fixed(folder: Folder) -> None:
    folder.write("etl.py", dag_source("etl"))
    await folder.events(until=DagFileProcessed)

    folder.write("etl.py", BROKEN_FILE)
    [failed] = await folder.events(until=DagImportFailed)
    assert isinstance(failed, DagImportFailed)
    assert failed.fileloc == folder.fileloc("etl.py")
    assert failed.version == dag_file_version(BROKEN_FILE.encode())
    assert "Traceback" in failed.stacktrace
    assert 'raise RuntimeError("the database is down")' in failed.stacktrace
    assert (await folder.registry.status("etl.py")).status == "import_error"
    assert (await folder.registry.status("etl.py")).dag_ids == ("etl",)

    folder.write("etl.py", dag_source("etl"))
    events = await folder.events(until=DagFileProcessed)
    assert [type(e) for e in events] == [DagParsed, DagFileProcessed]
    status = await folder.registry.status("etl.py")
    assert (status.status, status.import_error) == ("parsed", None)


async def test_a_deleted_file_is_removed(folder: Folder) -> None:
    folder.write("team/etl.py", dag_source("etl"))
    await folder.events(until=DagFileProcessed)

    (folder.dags / "team" / "etl.py").unlink()

    assert await folder.events(until=DagFileRemoved) == [
        DagFileRemoved(fileloc=folder.fileloc("team/etl.py"))
    ]
    assert await folder.registry.files() == []


async def test_saving_the_same_bytes_again_parses_nothing(folder: Folder) -> None:
    folder.write("etl.py", dag_source("etl"))
    await folder.events(until=DagFileProcessed)

    folder.write("etl.py", dag_source("etl"))
    (folder.dags / "etl.py").touch()

    await folder.no_more_events()


async def test_a_dag_id_defined_in_two_files_stays_with_the_first(folder: Folder) -> None:
    folder.write("first.py", dag_source("shared"))
    await folder.events(until=DagFileProcessed)

    folder.write("second.py", dag_source("shared"))
    [refused] = await folder.events(until=DagImportFailed)
    assert refused == DagImportFailed(
        fileloc=folder.fileloc("second.py"),
        version=dag_file_version(dag_source("shared").encode()),
        stacktrace=f"DAG id shared is already defined in {folder.fileloc('first.py')}",
    )

    # Once the first file lets the id go, the second one gets it without being touched.
    (folder.dags / "first.py").unlink()
    events = await folder.events(until=DagFileProcessed)
    assert events[0] == DagFileRemoved(fileloc=folder.fileloc("first.py"))
    assert isinstance(events[1], DagParsed) and events[1].spec.fileloc == folder.fileloc("second.py")
    assert events[2] == DagFileProcessed(
        fileloc=folder.fileloc("second.py"),
        version=dag_file_version(dag_source("shared").encode()),
        dag_ids=("shared",),
    )


async def test_ignored_and_private_files_are_not_parsed(folder: Folder) -> None:
    folder.write("_helpers.py", "GREETING = 'hi'\n")
    folder.write("scratch/try.py", dag_source("scratch"))
    folder.write(".airflowignore", "^scratch/\n")
    await folder.no_more_events()
    assert [(f.relative_fileloc, f.status) for f in await folder.registry.files()] == [
        ("_helpers.py", "ignored"),
        ("scratch/try.py", "ignored"),
    ]

    # Dropping the pattern makes the file a DAG file; adding it back removes it again.
    (folder.dags / ".airflowignore").write_text("# nothing ignored\n")
    assert [type(e) for e in await folder.events(until=DagFileProcessed)] == [DagParsed, DagFileProcessed]
    (folder.dags / ".airflowignore").write_text("scratch/\n")
    assert await folder.events(until=DagFileRemoved) == [
        DagFileRemoved(fileloc=folder.fileloc("scratch/try.py"))
    ]


async def test_a_folder_moved_in_is_parsed_and_moved_out_is_removed(folder: Folder, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    for name in ["a", "b"]:
        (outside / "team").mkdir(parents=True, exist_ok=True)
        (outside / "team" / f"{name}.py").write_text(dag_source(name))

    (outside / "team").rename(folder.dags / "team")
    parsed = [await folder.events(until=DagFileProcessed), await folder.events(until=DagFileProcessed)]
    assert sorted(e.dag_ids for [_, e] in parsed if isinstance(e, DagFileProcessed)) == [("a",), ("b",)]

    (folder.dags / "team").rename(outside / "team")
    removed = [await folder.events(until=DagFileRemoved), await folder.events(until=DagFileRemoved)]
    assert sorted(e.fileloc for [e] in removed if isinstance(e, DagFileRemoved)) == [
        folder.fileloc("team/a.py"),
        folder.fileloc("team/b.py"),
    ]


async def test_files_that_are_not_python_change_nothing(folder: Folder) -> None:
    folder.write("etl.py", dag_source("etl"))
    await folder.events(until=DagFileProcessed)

    folder.write("etl.py~", "backup")
    folder.write("data/input.csv", "a,b\n")

    await folder.no_more_events()


async def test_a_restart_reparses_only_what_changed_meanwhile(folder: Folder) -> None:
    folder.write("same.py", dag_source("same"))
    folder.write("edited.py", dag_source("edited"))
    folder.write("deleted.py", dag_source("deleted"))
    for _ in range(3):
        await folder.events(until=DagFileProcessed)
    await folder.registry.stop()

    folder.write("edited.py", dag_source("edited", task_id="v2"))
    (folder.dags / "deleted.py").unlink()
    folder.write("added.py", dag_source("added"))
    folder.registry = folder.new_registry()
    await folder.registry.start()
    await folder.registry.idle()

    events = await folder.consumer.poll(timeout=1.0)
    by_file: dict[str, list[str]] = {}
    for record in events:
        payload = record.envelope.payload
        assert isinstance(payload, DagParsed | DagFileProcessed | DagFileRemoved)
        fileloc = payload.spec.fileloc if isinstance(payload, DagParsed) else payload.fileloc
        by_file.setdefault(Path(fileloc).name, []).append(type(payload).__name__)
    assert by_file == {
        "added.py": ["DagParsed", "DagFileProcessed"],
        "deleted.py": ["DagFileRemoved"],
        "edited.py": ["DagParsed", "DagFileProcessed"],
    }
    statuses = {f.relative_fileloc: f.status for f in await folder.registry.files()}
    assert statuses == {"added.py": "parsed", "edited.py": "parsed", "same.py": "parsed"}


async def test_a_file_that_never_finishes_importing_times_out(folder: Folder, tmp_path: Path) -> None:
    slow_folder = DagFolder(tmp_path / "slow_dags")
    registry = DagFolderRegistry(
        log=folder.log, blobs=folder.blobs, folder=slow_folder, parse_timeout=0.5, watch=False
    )
    await registry.start()
    await asyncio.to_thread(slow_folder.write, "slow.py", b"import time\ntime.sleep(60)\n")
    started = time.monotonic()

    [status] = await registry.process(["slow.py"])

    assert time.monotonic() - started < 5
    assert status.status == "import_error"
    assert status.import_error == "DAG file parsing timed out after 0.5 s"
    await registry.stop()


async def test_the_watcher_notices_a_burst_of_files(folder: Folder) -> None:
    for n in range(6):
        folder.write(f"dag_{n}.py", dag_source(f"dag_{n}"))
    processed: set[tuple[str, ...]] = set()
    while len(processed) < 6:
        [*_, last] = await folder.events(until=DagFileProcessed, timeout=10)
        assert isinstance(last, DagFileProcessed)
        processed.add(last.dag_ids)
    assert processed == {(f"dag_{n}",) for n in range(6)}


async def test_a_dag_folder_deleted_and_made_again_is_watched_again(folder: Folder) -> None:
    folder.write("etl.py", dag_source("etl"))
    await folder.events(until=DagFileProcessed)

    shutil.rmtree(folder.dags)
    assert await folder.events(until=DagFileRemoved) == [DagFileRemoved(fileloc=folder.fileloc("etl.py"))]
    folder.write("new.py", dag_source("new"))
    [parsed, _] = await folder.events(until=DagFileProcessed)
    assert isinstance(parsed, DagParsed) and parsed.dag_id == "new"

    folder.write("later.py", dag_source("later"))
    [parsed, _] = await folder.events(until=DagFileProcessed)
    assert isinstance(parsed, DagParsed) and parsed.dag_id == "later"
