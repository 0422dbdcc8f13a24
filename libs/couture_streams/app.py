"""The faust app: its Kafka cluster, namespace, topics read as the event log's raw messages."""

from __future__ import annotations

import socket
from typing import Any

import faust
from faust.types import EventT

from couture_common.eventlog._kafka_codec import decode_record
from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.eventlog.port import Record
from couture_common.topics import TOPICS

#: The app's id names its consumer group and its tables' changelog topics (after the namespace).
APP_ID = "couture-streams"
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def create_app(log: KafkaEventLog, *, web_host: str, web_port: int) -> faust.App:
    """A faust app on the cluster and namespace of ``log``, its web server bound to ``web_host``.

    Tables get as many partitions as the ``run`` topic: a table entry lives on the partition of
    the events that change it, so tables and their source topic are co-partitioned.
    """
    return faust.App(
        log.namespace + APP_ID,
        broker=[f"kafka://{server}" for server in log.bootstrap],
        store="memory://",
        topic_partitions=TOPICS["run"].partitions,
        # Other workers redirect requests for a table key to the address this worker advertises.
        web_host=advertised_host(web_host),
        web_port=web_port,
        web_bind=web_host,
        autodiscover=False,
        broker_commit_every=100,
        broker_commit_interval=0.5,
        # As the event log's own group members: a worker that died without leaving the group
        # (kill -9, a stop cut short) holds its partitions 10 s, not faust's default minute.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
    )


def advertised_host(bind: str) -> str:
    """Where other workers reach this one: the bound address, or this machine's name for a wildcard."""
    return socket.gethostname() if bind in _WILDCARDS else bind


def raw_topic(app: faust.App, log: KafkaEventLog, name: str) -> faust.TopicT:
    """Topic ``name`` of the event log, its messages untouched: the log's codec decodes them."""
    if name not in log.topics:
        raise ValueError(f"unknown topic {name!r}; the event log has {sorted(log.topics)}")
    return app.topic(
        log.namespace + name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=log.topics[name].partitions,
    )


def record_of(topic: str, event: EventT[Any]) -> Record:
    """The log record a faust event carries, decoded as the event log's consumers decode it."""
    return decode_record(topic, event.message)


def event_type(event: EventT[Any]) -> str | None:
    """The event's type from its headers, read without decoding the payload."""
    headers: Any = event.message.headers
    pairs = headers.items() if isinstance(headers, dict) else headers
    for name, value in pairs:
        if name == "type":
            return bytes(value).decode()
    return None
