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
    p.set_defaults(handler=rebuild_projections)


async def rebuild_projections(args: argparse.Namespace, settings: Settings) -> int:
    from couture_gateway.readmodels.migrations import open_readmodels
    from couture_gateway.readmodels.projector import rebuild

    started = time.monotonic()
    engine = await open_readmodels(settings.database)
    try:
        async with opened_log(settings) as log:
            count = await rebuild(engine, log)
    finally:
        await engine.dispose()
    elapsed = time.monotonic() - started
    print(f"Rebuilt read models from {count} events in {elapsed:.2f} s")
    return 0
