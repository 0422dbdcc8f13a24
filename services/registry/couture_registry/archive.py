"""DAG folders as ``.tar.gz``: export everything, import only what is safe.

An import is all or nothing: every member is checked (no absolute paths, no ``..``, no links or
devices, ``.py`` only, bounded sizes) before a single file is written, and every problem is
reported at once so the user fixes the archive in one go.
"""

from __future__ import annotations

import io
import tarfile
import zlib
from collections.abc import Iterable
from pathlib import Path

from couture_registry.validation import (
    InvalidDagFileError,
    Limits,
    check_dag_file_name,
    check_segment,
    check_source,
)


class ArchiveError(ValueError):
    """The archive cannot be imported; ``problems`` lists each reason, naming the member."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read_dag_archive(data: bytes, limits: Limits) -> dict[str, str]:
    """The DAG files in a ``.tar.gz``, fileloc → source; :class:`ArchiveError` if anything is amiss."""
    if len(data) > limits.max_archive_bytes:
        raise ArchiveError([f"the archive has {len(data)} bytes, more than {limits.max_archive_bytes}"])
    problems: list[str] = []
    files: dict[str, str] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for count, member in enumerate(archive, start=1):
                if count > limits.max_archive_members:
                    raise ArchiveError([f"the archive has more than {limits.max_archive_members} members"])
                name = _normalise(member.name)
                problem = _member_problem(member, name, files, limits)
                if problem:
                    problems.append(f"{member.name}: {problem}")
                    continue
                if not member.isfile():
                    continue
                total += member.size
                if total > limits.max_archive_total_bytes:
                    raise ArchiveError(
                        [f"the archive's files add up to more than {limits.max_archive_total_bytes} bytes"]
                    )
                extracted = archive.extractfile(member)
                if extracted is None:
                    problems.append(f"{member.name}: cannot be read")
                    continue
                try:
                    files[name] = check_source(extracted.read(limits.max_file_bytes + 1), limits)
                except InvalidDagFileError as error:
                    problems.append(f"{member.name}: {error}")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        reason = (
            "not a gzip-compressed tar archive" if not files and not problems else "the archive is damaged"
        )
        raise ArchiveError([*problems, f"{reason} ({error})"]) from None
    if problems:
        raise ArchiveError(problems)
    return files


def _normalise(name: str) -> str:
    """``tar czf x.tar.gz .`` names members ``./a.py``; that prefix is harmless."""
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/") if name not in ("", ".") else ""


def _member_problem(member: tarfile.TarInfo, name: str, seen: dict[str, str], limits: Limits) -> str | None:
    if member.issym() or member.islnk():
        return "links are not allowed"
    if member.isdir():
        if not name:
            return None
        try:
            for segment in name.split("/"):
                check_segment(segment, whole=name)
        except InvalidDagFileError as error:
            return str(error)
        return None
    if not member.isfile():
        return "only regular files and folders are allowed"
    try:
        check_dag_file_name(name)
    except InvalidDagFileError as error:
        return str(error)
    if name in seen:
        return "appears twice in the archive"
    if member.size > limits.max_file_bytes:
        return f"the file has {member.size} bytes, more than the limit of {limits.max_file_bytes}"
    return None


def build_dag_archive(files: Iterable[tuple[str, Path]]) -> bytes:
    """A ``.tar.gz`` of ``(fileloc, path)`` pairs; files that vanish while it is built are left out."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for fileloc, path in files:
            try:
                content = path.read_bytes()
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue
            info = tarfile.TarInfo(fileloc)
            info.size = len(content)
            info.mtime = int(mtime)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
