"""Reading a try's log file in Airflow's layout, a page at a time.

Files live at ``<logs>/dag_id=<d>/run_id=<r>/task_id=<t>/attempt=<n>.log``. A line that is a JSON
object (structured logging) is passed through; any other line becomes ``{"event": line}``.
The continuation token is the byte offset already read, so a client polling with it receives only
the lines written since.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: At most this many bytes per answer; the token picks up where it stopped.
MAX_CHUNK = 1 << 20


class InvalidLogToken(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LogChunk:
    lines: list[dict[str, Any]]
    next_offset: int


def log_file(logs_root: Path, dag_id: str, run_id: str, task_id: str, try_number: int) -> Path:
    return (
        logs_root
        / f"dag_id={dag_id}"
        / f"run_id={run_id}"
        / f"task_id={task_id}"
        / f"attempt={try_number}.log"
    )


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"log_pos": offset}).encode()).decode()


def decode_token(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["log_pos"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidLogToken("token is not a continuation token from this API") from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidLogToken("token is not a continuation token from this API")
    return offset


def read_chunk(path: Path, offset: int, *, whole: bool) -> LogChunk:
    """Complete lines from ``offset`` on (all of them when ``whole``); a missing file reads as empty."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read() if whole else fh.read(MAX_CHUNK)
    except FileNotFoundError:
        return LogChunk([], offset)
    # A line still being written stays for the next read, unless the whole file was asked for.
    end = len(data) if whole else data.rfind(b"\n") + 1
    text = data[:end].decode("utf-8", errors="replace")
    return LogChunk([_message(line) for line in text.splitlines()], offset + end)


def _message(line: str) -> dict[str, Any]:
    if line.startswith("{"):
        try:
            parsed = json.loads(line)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("event"), str):
            return parsed
    return {"event": line, "timestamp": None}
