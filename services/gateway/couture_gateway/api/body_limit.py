"""Requests with bodies over a size limit are answered 413 before any route reads them.

A declared ``Content-Length`` over the limit is refused at once; a body streamed without one is
counted as it arrives, and once it passes the limit whatever the app answers is replaced by the
413 (the app sees the body end there and may fail in its own way first).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_ENV = "COUTURE_MAX_REQUEST_BYTES"
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self._app = app
        self._max = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self._max:
            await self._refuse(send)
            return
        received = 0
        over = replaced = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max:
                    over = True
                    raise BodyTooLarge
            return message

        async def answered(message: Message) -> None:
            nonlocal replaced
            if not over:
                await send(message)
            elif not replaced:
                replaced = True
                await self._refuse(send)

        try:
            await self._app(scope, counted, answered)
        except BodyTooLarge:
            if not replaced:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"Request body is larger than {self._max} bytes"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
