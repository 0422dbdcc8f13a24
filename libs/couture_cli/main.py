"""``couture``: the one command of the product. ``couture --help`` lists everything."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from couture_cli.commands import (
    connections,
    dags,
    fernet,
    ldap,
    projections,
    services,
    standalone,
    streams,
    tasks,
    users,
    variables,
)
from couture_cli.errors import CliError
from couture_common.eventlog.port import EventLogError
from couture_common.settings import Settings

GROUPS = (
    standalone,
    services,
    streams,
    dags,
    tasks,
    variables,
    connections,
    users,
    ldap,
    projections,
    fernet,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="couture",
        description="Couture Workflow Orchestrator. Configuration: COUTURE_* environment variables "
        "(see docs/configuration.md).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    try:
        settings = Settings()
        code: int = asyncio.run(args.handler(args, settings))
    except CliError as exc:
        print(f"couture: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValidationError as exc:
        problems = "; ".join(
            f"COUTURE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        print(f"couture: error: invalid configuration: {problems}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"couture: error: invalid configuration: {exc}", file=sys.stderr)
        return 2
    except EventLogError as exc:
        print(f"couture: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
