"""``couture scheduler|executor|registry|auth|gateway``: one service per process (distributed mode).

Every service reads the same COUTURE_* settings as ``couture standalone``: COUTURE_EVENT_LOG
(``sqlite:///...`` on one machine, ``kafka://host:port,...`` across machines), COUTURE_DATABASE_URL
(the gateway's read models), COUTURE_HOME. Besides:

* COUTURE_HEALTH_PORT — where the scheduler and the executor answer ``/health`` and ``/ready``
  (default 8090); the HTTP services answer them on their own port.
* COUTURE_SERVICE_TOKEN — the shared secret services present to each other (the executor to the
  registry); at least 32 characters.
* COUTURE_REGISTRY_URL — where executors fetch DAG files (``http://registry:8080``); without it
  they read the registry's blob folder under COUTURE_HOME (one machine).
* COUTURE_EVENT_LOG=kafka://host:9092?namespace=NAME — the namespace prefixes topic and group names.

SIGTERM stops a service gracefully: it stops taking work, finishes or hands back what it holds,
and exits 0.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from couture_cli.errors import CliError
from couture_common.eventlog.factory import open_event_log
from couture_common.eventlog.port import EventLog
from couture_common.health import DEFAULT_HEALTH_PORT, ServeError, health_port
from couture_common.settings import Settings

SERVICE_TOKEN_VARIABLE = "COUTURE_SERVICE_TOKEN"

_SETTINGS = "Configured by COUTURE_* variables (see `couture standalone --help` and docs/configuration.md)."

Handler = Callable[[argparse.Namespace, Settings], Awaitable[int]]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scheduler = _parser(
        sub,
        "scheduler",
        "Run a scheduler alone: it decides for the DAGs its group share assigns it",
        f"/health and /ready on COUTURE_HEALTH_PORT ({DEFAULT_HEALTH_PORT})",
    )
    scheduler.set_defaults(handler=_scheduler)
    executor = _parser(
        sub,
        "executor",
        "Run an executor alone: it runs the tries its group share of the task queue holds",
        f"/health and /ready on COUTURE_HEALTH_PORT ({DEFAULT_HEALTH_PORT})",
    )
    executor.add_argument(
        "--grace",
        type=float,
        default=30.0,
        help="seconds running tries get to finish after SIGTERM before they are killed and retried "
        "(default 30)",
    )
    executor.set_defaults(handler=_executor)
    registry = _parser(
        sub,
        "registry",
        "Run the DAG registry alone: it parses the DAGs folder and serves DAG files",
        "the API under /api/couture, /health and /ready on COUTURE_PORT (8080)",
    )
    registry.set_defaults(handler=_registry)
    auth = _parser(
        sub,
        "auth",
        "Run the auth service alone: users from the log, logins at POST /auth/token",
        "/auth/token, /health and /ready on COUTURE_PORT (8080)",
    )
    auth.set_defaults(handler=_auth)
    gateway = _parser(
        sub,
        "gateway",
        "Run the REST API alone, with its read models projected from the log in the same process",
        "the API, /health and /ready on COUTURE_PORT (8080)",
    )
    gateway.set_defaults(handler=_gateway)


def _parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str, serves: str
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=summary, description=f"{summary}. Serves {serves}. {_SETTINGS}")
    p.add_argument("--port", type=int, help="overrides the port named above")
    p.add_argument("--host", help="overrides COUTURE_HOST (default 127.0.0.1)")
    return p


async def _scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from couture_scheduler.main import run_scheduler

    host, port = _address(args, settings, health=True)
    return await _guarded(run_scheduler(settings, _log(settings, "scheduler"), host=host, port=port))


async def _executor(args: argparse.Namespace, settings: Settings) -> int:
    from couture_executor.main import dag_file_store, run_executor

    if args.grace < 0:
        raise CliError(f"--grace must be at least 0 seconds, not {args.grace}", exit_code=2)
    host, port = _address(args, settings, health=True)
    registry_url = settings.registry_url
    store = dag_file_store(
        settings, registry_url, _service_token(settings, required=registry_url is not None)
    )
    return await _guarded(
        run_executor(
            settings, _log(settings, "executor"), host=host, port=port, dag_files=store, stop_grace=args.grace
        )
    )


async def _registry(args: argparse.Namespace, settings: Settings) -> int:
    from couture_registry.main import run_registry

    host, port = _address(args, settings, health=False)
    token = _service_token(settings, required=False)
    return await _guarded(
        run_registry(settings, _log(settings, "registry"), host=host, port=port, service_token=token)
    )


async def _auth(args: argparse.Namespace, settings: Settings) -> int:
    from couture_auth.main import run_auth

    host, port = _address(args, settings, health=False)
    return await _guarded(run_auth(settings, _log(settings, "auth"), host=host, port=port))


async def _gateway(args: argparse.Namespace, settings: Settings) -> int:
    from couture_gateway.main import run_gateway

    host, port = _address(args, settings, health=False)
    return await _guarded(run_gateway(settings, _log(settings, "gateway"), host=host, port=port))


async def _guarded(running: Awaitable[None]) -> int:
    try:
        await running
    except ServeError as exc:
        raise CliError(str(exc)) from None
    return 0


def _address(args: argparse.Namespace, settings: Settings, *, health: bool) -> tuple[str, int]:
    port = args.port if args.port is not None else health_port() if health else settings.port
    if not 1 <= port <= 65535:
        raise CliError(f"--port must be from 1 to 65535, not {port}", exit_code=2)
    return args.host or settings.host, port


def _service_token(settings: Settings, *, required: bool) -> str | None:
    """The shared service secret (its length is checked by the settings, never printed)."""
    if settings.service_token is None:
        if required:
            raise CliError(
                f"{SERVICE_TOKEN_VARIABLE} must be set for services to call each other", exit_code=2
            )
        return None
    return settings.service_token.get_secret_value()


def _log(settings: Settings, service: str) -> EventLog:
    """The event log; a Kafka namespace travels in the URL (``kafka://host:9092?namespace=blue``)."""
    return open_event_log(settings.event_log_url, sync=settings.log_sync, client_id=f"couture-{service}")
