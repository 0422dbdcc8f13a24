"""Wakes waiting polls when their topics change, whichever thread or event loop they wait on.

A poll takes a snapshot of its topics' versions before it reads; if nothing came back it waits
with that snapshot, and a change that landed between the read and the wait ends the wait at once,
so no wake-up is lost and no poll re-reads in a loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

Snapshot = tuple[int, ...]


@dataclass(frozen=True, eq=False, slots=True)
class _Waiter:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    topics: frozenset[str]


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class ChangeNotifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._versions: defaultdict[str, int] = defaultdict(int)
        self._waiters: set[_Waiter] = set()

    def snapshot(self, topics: Iterable[str]) -> Snapshot:
        with self._lock:
            return self._snapshot(topics)

    def notify(self, topics: Collection[str]) -> None:
        """Some of ``topics`` changed: wake the polls waiting on them. Callable from any thread."""
        if not topics:
            return
        with self._lock:
            for topic in topics:
                self._versions[topic] += 1
            woken = [w for w in self._waiters if not w.topics.isdisjoint(topics)]
        self._wake(woken)

    def notify_all(self) -> None:
        with self._lock:
            self._generation += 1
            woken = list(self._waiters)
        self._wake(woken)

    async def wait(self, topics: Collection[str], since: Snapshot, timeout: float | None) -> None:
        """Return when one of ``topics`` changed after ``since`` was taken, or after ``timeout``."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop, loop.create_future(), frozenset(topics))
        with self._lock:
            if self._snapshot(topics) != since:
                return
            self._waiters.add(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter.future
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def _snapshot(self, topics: Iterable[str]) -> Snapshot:
        return (self._generation, *(self._versions[topic] for topic in topics))

    @staticmethod
    def _wake(waiters: list[_Waiter]) -> None:
        for waiter in waiters:
            try:
                waiter.loop.call_soon_threadsafe(_wake, waiter.future)
            except RuntimeError:
                # The waiter's loop is closed: nobody is left to wake.
                continue
