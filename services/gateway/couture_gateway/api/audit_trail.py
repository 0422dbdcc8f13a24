"""The audit trail: every state-changing request and every login attempt, as an ``AuditRecorded``.

An ASGI middleware appends the record when the response starts, before the client sees it, so a
change the client was told about is never missing from the trail. The record names what was
touched (path ids, and identifying body fields such as a variable's ``key``), never a value
that was written: only the identifier fields in ``_IDENTIFIERS`` are read from a body.

The source IP is the connecting peer, unless that peer is a trusted proxy (``trusted_proxies``):
then ``X-Forwarded-For`` is read from the right, skipping trusted proxies, and the first address
that is not one is the client. A client cannot choose its recorded address by sending the header.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from couture_common.auth_settings import IPNetwork
from couture_common.eventlog import EventLog
from couture_common.events import AuditOutcome, AuditRecorded, envelope
from couture_common.ids import uuid7

LOGIN_ACTION = "login"
REQUEST_ID_HEADER = "x-request-id"

_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Reads recorded too: they copy out in bulk what the deployment holds (every DAG file's source).
AUDITED_READS = frozenset({"/api/couture/dags/export"})
#: The API clients' login and the browser's (session cookies).
_LOGIN_PATHS = frozenset({"/auth/token", "/auth/login"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
#: Body fields that identify what a request creates or changes; never a value or a secret.
_IDENTIFIERS = ("key", "connection_id", "name", "pool", "username", "dag_run_id", "task_id")
_MAX_BODY = 64 * 1024
_MAX_FIELD = 250


def source_ip(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str | None:
    """The client's address, given the connecting ``peer`` and every ``X-Forwarded-For`` header."""
    if peer is None or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop if _is_address(hop) else None
    return hops[0] if hops else peer


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def outcome_for(status_code: int, *, login: bool = False) -> AuditOutcome:
    """A login refused for its credentials ``failed``; a request refused for its user ``denied``."""
    if status_code < 400:
        return "success"
    if status_code == 401 and login:
        return "failed"
    if status_code in (401, 403, 429):
        return "denied"
    return "failed" if status_code < 500 else "error"


def describe_target(path_params: dict[str, Any], body: bytes) -> tuple[str | None, str | None]:
    """The DAG and the other ids a request names: ``(dag_id, "name=value, ...")``."""
    named = {k: str(v) for k, v in path_params.items()}
    parsed = _json_object(body)
    for field in (*_IDENTIFIERS, "dag_id"):
        value = parsed.get(field)
        if isinstance(value, str) and field not in named:
            named[field] = value[:_MAX_FIELD]
    dag_id = named.pop("dag_id", None)
    target = ", ".join(f"{k}={v}" for k, v in named.items()) or None
    return dag_id, target


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _header(scope: Scope, name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == name]


class AuditTrail:
    """ASGI middleware recording writes under ``/api/``, logins and ``AUDITED_READS``; other reads
    pass untouched.

    Endpoints whose operation id starts with ``get_`` (POSTed list queries) or ends with
    ``_dry_run`` change nothing and are not recorded.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_proxies: Iterable[IPNetwork] = (),
        log: EventLog | None = None,
        service: str = "gateway",
    ) -> None:
        """``trusted_proxies``: ``Settings.trusted_proxies`` (none: every peer is the client);
        ``log``: where records go (default: the gateway's, from ``app.state.gateway``); ``service``
        names the process in the actor of records no user is known for (``service:<name>``)."""
        self._app = app
        self._log = log
        self._service = service
        self._trusted = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (
            (scope["method"] in _CHANGING and (path.startswith("/api/") or path in _LOGIN_PATHS))
            or (scope["method"] == "GET" and path in AUDITED_READS)
        ):
            await self._app(scope, receive, send)
            return
        client = scope.get("client")
        address = source_ip(client[0] if client else None, _header(scope, b"x-forwarded-for"), self._trusted)
        # The login route throttles by address; it reads the one worked out here.
        scope.setdefault("state", {})["source_ip"] = address
        given = next(iter(_header(scope, REQUEST_ID_HEADER.encode())), "")
        request_id = given if _REQUEST_ID.match(given) else str(uuid7())
        body = bytearray()
        recorded = False

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) < _MAX_BODY:
                body.extend(message.get("body", b"")[: _MAX_BODY - len(body)])
            return message

        async def record_then_send(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                await self._record(scope, int(message["status"]), bytes(body), request_id, address)
                headers = [*message.get("headers", []), (REQUEST_ID_HEADER.encode(), request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._app(scope, receive_and_keep, record_then_send)
        except Exception:
            if not recorded:
                await self._record(scope, 500, bytes(body), request_id, address)
            raise

    async def _record(
        self, scope: Scope, status_code: int, body: bytes, request_id: str, address: str | None
    ) -> None:
        route = scope.get("route")
        name = getattr(route, "name", None)
        if name and (name.startswith("get_") or name.endswith("_dry_run")):
            return
        if scope["method"] == "GET" and name is None:
            return  # an audited read this process does not serve (the gateway beside a registry)
        state = scope.get("state", {})
        principal = state.get("principal")
        login = scope.get("path") in _LOGIN_PATHS
        username = state.get("login_username") if login else getattr(principal, "username", None)
        if username is not None:
            username = username[:_MAX_FIELD]
        dag_id, target = (None, None) if login else describe_target(scope.get("path_params", {}), body)
        event = AuditRecorded(
            username=username,
            action=LOGIN_ACTION if login else (name or "unmatched"),
            method=scope["method"],
            path=scope.get("path", "")[:2000],
            dag_id=dag_id,
            target=target[:2000] if target else None,
            source_ip=address,
            outcome=outcome_for(status_code, login=login),
            status_code=status_code,
            request_id=request_id,
        )
        actor = f"user:{principal.username}" if principal is not None else f"service:{self._service}"
        log: EventLog = self._log or scope["app"].state.gateway.log
        await log.append([envelope(event, actor=actor)])
