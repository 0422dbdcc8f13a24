"""``couture streams``: the faust-streaming worker of the Kafka-side stream processors.

It consumes the event log on Kafka (COUTURE_EVENT_LOG=kafka://...?namespace=...) in the
consumer group ``couture-streams``: the audit trail into the read models at COUTURE_DATABASE_URL,
task-duration statistics into a table served by the worker's web view. Start several workers to
share the partitions; SIGTERM stops one gracefully.
"""

from __future__ import annotations

import argparse

from couture_cli.commands.services import _log
from couture_cli.errors import CliError
from couture_common.settings import Settings

DEFAULT_WEB_PORT = 6066


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "Run the stream processors (faust): audit trail and task-duration statistics, on Kafka"
    streams = sub.add_parser(
        "streams",
        help=summary,
        description=f"{summary}. Serves GET /couture/task-durations/{{dag_id}}/ on --port "
        f"({DEFAULT_WEB_PORT}). Configured by COUTURE_* variables (see docs/configuration.md).",
    )
    streams.add_argument("--port", type=int, default=DEFAULT_WEB_PORT, help="the web view's port")
    streams.add_argument("--host", help="overrides COUTURE_HOST (default 127.0.0.1)")
    streams.set_defaults(handler=_streams)


async def _streams(args: argparse.Namespace, settings: Settings) -> int:
    from couture_streams.worker import StreamsConfigError, run_streams

    if not 1 <= args.port <= 65535:
        raise CliError(f"--port must be from 1 to 65535, not {args.port}", exit_code=2)
    try:
        await run_streams(
            settings, _log(settings, "streams"), web_host=args.host or settings.host, web_port=args.port
        )
    except StreamsConfigError as exc:
        raise CliError(str(exc), exit_code=2) from None
    return 0
