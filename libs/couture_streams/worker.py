"""Run the stream processors until SIGTERM or SIGINT (``couture streams``)."""

from __future__ import annotations

import asyncio
import signal

from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.eventlog.port import EventLog
from couture_common.settings import Settings
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.streams import audit, durations
from couture_streams.app import create_app


class StreamsConfigError(ValueError):
    """The worker cannot run with this configuration."""


async def run_streams(
    settings: Settings, log: EventLog, *, web_host: str, web_port: int, stop: asyncio.Event | None = None
) -> None:
    """Process the streams until ``stop`` is set, or until SIGTERM or SIGINT without one.

    The audit trail goes to the read models at COUTURE_DATABASE_URL; the task-duration statistics
    are served at ``http://web_host:web_port/couture/task-durations/{dag_id}/``.
    """
    if not isinstance(log, KafkaEventLog):
        raise StreamsConfigError(
            "the stream processors run on Kafka: set COUTURE_EVENT_LOG=kafka://host:port[,host:port]"
        )
    stopping = stop or _stop_on_signals()
    await log.start()
    engine = await open_readmodels(settings.database)
    app = create_app(log, web_host=web_host, web_port=web_port)
    audit.install(app, log, engine)
    durations.install(app, log)
    try:
        await app.start()
        await stopping.wait()
    finally:
        await app.stop()
        await engine.dispose()
        await log.close()


def _stop_on_signals() -> asyncio.Event:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    return stopping
