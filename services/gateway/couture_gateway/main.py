"""``couture gateway``: the REST API and its read models as a process of its own.

The gateway always runs its projector in the same process: writes answer only once their events
are in the read models (read-your-writes), which needs the projector beside the API. Gateways scale
out on a shared PostgreSQL database (``COUTURE_DATABASE_URL``): each projects the log into it, and
the projection is idempotent per stored offset.
"""

from __future__ import annotations

import asyncio
import contextlib

from couture_common.eventlog.port import EventLog
from couture_common.health import Readiness, health_router, serve
from couture_common.settings import Settings
from couture_gateway.app import close_live_streams, create_app
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.projector import Projector
from couture_gateway.ui import mount_ui


async def run_gateway(settings: Settings, log: EventLog, *, host: str, port: int) -> None:
    """Until SIGTERM: then requests in flight finish, projecting stops, and the process ends."""
    await log.start()
    readmodels = await open_readmodels(settings.database)
    projector = Projector(readmodels, log)
    ready = Readiness()
    projecting: asyncio.Task[None] | None = None
    app = create_app(log=log, engine=readmodels, settings=settings, projector=projector)
    app.include_router(health_router("gateway", ready))
    # Last: the UI answers the GETs no route above does (it must not hide /health or /ready).
    mount_ui(app)

    async def start() -> None:
        nonlocal projecting
        await projector.start()
        await projector.catch_up()
        projecting = asyncio.create_task(projector.run(), name="projector")
        ready.set(True)

    async def stop() -> None:
        ready.set(False)
        close_live_streams(app)

    try:
        await serve(app, host=host, port=port, start=start, stop=stop)
    finally:
        if projecting is not None:
            projecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await projecting
        await projector.close()
        await readmodels.dispose()
        await log.close()
