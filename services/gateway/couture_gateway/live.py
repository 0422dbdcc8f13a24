"""Live updates: what the projector changed, fanned out to each browser's stream, filtered by RBAC.

The projector calls :meth:`LiveHub.publish` after every committed batch. Each open stream is a
:class:`Subscription` holding at most ``queue_size`` batches it has not sent yet: a subscriber
that falls that far behind (a stalled client, a slow network) is dropped and told to resync, so a
slow browser never makes the gateway hold an unbounded backlog. Every user may hold a few streams
at once (tabs), not more.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from couture_auth.domain.permissions import DAG_READ, Principal, can, can_access_dag
from couture_gateway.api.access import RULES, Rule
from couture_gateway.readmodels import changes as kinds
from couture_gateway.readmodels.changes import Change, Changes

#: Who may hear of a change of each kind: whoever may call the endpoint listing it.
KIND_RULES: dict[str, Rule] = {
    kinds.DAG_KIND: RULES["get_dags"],
    kinds.IMPORT_ERROR: RULES["get_import_errors"],
    kinds.DAG_RUN: RULES["get_dag_runs"],
    kinds.TASK_INSTANCE: RULES["get_task_instances"],
    kinds.XCOM: RULES["get_xcom_entries"],
    kinds.SLA_MISS: RULES["get_sla_misses"],
    kinds.VARIABLE: RULES["get_variables"],
    kinds.CONNECTION: RULES["get_connections"],
    kinds.POOL: RULES["get_pools"],
    kinds.AUDIT_KIND: RULES["get_audit_logs"],
}


@dataclass(frozen=True, slots=True)
class LiveSettings:
    #: Seconds between comment lines on an idle stream (keeps proxies from closing it).
    heartbeat: float = 15.0
    #: Batches a stream may have waiting before its subscriber is dropped with a resync.
    queue_size: int = 256
    #: Streams one user may hold open at once.
    streams_per_user: int = 8


class TooManyStreams(Exception):
    """The user already holds ``streams_per_user`` streams."""


class HubClosed(Exception):
    """The gateway is shutting down: no new streams."""


class Dropped(Exception):
    """The subscription ended: ``reason`` is ``resync`` (it fell behind) or ``closed`` (shutdown)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def visible(principal: Principal, changes: Iterable[Change]) -> Changes:
    """The changes ``principal`` may hear of: kinds it may list, on DAGs it may read."""
    # Called for every stream on every batch the projector commits: each check is made once.
    kinds: dict[str, bool] = {}
    dags: dict[str, bool] = {}
    shown = []
    for change in changes:
        if change.kind not in kinds:
            kinds[change.kind] = _may_list(principal, change.kind)
        if not kinds[change.kind]:
            continue
        if change.dag_id is not None:
            if change.dag_id not in dags:
                dags[change.dag_id] = can_access_dag(principal, DAG_READ, change.dag_id)
            if not dags[change.dag_id]:
                continue
        shown.append(change)
    return frozenset(shown)


def _may_list(principal: Principal, kind: str) -> bool:
    rule = KIND_RULES.get(kind)
    if rule is None:
        # A kind without a rule is for those who may do everything, like a route without one.
        return principal.has_every_permission
    return all(can(principal, action, resource) for action, resource in rule.permissions)


class Subscription:
    """One open stream: the changes its user may see, waiting to be sent."""

    def __init__(self, username: str, principal: Principal, queue_size: int) -> None:
        self.username = username
        #: Replaced when the stream re-checks the user's roles, so a role change applies.
        self.principal = principal
        self._queue_size = queue_size
        self._pending: deque[Changes] = deque()
        self._wake = asyncio.Event()
        self._ended: str | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def offer(self, changes: Changes) -> bool:
        """Queue what this user may see of ``changes``; False once it has fallen too far behind."""
        if self._ended is not None:
            return False
        shown = visible(self.principal, changes)
        if not shown:
            return True
        if len(self._pending) >= self._queue_size:
            self.end("resync")
            return False
        self._pending.append(shown)
        self._wake.set()
        return True

    def end(self, reason: str) -> None:
        if self._ended is None:
            self._ended = reason
            # What it held will never be sent: the subscriber refetches everything on resync.
            self._pending.clear()
            self._wake.set()

    async def next(self, timeout: float) -> Changes:
        """Everything queued, merged; empty after ``timeout`` seconds without any. Raises Dropped."""
        if not self._pending and self._ended is None:
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                return frozenset()
        self._wake.clear()
        if self._ended is not None:
            raise Dropped(self._ended)
        merged = frozenset().union(*self._pending)
        self._pending.clear()
        return merged


class LiveHub:
    def __init__(self, settings: LiveSettings | None = None) -> None:
        self.settings = settings or LiveSettings()
        self._subscriptions: set[Subscription] = set()
        self._closed = False

    def streams_of(self, username: str) -> int:
        return sum(1 for s in self._subscriptions if s.username == username)

    def subscribe(self, username: str, principal: Principal) -> Subscription:
        if self._closed:
            raise HubClosed("the gateway is shutting down")
        if self.streams_of(username) >= self.settings.streams_per_user:
            raise TooManyStreams(f"{username} already has {self.settings.streams_per_user} live streams open")
        subscription = Subscription(username, principal, self.settings.queue_size)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, changes: Changes) -> None:
        """The projector's listener: never blocks, drops the subscribers that fell behind."""
        for subscription in list(self._subscriptions):
            if not subscription.offer(changes):
                self._subscriptions.discard(subscription)

    def close(self) -> None:
        """End every stream (before the HTTP server waits for open requests to finish)."""
        self._closed = True
        for subscription in self._subscriptions:
            subscription.end("closed")
        self._subscriptions.clear()


# --- Server-sent events wire format ----------------------------------------------------------


def sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def change_event(changes: Changes) -> str:
    """``{"changes": [{"kind": ..., "dag_id": ..., "run_id": ...}]}``, absent ids left out."""
    listed = [{k: v for k, v in c._asdict().items() if v is not None} for c in sorted(changes, key=_order)]
    return sse("change", {"changes": listed})


def _order(change: Change) -> tuple[str, str, str]:
    return (change.kind, change.dag_id or "", change.run_id or "")


HEARTBEAT = ": keep-alive\n\n"
