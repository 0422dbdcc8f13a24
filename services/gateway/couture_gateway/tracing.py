"""A server span per HTTP request, continuing a caller's ``traceparent`` when it sends one.

Events appended while the request is handled carry this span's context (see ``envelope()``), so a
run triggered over HTTP is traced from the request through the scheduler to each task try.
"""

from __future__ import annotations

from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from couture_common.tracing import continued_span

_PROPAGATED = (b"traceparent", b"tracestate")


class TracingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carried = {k.decode(): v.decode() for k, v in scope["headers"] if k in _PROPAGATED}
        method = scope["method"]
        attributes = {"http.method": method, "http.target": scope["path"]}
        with continued_span(f"HTTP {method}", carried, kind=SpanKind.SERVER, attributes=attributes) as span:

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self.app(scope, receive, send_with_status)
