"""What the registry accepts as a DAG file: a safe name and UTF-8 Python source of bounded size.

Each check returns the reason a user can act on; callers attach the field it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")

MAX_NAME_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Limits:
    """Sizes the registry accepts. Bytes unless named otherwise."""

    #: One DAG file (upload, editor, archive member).
    max_file_bytes: int = 1024 * 1024
    #: A compressed import archive as uploaded.
    max_archive_bytes: int = 64 * 1024 * 1024
    #: All members of an import archive together, uncompressed.
    max_archive_total_bytes: int = 256 * 1024 * 1024
    max_archive_members: int = 10_000


class InvalidDagFileError(ValueError):
    """A name or content the registry refuses; the message says why."""


def check_dag_file_name(name: str) -> str:
    """``name`` as a fileloc: a relative ``/``-separated path of safe segments ending in ``.py``."""
    if not name:
        raise InvalidDagFileError("the file name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidDagFileError(f"the file name is longer than {MAX_NAME_LENGTH} characters")
    if name.startswith("/"):
        raise InvalidDagFileError(f"{name!r} is an absolute path; give a path inside the DAG folder")
    for segment in name.split("/"):
        check_segment(segment, whole=name)
    if not name.endswith(".py"):
        raise InvalidDagFileError(f"{name!r} is not a .py file; only Python DAG files are accepted")
    return name


def check_segment(segment: str, *, whole: str) -> None:
    if segment in ("", ".", ".."):
        raise InvalidDagFileError(f"{whole!r} has an empty, '.' or '..' path segment")
    if not _SEGMENT.fullmatch(segment):
        raise InvalidDagFileError(
            f"{whole!r} may only contain letters, digits, '_', '.', '-' and '/' between folders"
        )
    if segment.startswith("."):
        raise InvalidDagFileError(f"{whole!r} is a hidden name (starts with '.')")


def check_source(content: bytes, limits: Limits) -> str:
    """The source text of a DAG file; refused when too large or not UTF-8 (what Python reads by default)."""
    if len(content) > limits.max_file_bytes:
        raise InvalidDagFileError(
            f"the file has {len(content)} bytes, more than the limit of {limits.max_file_bytes}"
        )
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidDagFileError(f"the file is not UTF-8 text (byte {error.start})") from None
