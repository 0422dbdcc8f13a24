"""``couture tasks test``: run one task instance here and now, ignoring its dependencies and
recording nothing (Airflow's ``tasks test``). Variables and connections come from the log;
XComs it pushes live only for this command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from couture_cli.commands.dags import known_dags, parse_conf, parse_date
from couture_cli.errors import CliError
from couture_cli.logview import load_config
from couture_common.clock import utcnow
from couture_common.secrets import SecretBox
from couture_common.settings import Settings
from couture_common.timetables import timetable_for
from couture_sdk.compat import install_airflow_shim
from couture_sdk.context import build_context
from couture_sdk.execution import execute_task
from couture_sdk.loading import load_dags_from_file
from couture_sdk.local_runtime import LocalConnection, LocalRuntime
from couture_sdk.runtime import ConnectionInfo, set_runtime


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tasks = sub.add_parser("tasks", help="Work with single task instances")
    cmds = tasks.add_subparsers(dest="tasks_command", required=True, metavar="COMMAND")
    p = cmds.add_parser("test", help="Run one task now without dependencies or recorded state")
    p.add_argument("dag_id")
    p.add_argument("task_id")
    p.add_argument("logical_date", nargs="?", help="ISO 8601 (default now)")
    p.add_argument("-c", "--conf", help="JSON object passed as dag_run.conf")
    p.set_defaults(handler=test_task)


async def test_task(args: argparse.Namespace, settings: Settings) -> int:
    conf = parse_conf(args.conf)
    logical_date = parse_date(args.logical_date, field="logical_date")
    dag_state = (await known_dags(settings)).dags.get(args.dag_id)
    if dag_state is None or dag_state.spec is None or not dag_state.is_active:
        raise CliError(f"DAG {args.dag_id!r} not found (is its file in {settings.dags_path} and parsed?)")
    runtime = await _runtime(settings)
    install_airflow_shim()
    dags = load_dags_from_file(Path(dag_state.spec.fileloc), dags_folder=settings.dags_path)
    dag = dags.get(args.dag_id)
    if dag is None:
        raise CliError(f"{dag_state.spec.fileloc} no longer defines DAG {args.dag_id!r}")
    if args.task_id not in dag.task_dict:
        raise CliError(f"Task {args.task_id!r} not found in DAG {args.dag_id!r}")
    task = dag.task_dict[args.task_id]
    run_id = f"manual__{logical_date.isoformat()}"
    interval = timetable_for(dag_state.spec.schedule).infer_manual_data_interval(logical_date)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, force=True)
    set_runtime(runtime)
    runtime.start_task(args.dag_id, run_id, args.task_id)
    context = build_context(
        dag,
        task,
        run_id=run_id,
        run_type="manual",
        logical_date=logical_date,
        data_interval_start=interval.start,
        data_interval_end=interval.end,
        conf=conf,
        try_number=1,
        max_tries=task.retries,
        external_trigger=True,
        test_mode=True,
    )
    started = utcnow()
    result = execute_task(task, context)
    if result.error:
        print(result.error, file=sys.stderr)
    elapsed = (utcnow() - started).total_seconds()
    print(f"Task {args.dag_id}.{args.task_id}: {result.state.upper()} in {elapsed:.3f} s")
    return 0 if result.state in ("success", "skipped") else 1


async def _runtime(settings: Settings) -> LocalRuntime:
    config = await load_config(settings)
    box: SecretBox = settings.secret_box
    variables = {}
    for key in config.variable_keys():
        token = config.variable_token(key)
        if token is not None:
            variables[key] = box.decrypt(token)
    connections: dict[str, ConnectionInfo] = {}
    for entry in config.connection_entries():
        connections.setdefault(
            entry.conn_id,
            LocalConnection(
                conn_id=entry.conn_id,
                conn_type=entry.conn_type,
                host=entry.host,
                schema=entry.schema,
                login=entry.login,
                password=box.decrypt(entry.password) if entry.password else None,
                port=entry.port,
                extra=box.decrypt(entry.extra) if entry.extra else None,
            ),
        )
    return LocalRuntime(variables=variables, connections=connections)
