"""The DAG folder registry: turns changes of DAG files into events on the ``dag`` topic.

Files reach the folder by hand, by upload, by the editor or by an archive import; the registry
sees them through a folder watcher (or at once, when it wrote them itself), parses each new
version in an isolated subprocess, stores the version in the blob store and only then appends
``DagParsed``/``DagFileProcessed`` or ``DagImportFailed``. A vanished or newly ignored file gets
``DagFileRemoved``.

One pass at a time per file: a change that arrives while its file is parsed is picked up by a
second pass right after, so the last event for a file always describes its latest bytes. One
registry runs per DAG folder: it alone writes the folder's file events, so it knows them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import watchfiles

from couture_common.eventlog import EventLog, TopicPartition
from couture_common.events import DagFileRemoved, DagImportFailed, DagParsed, Event, envelope
from couture_common.settings import Settings
from couture_common.topics import DAG
from couture_registry.blobstore import BlobStore, LocalBlobStore, dag_file_version
from couture_registry.dag_folder import DagFolder
from couture_registry.domain.dag_files import parse_result_events
from couture_registry.file_states import FolderState, duplicate_dag_id_error
from couture_registry.ignore_rules import IGNORE_FILE_NAME
from couture_registry.parsing import parse_dag_file

log = logging.getLogger(__name__)

SERVICE_ACTOR = "service:registry"

#: How long the watcher gathers a burst of changes (an editor's save, a ``git pull``) into one.
WATCH_DEBOUNCE_MS = 300
WATCH_QUIET_MS = 30

FileStatusKind = Literal["parsed", "import_error", "pending", "ignored"]


@dataclass(frozen=True, slots=True)
class FileStatus:
    """A ``.py`` file of the DAG folder as the user sees it."""

    #: Path inside the DAG folder, ``/``-separated: how users name the file.
    relative_fileloc: str
    #: Absolute path: how events and DAG specs name the file.
    fileloc: str
    #: parsed: its DAGs are live; import_error: its last version failed; pending: not processed
    #: yet; ignored: a ``.``/``_`` name or an ``.airflowignore`` pattern excludes it.
    status: FileStatusKind
    #: The version last processed (None when never processed).
    version: str | None = None
    dag_ids: tuple[str, ...] = ()
    import_error: str | None = None


class FileConflictError(Exception):
    """Saving would replace files whose content differs; ``relative_filelocs`` names them."""

    def __init__(self, relative_filelocs: Sequence[str], reason: str) -> None:
        super().__init__(reason)
        self.relative_filelocs = tuple(relative_filelocs)


@dataclass(slots=True)
class _Request:
    """Work asked for one file, merged until its next pass starts."""

    #: Parse even when the bytes did not change (a DAG id it wanted became free).
    force: bool = False
    actor: str = SERVICE_ACTOR
    waiters: list[asyncio.Future[None]] = field(default_factory=list)


class DagFolderRegistry:
    def __init__(
        self,
        *,
        log: EventLog,
        blobs: BlobStore,
        folder: DagFolder,
        parse_timeout: float,
        parse_concurrency: int = 2,
        watch: bool = True,
    ) -> None:
        self._log = log
        self.blobs = blobs
        self.folder = folder
        self._parse_timeout = parse_timeout
        self._parse_slots = asyncio.Semaphore(parse_concurrency)
        self._watch_enabled = watch
        self._state = FolderState()
        #: Keyed by relative fileloc, like everything the registry does to the folder.
        self._requests: dict[str, _Request] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._commit_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._started = False

    @classmethod
    def from_settings(cls, settings: Settings, log: EventLog, *, watch: bool = True) -> DagFolderRegistry:
        return cls(
            log=log,
            blobs=LocalBlobStore(settings.blobs_path),
            folder=DagFolder(settings.dags_path),
            parse_timeout=settings.parse_timeout,
            watch=watch,
        )

    async def start(self) -> None:
        """Rebuild what was processed from the log, then watch the folder and process what changed.

        Returns once the watcher runs; the first scan goes on in the background (see :meth:`idle`).
        """
        if self._started:
            return
        self._started = True
        await asyncio.to_thread(self.folder.root.mkdir, parents=True, exist_ok=True)
        await self._fold_dag_topic()
        if self._watch_enabled:
            self._watcher = asyncio.create_task(self._watch(), name="registry:watch")
            # The watcher registers its inotify watches before its first await; letting it run
            # up to there first means no change falls between the scan and the watch.
            await asyncio.sleep(0)
        self._spawn(self.rescan())

    async def stop(self) -> None:
        self._stop.set()
        tasks = [*self._background, *self._workers.values(), *([self._watcher] if self._watcher else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for request in self._requests.values():
            _cancel(request.waiters)
        self._requests.clear()

    async def idle(self) -> None:
        """Wait until no file waits to be processed."""
        while busy := [*self._workers.values(), *self._background]:
            await asyncio.wait(busy)

    async def rescan(self) -> None:
        """Process every DAG file whose bytes changed and forget every file that went away."""
        on_disk = await asyncio.to_thread(self.folder.dag_files)
        known = [(fileloc, self.folder.relative_of(fileloc)) for fileloc in self._state.files]
        # Files recorded under another folder (the DAG folder moved) are gone from this one.
        elsewhere = [fileloc for fileloc, relative in known if relative is None]
        if elsewhere:
            await self._commit([DagFileRemoved(fileloc=fileloc) for fileloc in elsewhere], SERVICE_ACTOR)
        targets = sorted(set(on_disk) | {relative for _, relative in known if relative is not None})
        # A file that fails here is logged by its worker and retried on its next change.
        await asyncio.gather(*(self._wait_for(relative) for relative in targets), return_exceptions=True)

    async def process(
        self, relative_filelocs: Sequence[str], *, actor: str = SERVICE_ACTOR
    ) -> list[FileStatus]:
        """Process files now (after the pass under way, if any) and return their status."""
        await asyncio.gather(*(self._wait_for(relative, actor=actor) for relative in relative_filelocs))
        return [await self.status(relative) for relative in relative_filelocs]

    async def save(
        self,
        files: Mapping[str, bytes],
        *,
        actor: str,
        overwrite: bool = False,
        base_versions: Mapping[str, str | None] | None = None,
    ) -> list[FileStatus]:
        """Write ``files`` (relative fileloc → bytes) into the folder, each atomically, and process them.

        A file that exists with other bytes is replaced only with ``overwrite``, or when
        ``base_versions`` names the version it was edited from and that is still the file's
        version (None: the file must not exist yet). Otherwise nothing is written and
        :class:`FileConflictError` says which files.
        """
        async with self._write_lock:
            conflicts = await asyncio.to_thread(self._conflicts, files, overwrite, base_versions or {})
            if conflicts:
                raise FileConflictError(
                    [name for name, _ in conflicts], "; ".join(why for _, why in conflicts)
                )
            for relative, content in files.items():
                await asyncio.to_thread(self.folder.write, relative, content)
        return await self.process(list(files), actor=actor)

    def _conflicts(
        self, files: Mapping[str, bytes], overwrite: bool, base_versions: Mapping[str, str | None]
    ) -> list[tuple[str, str]]:
        conflicts: list[tuple[str, str]] = []
        for relative, content in files.items():
            current = self.folder.read(relative)
            if relative in base_versions:
                base = base_versions[relative]
                current_version = None if current is None else dag_file_version(current)
                if base != current_version:
                    conflicts.append((relative, _edit_conflict(relative, base, current_version)))
            elif current is not None and current != content and not overwrite:
                conflicts.append((relative, f"{relative} already exists with other content"))
        return conflicts

    async def delete(self, relative_fileloc: str, *, actor: str) -> bool:
        """Remove the file from the folder; its DAGs go with it. False when it did not exist."""
        async with self._write_lock:
            deleted = await asyncio.to_thread(self.folder.delete, relative_fileloc)
        if deleted:
            await self.process([relative_fileloc], actor=actor)
        return deleted

    async def status(self, relative_fileloc: str) -> FileStatus:
        is_dag_file = await asyncio.to_thread(self.folder.is_dag_file, relative_fileloc)
        return self._status(relative_fileloc, is_dag_file)

    async def files(self) -> list[FileStatus]:
        """Every ``.py`` file in the folder with its parse status, sorted by relative fileloc."""
        entries = await asyncio.to_thread(self.folder.entries)
        return [self._status(entry.relative_fileloc, entry.is_dag_file) for entry in entries]

    def _status(self, relative_fileloc: str, is_dag_file: bool) -> FileStatus:
        fileloc = self.folder.fileloc_of(relative_fileloc)
        if not is_dag_file:
            return FileStatus(relative_fileloc, fileloc, "ignored")
        known = self._state.files.get(fileloc)
        if known is None:
            return FileStatus(relative_fileloc, fileloc, "pending")
        return FileStatus(
            relative_fileloc,
            fileloc,
            "import_error" if known.import_error is not None else "parsed",
            known.version,
            known.dag_ids,
            known.import_error,
        )

    # -- the work -------------------------------------------------------------------------

    def _request(self, relative_fileloc: str, *, force: bool = False, actor: str = SERVICE_ACTOR) -> _Request:
        request = self._requests.setdefault(relative_fileloc, _Request())
        request.force |= force
        if actor != SERVICE_ACTOR:
            request.actor = actor
        if relative_fileloc not in self._workers:
            self._workers[relative_fileloc] = asyncio.create_task(
                self._work(relative_fileloc), name=f"registry:{relative_fileloc}"
            )
        return request

    def _wait_for(self, relative_fileloc: str, *, actor: str = SERVICE_ACTOR) -> asyncio.Future[None]:
        """Resolved when a pass over the file that starts after now has finished."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._request(relative_fileloc, actor=actor).waiters.append(waiter)
        return waiter

    async def _work(self, relative_fileloc: str) -> None:
        try:
            while (request := self._requests.pop(relative_fileloc, None)) is not None:
                try:
                    await self._pass(relative_fileloc, request)
                except asyncio.CancelledError:
                    _cancel(request.waiters)
                    raise
                except Exception as error:
                    log.exception("processing DAG file %s failed", relative_fileloc)
                    _settle(request.waiters, error)
                else:
                    _settle(request.waiters, None)
        finally:
            del self._workers[relative_fileloc]

    async def _pass(self, relative_fileloc: str, request: _Request) -> None:
        fileloc = self.folder.fileloc_of(relative_fileloc)
        content, is_dag_file = await asyncio.to_thread(self._read_dag_file, relative_fileloc)
        known = self._state.files.get(fileloc)
        if content is None or not is_dag_file:
            if known is not None:
                await self._commit([DagFileRemoved(fileloc=fileloc)], request.actor)
            return
        version = dag_file_version(content)
        if known is not None and known.version == version and not request.force:
            return
        await asyncio.to_thread(self.blobs.put_dag_file, content)
        async with self._parse_slots:
            try:
                result = await parse_dag_file(
                    Path(fileloc), dags_folder=self.folder.root, timeout=self._parse_timeout
                )
            except FileNotFoundError:
                result = None
        if result is None or result.version != version:
            # The file changed or vanished while it was parsed: look at it again.
            retry = self._request(relative_fileloc, force=request.force, actor=request.actor)
            retry.waiters.extend(request.waiters)
            request.waiters.clear()
            return
        await self._commit_parse(parse_result_events(result), fileloc, version, request.actor)

    def _read_dag_file(self, relative_fileloc: str) -> tuple[bytes | None, bool]:
        return self.folder.read(relative_fileloc), self.folder.is_dag_file(relative_fileloc)

    async def _commit_parse(self, events: list[Event], fileloc: str, version: str, actor: str) -> None:
        async with self._commit_lock:
            dag_ids = [event.dag_id for event in events if isinstance(event, DagParsed)]
            refusal = duplicate_dag_id_error(dag_ids, fileloc, self._state.owners)
            if refusal is not None:
                events = [DagImportFailed(fileloc=fileloc, version=version, stacktrace=refusal)]
            await self._append(events, actor)

    async def _commit(self, events: Sequence[Event], actor: str) -> None:
        async with self._commit_lock:
            await self._append(events, actor)

    async def _append(self, events: Sequence[Event], actor: str) -> None:
        await self._log.append([envelope(event, actor=actor) for event in events])
        for event in events:
            self._state.apply(event)
        for fileloc in self._state.files_to_retry():
            relative = self.folder.relative_of(fileloc)
            if relative is not None:
                self._request(relative, force=True)

    async def _fold_dag_topic(self) -> None:
        ends = await self._log.end_offsets(DAG)
        consumer = self._log.consumer([DAG])
        try:
            behind = {TopicPartition(DAG, p): end for p, end in ends.items() if end > 0}
            while behind:
                for record in await consumer.poll(timeout=1.0):
                    self._state.apply(record.envelope.payload)
                behind = {tp: end for tp, end in behind.items() if consumer.position(tp) < end}
        finally:
            await consumer.close()

    # -- the watcher ----------------------------------------------------------------------

    async def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                watch = watchfiles.awatch(
                    self.folder.root,
                    watch_filter=self._worth_watching,
                    debounce=WATCH_DEBOUNCE_MS,
                    step=WATCH_QUIET_MS,
                    stop_event=self._stop,
                )
                async with contextlib.aclosing(watch) as batches:
                    async for changes in batches:
                        self._on_changes(changes)
                        if not await asyncio.to_thread(self.folder.root.is_dir):
                            # The folder itself went away; a new one made in its place needs a new watch.
                            break
            except OSError:
                log.exception("watching %s failed", self.folder.root)
            if self._stop.is_set():
                return
            await asyncio.sleep(1.0)
            await asyncio.to_thread(self.folder.root.mkdir, parents=True, exist_ok=True)
            self._spawn(self.rescan())

    def _worth_watching(self, _change: watchfiles.Change, path: str) -> bool:
        relative = self.folder.relative_of(path)
        if relative is None:
            return False
        parts = relative.split("/")
        hidden = [part for part in parts if part.startswith(".") or part == "__pycache__"]
        return not hidden or hidden == [parts[-1]] == [IGNORE_FILE_NAME]

    def _on_changes(self, changes: set[tuple[watchfiles.Change, str]]) -> None:
        folder_changed = False
        for _change, path in changes:
            relative = self.folder.relative_of(path)
            if relative is None:
                continue
            if relative.endswith(".py"):
                self._request(relative)
            elif self._changes_which_files_count(relative):
                folder_changed = True
        if folder_changed:
            self._spawn(self.rescan())

    def _changes_which_files_count(self, relative: str) -> bool:
        """An .airflowignore, or a folder that appeared or vanished (with the files below it).

        Anything else (an editor's backup file, a data file) is not worth a rescan.
        """
        if relative == "." or relative.rsplit("/", 1)[-1] == IGNORE_FILE_NAME:
            return True
        if self.folder.path_of(relative).is_dir():
            return True
        below = self.folder.fileloc_of(relative) + "/"
        return any(fileloc.startswith(below) for fileloc in self._state.files)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _settle(waiters: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for waiter in waiters:
        if waiter.done():
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)


def _cancel(waiters: list[asyncio.Future[None]]) -> None:
    for waiter in waiters:
        waiter.cancel()


def _edit_conflict(relative_fileloc: str, base: str | None, current: str | None) -> str:
    if base is None:
        return f"{relative_fileloc} already exists; open it for editing instead of creating it"
    if current is None:
        return f"{relative_fileloc} was deleted since version {base[:12]} was opened"
    return f"{relative_fileloc} changed since version {base[:12]} was opened (it is now {current[:12]})"
