"""The read-model tables the REST API and the UI query, folded from the event log by the projector.

Column names follow Airflow's public REST API v2 resources so routes map rows to responses with
few renames. Types are portable SQLAlchemy Core types: the same definitions run on SQLite
(standalone) and PostgreSQL (distributed). Datetimes go in and come out as aware UTC on both.

Ids the API exposes as integers (``event_log_id``, ``import_error_id``) are derived from the log
position of the event that created the row (see ``positions.position_id``), so a rebuild from
offset 0 gives every row the same id it had before.

Secrets stay Fernet tokens here (``encrypted_*`` columns); decrypting is the API's job.
The users' audit trail is in ``security_tables``, on the same metadata.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from couture_gateway.readmodels.columns import ID as ID
from couture_gateway.readmodels.columns import Json as Json
from couture_gateway.readmodels.columns import UtcDateTime as UtcDateTime
from couture_gateway.readmodels.columns import metadata as metadata
from couture_gateway.readmodels.security_tables import audit_log


def _ti_key() -> list[sa.Column[Any]]:
    return [
        sa.Column("dag_id", ID, primary_key=True),
        sa.Column("run_id", ID, primary_key=True),
        sa.Column("task_id", ID, primary_key=True),
        sa.Column("map_index", sa.Integer, primary_key=True, default=-1),
    ]


schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", UtcDateTime, nullable=False),
)

projection_offsets = sa.Table(
    "projection_offsets",
    metadata,
    sa.Column("topic", sa.String(100), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    # Offset of the next record to apply: every record before it is in the tables.
    sa.Column("next_offset", sa.BigInteger, nullable=False),
)

dag = sa.Table(
    "dag",
    metadata,
    sa.Column("dag_id", ID, primary_key=True),
    sa.Column("is_paused", sa.Boolean, nullable=False),
    # False once the DAG's file no longer defines it or was removed (Airflow 3: is_stale = not is_active).
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("fileloc", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("owners", Json, nullable=False),
    sa.Column("tags", Json, nullable=False),
    sa.Column("timetable_summary", sa.Text),
    sa.Column("timetable_description", sa.Text),
    sa.Column("max_active_runs", sa.Integer, nullable=False),
    sa.Column("max_active_tasks", sa.Integer, nullable=False),
    sa.Column("has_import_errors", sa.Boolean, nullable=False),
    sa.Column("last_parsed_time", UtcDateTime),
    sa.Column("catchup", sa.Boolean, nullable=False),
    sa.Column("start_date", UtcDateTime),
    sa.Column("end_date", UtcDateTime),
    sa.Column("dagrun_timeout", sa.Float),
    sa.Column("params", Json, nullable=False),
    sa.Column("doc_md", sa.Text),
    sa.Column("timezone", sa.String(100), nullable=False),
    # Content hash of the newest parsed version (dag_version.version); the file is a blob of that name.
    sa.Column("latest_version", sa.String(64), nullable=False),
    # The ScheduleSpec as JSON (NULL only in rows from before schema version 2, until reparsed).
    # With the latest automated interval below it gives ``next_dagrun_*`` at read time
    # (``fold.schedule.next_dagrun``), since with catchup off the answer depends on the time.
    sa.Column("schedule", Json),
    # The next run's logical date as of the last parse or automated run, to sort DAGs by.
    sa.Column("next_dagrun_logical_date", UtcDateTime),
    # Data interval of the latest scheduled or backfill run: where the next one starts from.
    sa.Column("last_automated_data_interval_start", UtcDateTime),
    sa.Column("last_automated_data_interval_end", UtcDateTime),
    sa.Index("ix_dag_fileloc", "fileloc"),
    sa.Index("ix_dag_is_paused", "is_paused"),
)

dag_tag = sa.Table(
    "dag_tag",
    metadata,
    sa.Column("dag_id", ID, primary_key=True),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Index("ix_dag_tag_name", "name"),
)

dag_version = sa.Table(
    "dag_version",
    metadata,
    sa.Column("dag_id", ID, primary_key=True),
    # sha256 of the DAG file's bytes: the name of its blob (the source is served from the blob store).
    sa.Column("version", sa.String(64), primary_key=True),
    # 1, 2, 3... per DAG, in the order versions were first parsed.
    sa.Column("version_number", sa.Integer, nullable=False),
    sa.Column("fileloc", sa.Text, nullable=False),
    # The whole DagSpec as JSON: tasks with upstream ids, operator, trigger rule, retries...
    sa.Column("spec", Json, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("dag_id", "version_number", name="uq_dag_version_number"),
)

import_error = sa.Table(
    "import_error",
    metadata,
    sa.Column("import_error_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("filename", sa.Text, nullable=False, unique=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("stacktrace", sa.Text, nullable=False),
    sa.Column("timestamp", UtcDateTime, nullable=False),
)

dag_run = sa.Table(
    "dag_run",
    metadata,
    sa.Column("dag_id", ID, primary_key=True),
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("run_type", sa.String(30), nullable=False),
    sa.Column("logical_date", UtcDateTime, nullable=False),
    sa.Column("run_after", UtcDateTime, nullable=False),
    sa.Column("data_interval_start", UtcDateTime),
    sa.Column("data_interval_end", UtcDateTime),
    sa.Column("queued_at", UtcDateTime),
    sa.Column("start_date", UtcDateTime),
    sa.Column("end_date", UtcDateTime),
    sa.Column("last_scheduling_decision", UtcDateTime),
    sa.Column("conf", Json, nullable=False),
    sa.Column("external_trigger", sa.Boolean, nullable=False),
    # Airflow's DagRunTriggeredByType: rest_api, operator, timetable, backfill...
    sa.Column("triggered_by", sa.String(30), nullable=False),
    sa.Column("triggering_user_name", sa.String(250)),
    # dag_id/run_id/task_id of the DagOperator task that triggered this run.
    sa.Column("triggered_by_task", sa.Text),
    sa.Column("note", sa.Text),
    # NULL while the run is requested and not yet accepted by the scheduler.
    sa.Column("dag_version", sa.String(64)),
    sa.Column("clear_number", sa.Integer, nullable=False, default=0),
    sa.Index("ix_dag_run_dag_logical_date", "dag_id", "logical_date"),
    sa.Index("ix_dag_run_dag_run_after", "dag_id", "run_after"),
    sa.Index("ix_dag_run_state", "state"),
    sa.Index("ix_dag_run_logical_date", "logical_date"),
    sa.Index("ix_dag_run_dag_version", "dag_id", "dag_version"),
    # A DagOperator's task instance finds the runs it triggered.
    sa.Index("ix_dag_run_triggered_by_task", "triggered_by_task"),
)

task_instance = sa.Table(
    "task_instance",
    metadata,
    *_ti_key(),
    sa.Column("state", sa.String(20)),
    # The current (or last) try; Airflow 3 counts it from the moment a try is scheduled.
    sa.Column("try_number", sa.Integer, nullable=False),
    # How far the current try got: 0 none, 1 scheduled, 2 queued, 3 running, 4 finished or cleared.
    # Results are applied only when they move (try_number, try_phase) forward.
    sa.Column("try_phase", sa.Integer, nullable=False),
    sa.Column("max_tries", sa.Integer, nullable=False),
    sa.Column("start_date", UtcDateTime),
    sa.Column("end_date", UtcDateTime),
    sa.Column("duration", sa.Float),
    sa.Column("hostname", sa.String(1000)),
    sa.Column("pid", sa.Integer),
    sa.Column("executor", sa.String(1000)),
    sa.Column("pool", sa.String(256), nullable=False),
    sa.Column("pool_slots", sa.Integer, nullable=False),
    sa.Column("queue", sa.String(256), nullable=False),
    sa.Column("priority_weight", sa.Integer, nullable=False),
    sa.Column("operator", sa.String(1000)),
    sa.Column("scheduled_when", UtcDateTime),
    sa.Column("queued_when", UtcDateTime),
    sa.Column("note", sa.Text),
    sa.Index("ix_ti_state", "state"),
    sa.Index("ix_ti_dag_task", "dag_id", "task_id"),
    sa.Index("ix_ti_pool_state", "pool", "state"),
    sa.Index("ix_ti_start_date", "start_date"),
)

task_instance_try = sa.Table(
    "task_instance_try",
    metadata,
    *_ti_key(),
    sa.Column("try_number", sa.Integer, primary_key=True),
    sa.Column("state", sa.String(20)),
    sa.Column("max_tries", sa.Integer, nullable=False),
    sa.Column("start_date", UtcDateTime),
    sa.Column("end_date", UtcDateTime),
    sa.Column("duration", sa.Float),
    sa.Column("hostname", sa.String(1000)),
    sa.Column("pid", sa.Integer),
    sa.Column("executor", sa.String(1000)),
    sa.Column("pool", sa.String(256), nullable=False),
    sa.Column("pool_slots", sa.Integer, nullable=False),
    sa.Column("queue", sa.String(256), nullable=False),
    sa.Column("priority_weight", sa.Integer, nullable=False),
    sa.Column("operator", sa.String(1000)),
    sa.Column("queued_when", UtcDateTime),
    # Where the executor wrote this try's log (a blob-store path).
    sa.Column("log_path", sa.Text),
    sa.Column("error", sa.Text),
)

xcom = sa.Table(
    "xcom",
    metadata,
    *_ti_key(),
    sa.Column("key", sa.String(512), primary_key=True),
    # JSON-encoded value, as pushed.
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("try_number", sa.Integer, nullable=False),
    sa.Column("timestamp", UtcDateTime, nullable=False),
    sa.Index("ix_xcom_dag_key", "dag_id", "key"),
)

# Airflow's rendered_task_instance_fields, kept per try: what each try's templates rendered to.
rendered_task_instance_fields = sa.Table(
    "rendered_task_instance_fields",
    metadata,
    *_ti_key(),
    sa.Column("try_number", sa.Integer, primary_key=True),
    # Field name -> rendered value, masked and capped by the task process.
    sa.Column("rendered_fields", Json, nullable=False),
)

sla_miss = sa.Table(
    "sla_miss",
    metadata,
    *_ti_key(),
    sa.Column("logical_date", UtcDateTime, nullable=False),
    sa.Column("deadline", UtcDateTime, nullable=False),
    sa.Column("timestamp", UtcDateTime, nullable=False),
    sa.Index("ix_sla_miss_timestamp", "timestamp"),
)

variable = sa.Table(
    "variable",
    metadata,
    sa.Column("key", sa.String(250), primary_key=True),
    # Fernet token: variables are encrypted before they enter the log.
    sa.Column("encrypted_value", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("is_encrypted", sa.Boolean, nullable=False),
)

connection = sa.Table(
    "connection",
    metadata,
    # Several entries may share conn_id; one is picked at random per use.
    sa.Column("entry_id", ID, primary_key=True),
    sa.Column("conn_id", ID, nullable=False),
    sa.Column("conn_type", sa.String(500), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("host", sa.String(500)),
    sa.Column("schema", sa.String(500)),
    sa.Column("login", sa.Text),
    sa.Column("encrypted_password", sa.Text),
    sa.Column("port", sa.Integer),
    sa.Column("encrypted_extra", sa.Text),
    sa.Index("ix_connection_conn_id", "conn_id"),
)

pool = sa.Table(
    "pool",
    metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("slots", sa.Integer, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("include_deferred", sa.Boolean, nullable=False),
)

event_log = sa.Table(
    "event_log",
    metadata,
    sa.Column("event_log_id", sa.BigInteger, primary_key=True, autoincrement=False),
    # Envelope id of the event this entry records.
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("when", UtcDateTime, nullable=False),
    sa.Column("dag_id", ID),
    sa.Column("task_id", ID),
    sa.Column("run_id", ID),
    sa.Column("map_index", sa.Integer),
    sa.Column("try_number", sa.Integer),
    sa.Column("logical_date", UtcDateTime),
    sa.Column("event", sa.String(60), nullable=False),
    # The user name for ``user:<name>`` actors, else the whole actor (``service:scheduler``).
    sa.Column("owner", sa.String(500), nullable=False),
    # Details as JSON text; never a secret value.
    sa.Column("extra", sa.Text),
    sa.Index("ix_event_log_when", "when"),
    sa.Index("ix_event_log_dag_when", "dag_id", "when"),
    sa.Index("ix_event_log_event", "event"),
)

#: The tables the projector fills; ``rebuild`` drops and recreates exactly these.
PROJECTED_TABLES: tuple[sa.Table, ...] = (
    projection_offsets,
    dag,
    dag_tag,
    dag_version,
    import_error,
    dag_run,
    task_instance,
    task_instance_try,
    xcom,
    rendered_task_instance_fields,
    sla_miss,
    variable,
    connection,
    pool,
    event_log,
    audit_log,
)
