"""The SQLite event log's file: schema, connections, and envelopes to rows and back.

One row per event, keyed by (topic, partition, offset). ``partition_ends`` holds each partition's
next offset, so offsets are never reused even after retention deleted a partition's events.
Times are stored as integer microseconds since the Unix epoch (UTC): exact, compact and ordered.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from couture_common.eventlog.port import EventLogError, Record, TopicPartition, partition_for
from couture_common.events import Envelope, UnknownEventError, decode_payload, encode_payload
from couture_common.topics import TopicSpec

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    partitions INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS partition_ends (
    topic TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, "partition")
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    topic TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "offset" INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    version INTEGER NOT NULL,
    time INTEGER NOT NULL,
    key TEXT NOT NULL,
    actor TEXT NOT NULL,
    trace BLOB,
    payload BLOB NOT NULL,
    PRIMARY KEY (topic, "partition", "offset")
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, "partition")
) WITHOUT ROWID;
"""

INSERT_EVENT = (
    'INSERT INTO events (topic, "partition", "offset", id, type, version, time, key, actor, trace, payload)'
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPSERT_END = (
    'INSERT INTO partition_ends (topic, "partition", next_offset) VALUES (?, ?, ?)'
    ' ON CONFLICT (topic, "partition") DO UPDATE SET next_offset = excluded.next_offset'
)
UPSERT_GROUP_OFFSET = (
    'INSERT INTO group_offsets (grp, topic, "partition", next_offset) VALUES (?, ?, ?, ?)'
    ' ON CONFLICT (grp, topic, "partition") DO UPDATE SET next_offset = excluded.next_offset'
)
_SELECT_EVENTS = (
    'SELECT "offset", id, type, time, key, actor, trace, payload, version FROM events'
    ' WHERE topic = ? AND "partition" = ? AND "offset" >= ? ORDER BY "offset" LIMIT ?'
)
_SELECT_COMMITTED = 'SELECT next_offset FROM group_offsets WHERE grp = ? AND topic = ? AND "partition" = ?'

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_trace_encoder = msgspec.json.Encoder()
_trace_decoder = msgspec.json.Decoder(dict[str, str])

Ends = dict[TopicPartition, int]


class EventRow(NamedTuple):
    """An envelope ready for the writer: everything but the offset, which the writer assigns."""

    topic: str
    partition: int
    id: str
    type: str
    version: int
    time: int
    key: str
    actor: str
    trace: bytes | None
    payload: bytes


def connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise EventLogError(f"cannot open the event log file {path}: {exc}") from exc
    if read_only:
        conn.execute("PRAGMA query_only = ON")
    return conn


def create_schema(conn: sqlite3.Connection, path: Path, topics: Mapping[str, TopicSpec]) -> None:
    """Create the tables and record the topics; refuse a file whose topics or schema differ."""
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise EventLogError(
                f"the event log file {path} has schema version {version}; this build knows {SCHEMA_VERSION}"
            )
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        known = dict(conn.execute("SELECT name, partitions FROM topics").fetchall())
        for name, spec in topics.items():
            if name not in known:
                conn.execute("INSERT INTO topics (name, partitions) VALUES (?, ?)", (name, spec.partitions))
            elif known[name] != spec.partitions:
                raise EventLogError(
                    f"topic {name!r} has {known[name]} partitions in {path} but is configured with "
                    f"{spec.partitions}; a topic's partition count cannot change, it decides key order"
                )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def load_ends(conn: sqlite3.Connection) -> Ends:
    rows = conn.execute('SELECT topic, "partition", next_offset FROM partition_ends').fetchall()
    return {TopicPartition(topic, partition): end for topic, partition, end in rows}


def to_micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def encode_rows(envelopes: Sequence[Envelope], topics: Mapping[str, TopicSpec]) -> list[EventRow]:
    """Validate a batch and turn it into rows; any bad envelope refuses the whole batch."""
    rows = []
    for index, env in enumerate(envelopes):
        where = f"envelope {index} (id {env.id})"
        spec = topics.get(env.topic)
        if spec is None:
            raise EventLogError(
                f"{where}: topic {env.topic!r} of event {env.type!r} is not configured in this event log"
            )
        payload = env.payload
        if env.type != payload.TYPE or env.version != payload.VERSION:
            raise EventLogError(
                f"{where}: type/version {env.type!r} v{env.version} do not match its payload's "
                f"{payload.TYPE!r} v{payload.VERSION}"
            )
        if env.time.tzinfo is None:
            raise EventLogError(f"{where}: field 'time' must be timezone-aware (UTC)")
        rows.append(
            EventRow(
                topic=env.topic,
                partition=partition_for(env.key, spec.partitions),
                id=env.id,
                type=env.type,
                version=env.version,
                time=to_micros(env.time),
                key=env.key,
                actor=env.actor,
                trace=_trace_encoder.encode(env.trace) if env.trace else None,
                payload=encode_payload(payload),
            )
        )
    return rows


def committed_offset(conn: sqlite3.Connection, group: str, tp: TopicPartition) -> int:
    row = conn.execute(_SELECT_COMMITTED, (group, tp.topic, tp.partition)).fetchone()
    return 0 if row is None else int(row[0])


class ReadResult(NamedTuple):
    records: list[Record]
    #: Each partition's next position after these records.
    positions: dict[TopicPartition, int]
    #: An event that cannot be decoded stops the read after the records before it.
    error: Exception | None


def read_records(
    conn: sqlite3.Connection, positions: Sequence[tuple[TopicPartition, int]], max_records: int
) -> ReadResult:
    """Records from each partition's position on, in offset order, up to ``max_records`` in all."""
    records: list[Record] = []
    after = dict(positions)
    for tp, position in positions:
        remaining = max_records - len(records)
        if remaining <= 0:
            break
        rows = conn.execute(_SELECT_EVENTS, (tp.topic, tp.partition, position, remaining)).fetchall()
        for row in rows:
            try:
                records.append(_record(tp, row))
            except (UnknownEventError, EventLogError) as exc:
                return ReadResult(records, after, exc)
            after[tp] = row[0] + 1
    return ReadResult(records, after, None)


def _record(tp: TopicPartition, row: tuple[Any, ...]) -> Record:
    offset, id_, type_, time, key, actor, trace, payload, version = row
    try:
        event = decode_payload(type_, version, payload)
    except UnknownEventError as exc:
        raise UnknownEventError(f"{_at(tp, offset)}: {exc}") from exc
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise EventLogError(f"{_at(tp, offset)}: event {type_!r} v{version} is corrupt: {exc}") from exc
    env = Envelope(
        id=id_,
        type=type_,
        version=event.VERSION,
        time=_EPOCH + _MICROSECOND * time,
        key=key,
        actor=actor,
        payload=event,
        trace=_trace_decoder.decode(trace) if trace is not None else {},
    )
    return Record(tp.topic, tp.partition, offset, env)


def _at(tp: TopicPartition, offset: int) -> str:
    return f"{tp.topic}[{tp.partition}] offset {offset}"
