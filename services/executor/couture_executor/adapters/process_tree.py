"""Signal a task process and everything it started.

A task process leads its own process group, so ``killpg`` reaches the shells and programs it
started. Programs that left the group (``setsid``, as Airflow's subprocess hook does) are found by
walking the process tree; they are remembered, because once their parent dies they are re-parented
and the walk no longer finds them.
"""

from __future__ import annotations

import contextlib
import os
import signal

import psutil


class ProcessTree:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._descendants: dict[int, psutil.Process] = {}

    def signal(self, signum: signal.Signals) -> None:
        self._remember_descendants()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)
        for process in list(self._descendants.values()):
            try:
                process.send_signal(signum)
            except psutil.NoSuchProcess:
                del self._descendants[process.pid]
            except psutil.AccessDenied:
                pass

    def _remember_descendants(self) -> None:
        try:
            children = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for child in children:
            self._descendants.setdefault(child.pid, child)
