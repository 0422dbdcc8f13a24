"""Liveness and readiness over HTTP, and running one service process until SIGTERM.

Every ``couture <service>`` process answers:

* ``GET /health`` — 200 while the process serves at all (liveness: restart it when this fails);
* ``GET /ready`` — 200 once the service has caught up with the log and takes work, 503 while it
  starts or stops (readiness: send it work only when this answers 200).

Services with an HTTP API add :func:`health_router` to it; the scheduler and the executor serve
:func:`health_app` alone, on ``COUTURE_HEALTH_PORT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

logger = logging.getLogger(__name__)

HEALTH_PORT_VARIABLE = "COUTURE_HEALTH_PORT"
DEFAULT_HEALTH_PORT = 8090


class ServeError(RuntimeError):
    """The process could not serve (its port is taken, or the service failed to start)."""


def health_port() -> int:
    """``COUTURE_HEALTH_PORT`` (default 8090), read through the settings like every other."""
    from couture_common.settings import Settings

    return Settings().health_port


class Readiness:
    """What ``/ready`` answers: set once the service takes work, cleared when it starts stopping."""

    def __init__(self) -> None:
        self._ready = False

    def set(self, ready: bool) -> None:
        self._ready = ready

    def __call__(self) -> bool:
        return self._ready


def health_router(
    service: str, ready: Callable[[], bool], details: Callable[[], dict[str, Any]] | None = None
) -> APIRouter:
    """``details`` adds what the service holds now (the scheduler: its run partitions) to ``/ready``."""
    router = APIRouter(tags=["Health"])

    @router.get("/health")
    async def health() -> dict[str, str]:
        """The process is alive."""
        return {"service": service, "status": "alive"}

    @router.get("/ready", responses={503: {"description": "Starting, catching up or stopping."}})
    async def readiness() -> JSONResponse:
        """The service has caught up with the log and takes work."""
        extra = details() if details is not None else {}
        if ready():
            return JSONResponse({"service": service, "status": "ready", **extra})
        return JSONResponse({"service": service, "status": "not ready", **extra}, status_code=503)

    return router


def health_app(
    service: str, ready: Callable[[], bool], details: Callable[[], dict[str, Any]] | None = None
) -> FastAPI:
    """The whole HTTP face of a service without an API of its own."""
    app = FastAPI(title=f"Couture {service}", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(health_router(service, ready, details))
    return app


class _Server(uvicorn.Server):
    """uvicorn without its signal handling: :func:`serve` stops the service before the server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    app: Any,
    *,
    host: str,
    port: int,
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve ``app``, run ``start``, and on SIGTERM or SIGINT run ``stop`` and end the server.

    The server listens before ``start`` runs, so ``/health`` answers while the service catches up.
    A signal during ``start`` abandons it and still runs ``stop``.
    """
    loop = asyncio.get_running_loop()
    terminate = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, terminate.set)
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(_serve_http(server, host, port), name="http")
    try:
        while not server.started:
            if serving.done():
                serving.result()
                raise ServeError(f"could not listen on {host}:{port}")
            await asyncio.sleep(0.02)
        terminated = asyncio.create_task(terminate.wait())
        starting = asyncio.create_task(_call(start), name="start")
        try:
            await asyncio.wait([starting, terminated, serving], return_when=asyncio.FIRST_COMPLETED)
            if starting.done():
                starting.result()
                if on_ready is not None:
                    on_ready()
                await asyncio.wait([terminated, serving], return_when=asyncio.FIRST_COMPLETED)
            else:
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
        finally:
            terminated.cancel()
            logger.info("stopping")
            await stop()
        if serving.done():
            serving.result()
            raise ServeError(f"the HTTP server on {host}:{port} ended on its own")
    finally:
        server.should_exit = True
        await asyncio.wait([serving])
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _serve_http(server: uvicorn.Server, host: str, port: int) -> None:
    try:
        await server.serve()
    except SystemExit:
        # uvicorn exits the process when it cannot listen or the app's startup fails; it logged why.
        raise ServeError(f"could not serve HTTP on {host}:{port}") from None


async def _call(start: Callable[[], Awaitable[None]]) -> None:
    await start()
