"""``couture projections rebuild``: drop the read models and fold them again from offset 0."""

from __future__ import annotations

import argparse
import time

from couture_cli.logview import opened_log
from couture_common.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    projections = sub.add_parser("projections", help="Manage the read models folded from the event log")
    cmds = projections.add_subparsers(dest="projections_command", required=True, metavar="COMMAND")
    p = cmds.add_parser(
        "rebuild", help="Drop the read models and rebuild them from offset 0 (stop the server first)"
    )
    p.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="processes folding the run partitions on PostgreSQL (default: one per CPU; SQLite: 1)",
    )
    p.set_defaults(handler=rebuild_projections)


def _workers(text: str) -> int:
    try:
        workers = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--workers must be a whole number, not {text!r}") from None
    if workers < 1:
        raise argparse.ArgumentTypeError(f"--workers must be at least 1, not {workers}")
    return workers


async def rebuild_projections(args: argparse.Namespace, settings: Settings) -> int:
    from couture_gateway.readmodels.migrations import open_readmodels
    from couture_gateway.readmodels.rebuild import rebuild

    started = time.monotonic()
    engine = await open_readmodels(settings.database)
    try:
        async with opened_log(settings) as log:
            count = await rebuild(engine, log, workers=args.workers)
    finally:
        await engine.dispose()
    elapsed = time.monotonic() - started
    print(f"Rebuilt read models from {count} events in {elapsed:.2f} s")
    return 0
