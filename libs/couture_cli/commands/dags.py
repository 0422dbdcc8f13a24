"""``couture dags list|trigger|pause|unpause|test``."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import datetime
from typing import Any

from couture_cli.errors import CliError
from couture_cli.logview import ACTOR, append, fold, opened_log
from couture_cli.output import print_json, print_table
from couture_common.clock import ensure_utc, utcnow
from couture_common.eventlog.port import EventLog, TopicPartition
from couture_common.events import DagPausedSet, DagRunFinished, DagRunRejected, DagRunRequested, envelope
from couture_common.settings import Settings
from couture_common.topics import DAG, RUN
from couture_scheduler.domain import SchedulerState, apply


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dags = sub.add_parser("dags", help="List, trigger, pause and test DAGs")
    cmds = dags.add_subparsers(dest="dags_command", required=True, metavar="COMMAND")

    p = cmds.add_parser("list", help="List the DAGs the registry has parsed")
    p.add_argument("-o", "--output", choices=("table", "json"), default="table")
    p.set_defaults(handler=list_dags)

    p = cmds.add_parser("trigger", help="Trigger a DAG run (acknowledged once it is in the event log)")
    p.add_argument("dag_id")
    p.add_argument("-c", "--conf", help="JSON object passed as dag_run.conf")
    p.add_argument("-r", "--run-id", help="run_id (default manual__<logical date>)")
    p.add_argument("-l", "--logical-date", "-e", "--exec-date", dest="logical_date", help="ISO 8601")
    p.set_defaults(handler=trigger)

    for name, paused in (("pause", True), ("unpause", False)):
        p = cmds.add_parser(name, help=f"{name.capitalize()} a DAG")
        p.add_argument("dag_id")
        p.set_defaults(handler=_set_paused(paused))

    p = cmds.add_parser(
        "test",
        help="Run one DAG run now through the real scheduler and executor, and print its task states",
    )
    p.add_argument("dag_id")
    p.add_argument("logical_date", nargs="?", help="ISO 8601 (default now)")
    p.add_argument("-c", "--conf", help="JSON object passed as dag_run.conf")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the run")
    p.set_defaults(handler=test_dag)


def parse_conf(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"--conf is not valid JSON: {exc}") from None
    if not isinstance(conf, dict):
        raise CliError("--conf must be a JSON object")
    return conf


def parse_date(text: str | None, *, field: str) -> datetime:
    if text is None:
        return utcnow()
    try:
        return ensure_utc(datetime.fromisoformat(text))
    except ValueError:
        raise CliError(f"{field}: {text!r} is not an ISO 8601 date or datetime") from None


async def known_dags(settings: Settings) -> SchedulerState:
    """The DAGs as the log knows them, after the DAG folder's changed files were parsed (like
    Airflow's CLI, which parses the folder first)."""
    from couture_registry.service import DagFolderRegistry

    state = SchedulerState()
    async with opened_log(settings) as log:
        registry = DagFolderRegistry.from_settings(settings, log, watch=False)
        await registry.start()
        try:
            await registry.idle()
        finally:
            await registry.stop()
        await fold(log, [DAG], lambda record: apply(state, record))
    return state


async def _require_dag(settings: Settings, dag_id: str) -> None:
    state = await known_dags(settings)
    dag = state.dags.get(dag_id)
    if dag is None or dag.spec is None or not dag.is_active:
        raise CliError(f"DAG {dag_id!r} not found (is its file in {settings.dags_path} and parsed?)")


async def list_dags(args: argparse.Namespace, settings: Settings) -> int:
    state = await known_dags(settings)
    rows = []
    for dag in sorted(state.dags.values(), key=lambda d: d.dag_id):
        if dag.spec is None or not dag.is_active:
            continue
        schedule = dag.spec.schedule.display or dag.spec.schedule.cron or dag.spec.schedule.kind
        rows.append(
            {
                "dag_id": dag.dag_id,
                "fileloc": dag.spec.fileloc,
                "owner": dag.spec.owner,
                "is_paused": dag.is_paused,
                "schedule": schedule,
                "tasks": len(dag.spec.tasks),
            }
        )
    if args.output == "json":
        print_json(rows)
    else:
        print_table(
            ("dag_id", "fileloc", "owner", "is_paused", "schedule", "tasks"),
            [tuple(row.values()) for row in rows],
        )
    return 0


