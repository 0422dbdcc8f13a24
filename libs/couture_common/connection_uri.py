"""Airflow's connection URI form: ``type://login:password@host:port/schema?extra=...``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit


@dataclass(frozen=True, slots=True)
class ConnectionFields:
    conn_type: str
    host: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    schema: str | None = None
    extra: str | None = None


def parse_connection_uri(uri: str) -> ConnectionFields:
    """Split a URI into connection fields; query parameters become the JSON ``extra``.

    ``__extra__`` holds a JSON document verbatim (Airflow's escape for nested extras).
    """
    parts = urlsplit(uri)
    if not parts.scheme:
        raise ValueError("conn_uri: needs a scheme naming the connection type, e.g. postgres://host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("conn_uri: the port is not a number between 0 and 65535") from None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra: str | None
    if "__extra__" in query:
        extra = query["__extra__"]
        try:
            json.loads(extra)
        except json.JSONDecodeError:
            raise ValueError("conn_uri: __extra__ must be a JSON document") from None
    else:
        extra = json.dumps(query) if query else None
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    return ConnectionFields(
        conn_type=parts.scheme.replace("-", "_"),
        host=unquote(parts.hostname) if parts.hostname else None,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        port=port,
        schema=unquote(path) or None,
        extra=extra,
    )
