"""``couture standalone``: the whole product in one process on this machine."""

from __future__ import annotations

import argparse

from couture_cli.errors import CliError
from couture_common.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "standalone",
        help="Run every service in one process: UI and API on COUTURE_PORT (8080), data in COUTURE_HOME",
    )
    p.add_argument("--port", type=int, help="overrides COUTURE_PORT")
    p.add_argument("--host", help="overrides COUTURE_HOST (default 127.0.0.1)")
    p.set_defaults(handler=standalone)


async def standalone(args: argparse.Namespace, settings: Settings) -> int:
    # The web stack loads only for the command that serves it.
    from fastapi import FastAPI

    from couture_common.health import ServeError, serve
    from couture_common.tracing import configure_tracing
    from couture_gateway.app import close_live_streams, create_app
    from couture_gateway.deps import registry_editor, registry_reader
    from couture_gateway.ui import mount_ui
    from couture_registry.api import registry_router
    from couture_registry.code_bricks import CodeBrickStore
    from couture_standalone.engine import Engine

    configure_tracing("couture-standalone")

    if args.port is not None:
        settings = settings.model_copy(update={"port": args.port})
    if args.host is not None:
        settings = settings.model_copy(update={"host": args.host})
    engine = Engine(settings)
    stopped = False
    app: FastAPI | None = None

    async def stop() -> None:
        nonlocal stopped
        stopped = True
        if app is not None:
            close_live_streams(app)
        await engine.stop()

    await engine.start()
    try:
        assert engine.readmodels is not None and engine.projector is not None
        app = create_app(
            log=engine.log, engine=engine.readmodels, settings=settings, projector=engine.projector
        )
        app.include_router(
            registry_router(
                engine.registry,
                CodeBrickStore.from_settings(settings),
                can_read=registry_reader,
                can_edit=registry_editor,
            ),
            prefix="/api/couture",
        )
        # Last: the UI answers every GET the API routes above do not.
        mount_ui(app)
        # serve() stops the engine on SIGTERM/SIGINT before the server ends, so running tries are
        # handed back and the log is closed cleanly.
        await serve(
            app,
            host=settings.host,
            port=settings.port,
            start=_nothing,
            stop=stop,
            on_ready=lambda: _print_banner(settings),
        )
    except ServeError as exc:
        raise CliError(f"the gateway could not start: {exc}") from None
    finally:
        if not stopped:
            await engine.stop()
    return 0


async def _nothing() -> None:
    """The engine is started before the app exists (the app reads its read models)."""


def _print_banner(settings: Settings) -> None:
    base = f"http://{settings.host}:{settings.port}"
    password = (
        "the COUTURE_ADMIN_PASSWORD you set"
        if settings.admin_password
        else "couture@123 (you choose a new password at first login)"
    )
    print(
        "Couture Workflow Orchestrator is running.\n"
        f"  UI:        {base}/\n"
        f"  REST API:  {base}/api/v2  (OpenAPI: {base}/docs)\n"
        f"  Log in as: superadmin / {password}\n"
        f"  DAG folder: {settings.dags_path}\n"
        f"  Data:       {settings.home}\n"
        "Press Ctrl+C to stop.",
        flush=True,
    )
