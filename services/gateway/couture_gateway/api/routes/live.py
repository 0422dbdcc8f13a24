"""Couture: ``GET /live``, a server-sent event stream telling the browser what to refetch.

Events: ``ready`` once subscribed; ``change`` with ``{"changes": [{"kind", "dag_id"?, "run_id"?}]}``
after each batch the read models applied (only kinds and DAGs the user may read); ``resync`` when
the client fell behind, which ends the stream (refetch everything, then reconnect). A comment line
every heartbeat keeps proxies from closing an idle stream; at each heartbeat the user's roles are
read again, and the stream ends when the user is deactivated, logged out or the token expires.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import StreamingResponse

from couture_auth import AuthService, TokenClaims
from couture_common.clock import utcnow
from couture_gateway.deps import AuthDep, Authorized, CurrentUser
from couture_gateway.live import (
    HEARTBEAT,
    Dropped,
    HubClosed,
    LiveHub,
    Subscription,
    TooManyStreams,
    change_event,
    sse,
)
from couture_gateway.schemas.common import HTTPExceptionResponse

router = APIRouter(tags=["Live updates (Couture)"])


def live_hub(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.live
    return hub


@router.get(
    "/live",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The event stream."},
        429: {"model": HTTPExceptionResponse, "description": "Too many streams open for this user."},
        503: {"model": HTTPExceptionResponse, "description": "The gateway is shutting down."},
    },
)
async def get_live_changes(
    request: Request, principal: Authorized, claims: CurrentUser, auth: AuthDep
) -> StreamingResponse:
    """What changed in the read models, as it happens (text/event-stream)."""
    hub = live_hub(request)
    try:
        subscription = hub.subscribe(claims.subject, principal)
    except TooManyStreams as error:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(error)) from None
    except HubClosed as error:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None
    return StreamingResponse(
        _events(hub, subscription, claims, auth),
        media_type="text/event-stream",
        # No caching, and no buffering by a proxy (nginx) that would hold events back.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    hub: LiveHub, subscription: Subscription, claims: TokenClaims, auth: AuthService
) -> AsyncIterator[str]:
    heartbeat = hub.settings.heartbeat
    checked = time.monotonic()
    try:
        yield sse("ready", {"heartbeat_s": heartbeat})
        while True:
            if time.monotonic() - checked >= heartbeat:
                principal = await auth.principal(claims.subject)
                if principal is None or auth.is_revoked(claims):
                    return
                subscription.principal = principal
                checked = time.monotonic()
            left = (claims.expires_at - utcnow()).total_seconds()
            if left <= 0:
                return
            try:
                changes = await subscription.next(min(heartbeat, left))
            except Dropped as dropped:
                if dropped.reason == "resync":
                    yield sse("resync", {"reason": "the stream fell behind; refetch and reconnect"})
                return
            yield change_event(changes) if changes else HEARTBEAT
    finally:
        hub.unsubscribe(subscription)
