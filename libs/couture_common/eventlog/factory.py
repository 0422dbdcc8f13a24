"""Picks the event-log adapter from ``COUTURE_EVENT_LOG`` (``Settings.event_log_url``)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from couture_common.eventlog.port import EventLog, EventLogError
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.topics import TOPICS, TopicSpec

_EXAMPLES = "sqlite:////abs/path/events.db or kafka://host:9092[,host:9092][?namespace=NAME]"


def open_event_log(
    url: str,
    *,
    sync: Literal["full", "normal"] = "full",
    topics: Mapping[str, TopicSpec] = TOPICS,
    client_id: str = "couture",
) -> EventLog:
    """The log ``url`` names, not yet started (``await log.start()``).

    ``sqlite:///`` is followed by an absolute path (``sqlite:////home/me/events.db`` or
    ``sqlite:///home/me/events.db``); the file's folder is created. ``sync`` applies to SQLite.
    ``kafka://`` is followed by the bootstrap servers, ``host:port[,host:port]``, and optionally
    ``?namespace=NAME``, a prefix of the topic names and group ids on the cluster, so several
    deployments share one; ``client_id`` names this process to the brokers (Kafka only).
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise EventLogError(f"COUTURE_EVENT_LOG must be a URL such as {_EXAMPLES}")
    if scheme == "sqlite":
        if not rest.startswith("/"):
            raise EventLogError(
                f"COUTURE_EVENT_LOG: a sqlite URL needs an absolute path after 'sqlite://', e.g. {_EXAMPLES}"
            )
        path = Path("/" + rest.lstrip("/"))
        if path == Path("/"):
            raise EventLogError("COUTURE_EVENT_LOG: the sqlite URL names no file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EventLogError(f"COUTURE_EVENT_LOG: cannot create the folder {path.parent}: {exc}") from exc
        return SqliteEventLog(path, topics=topics, sync=sync)
    if scheme == "kafka":
        # Imported here: the standalone product never loads the Kafka client.
        from couture_common.eventlog.kafka import KafkaEventLog

        servers, _, query = rest.partition("?")
        options = urllib.parse.parse_qs(query, keep_blank_values=True)
        unknown = sorted(set(options) - {"namespace"})
        if unknown:
            raise EventLogError(
                f"COUTURE_EVENT_LOG: unknown kafka URL options {unknown}; known: ['namespace']"
            )
        namespace = options.get("namespace", [""])[-1]
        return KafkaEventLog(servers, topics=topics, client_id=client_id, namespace=namespace)
    # Only the scheme is echoed: the rest of a URL may carry credentials.
    raise EventLogError(f"COUTURE_EVENT_LOG has the unsupported scheme {scheme!r}; use {_EXAMPLES}")