async def trigger(args: argparse.Namespace, settings: Settings) -> int:
    conf = parse_conf(args.conf)
    logical_date = parse_date(args.logical_date, field="--logical-date")
    await _require_dag(settings, args.dag_id)
    run_id = args.run_id or f"manual__{logical_date.isoformat()}"
    request = DagRunRequested(dag_id=args.dag_id, run_id=run_id, logical_date=logical_date, conf=conf)
    await append(settings, [request])
    print(f"Triggered {args.dag_id}, run_id {run_id}")
    return 0


def _set_paused(paused: bool) -> Any:
    async def handler(args: argparse.Namespace, settings: Settings) -> int:
        await _require_dag(settings, args.dag_id)
        await append(settings, [DagPausedSet(dag_id=args.dag_id, is_paused=paused)])
        print(f"Dag: {args.dag_id}, paused: {paused}")
        return 0

    return handler


async def test_dag(args: argparse.Namespace, settings: Settings) -> int:
    from couture_standalone.engine import Engine

    conf = parse_conf(args.conf)
    logical_date = parse_date(args.logical_date, field="logical_date")
    run_id = f"manual__{logical_date.isoformat()}"
    async with Engine(settings, watch_dags=False, project=False) as engine:
        await engine.registry.idle()
        await engine.scheduler.wait_folded([DAG])
        dag = engine.scheduler.state.dags.get(args.dag_id)
        if dag is None or dag.spec is None or not dag.is_active:
            raise CliError(f"DAG {args.dag_id!r} not found in {settings.dags_path}")
        request = DagRunRequested(
            dag_id=args.dag_id, run_id=run_id, logical_date=logical_date, conf=conf, ignore_paused=True
        )
        started = time.monotonic()
        outcome = await _run_outcome(engine.log, request, timeout=args.timeout)
        run = engine.scheduler.state.run(args.dag_id, run_id)
        assert run is not None
        rows = [
            (task_id, ti.state, ti.try_number, _duration(ti.start_date, ti.end_date))
            for task_id, ti in run.tis.items()
        ]
        print_table(("task_id", "state", "try_number", "duration_s"), rows)
        print(f"DagRun {run_id}: {outcome} in {time.monotonic() - started:.2f} s")
        return 0 if outcome == "success" else 1


async def _run_outcome(log: EventLog, request: DagRunRequested, *, timeout: float) -> str:
    """Append the request, then follow the run topic until the run is rejected or finishes."""
    ends = await log.end_offsets(RUN)
    (appended,) = await log.append([envelope(request, actor=ACTOR)])
    consumer = log.consumer([RUN])
    for partition, end in ends.items():
        consumer.seek(TopicPartition(RUN, partition), end)
    try:
        async with asyncio.timeout(timeout):
            while True:
                for record in await consumer.poll(1000, timeout=None):
                    event = record.envelope.payload
                    if record.partition != appended.partition or not isinstance(
                        event, DagRunRejected | DagRunFinished
                    ):
                        continue
                    if (event.dag_id, event.run_id) != (request.dag_id, request.run_id):
                        continue
                    if isinstance(event, DagRunRejected):
                        raise CliError(f"run rejected: {event.reason}")
                    return event.state
    except TimeoutError:
        raise CliError(f"run {request.run_id} did not finish within {timeout:g} s") from None
    finally:
        await consumer.close()


def _duration(start: datetime | None, end: datetime | None) -> str:
    return "" if start is None or end is None else f"{(end - start).total_seconds():.3f}"
