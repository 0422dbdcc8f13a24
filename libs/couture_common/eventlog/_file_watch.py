"""Hears commits that other processes make to a SQLite file in WAL mode.

Every commit writes to the ``-wal`` file beside the database, so a file-system watch on it (inotify,
FSEvents... through ``watchfiles``) learns of another process's appends without querying the
database in a loop. The callback also runs every ``recheck_s`` without a change, a safety net for
file systems that report nothing (network mounts).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

logger = logging.getLogger(__name__)

#: How long the watcher gathers file events before it reports them (bounds cross-process latency).
_STEP_MS = 20
_DEBOUNCE_MS = 100


class WalWatcher:
    def __init__(self, db_path: Path, on_change: Callable[[], None], *, recheck_s: float = 1.0) -> None:
        self._directory = db_path.resolve().parent
        self._wal_name = f"{db_path.name}-wal"
        self._on_change = on_change
        self._recheck_s = recheck_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"eventlog-watch:{db_path.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Blocks until the watcher thread ended; call it off the event loop."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            for _changes in watchfiles.watch(
                self._directory,
                watch_filter=self._is_wal,
                step=_STEP_MS,
                debounce=_DEBOUNCE_MS,
                rust_timeout=int(self._recheck_s * 1000),
                yield_on_timeout=True,
                stop_event=self._stop,
                recursive=False,
                raise_interrupt=False,
            ):
                self._on_change()
        except Exception:
            logger.exception(
                "watching %s failed; other processes' appends are now seen every %.1f s",
                self._directory,
                self._recheck_s,
            )
            while not self._stop.wait(self._recheck_s):
                self._on_change()

    def _is_wal(self, _change: watchfiles.Change, path: str) -> bool:
        return Path(path).name == self._wal_name
