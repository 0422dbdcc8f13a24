"""Content-addressed storage of DAG file versions.

Every parsed version of a DAG file is kept under its sha256, so a run pinned to a version can load
exactly the code it was planned with, even after the file in the DAG folder changed or vanished.
Blobs are written before the events that name them are appended; a reader never finds an event
whose blob is missing.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_VERSION = re.compile(r"[0-9a-f]{64}")


class BlobNotFoundError(LookupError):
    """No blob is stored under the version asked for."""


def dag_file_version(content: bytes) -> str:
    """The version of a DAG file: the sha256 of its bytes, as the ``DagParsed`` events carry it."""
    return hashlib.sha256(content).hexdigest()


def check_version(version: str) -> str:
    """A version is 64 lowercase hex digits; anything else could escape the store's folder."""
    if not _VERSION.fullmatch(version):
        raise ValueError(f"version {version!r} is not a sha256 hex digest")
    return version


class BlobStore(Protocol):
    def put_dag_file(self, content: bytes) -> str:
        """Store ``content`` durably and return its version; storing it again changes nothing."""

    def get_dag_file(self, version: str) -> bytes:
        """The bytes of ``version``; :class:`BlobNotFoundError` when it was never stored."""

    def path_for(self, version: str) -> Path:
        """Where ``version`` lives on this machine (the executor imports the file from there)."""


class LocalBlobStore:
    """Blobs as files in a local (or shared, mounted) folder: ``<root>/dags/<sha256>.py``."""

    def __init__(self, root: Path) -> None:
        self._dags = root / "dags"

    def path_for(self, version: str) -> Path:
        return self._dags / f"{check_version(version)}.py"

    def put_dag_file(self, content: bytes) -> str:
        version = dag_file_version(content)
        target = self.path_for(version)
        if target.exists():
            return version
        self._dags.mkdir(parents=True, exist_ok=True)
        write_atomically(target, content)
        return version

    def get_dag_file(self, version: str) -> bytes:
        try:
            return self.path_for(version).read_bytes()
        except FileNotFoundError:
            raise BlobNotFoundError(f"no DAG file version {version} is stored") from None


def write_atomically(target: Path, content: bytes) -> None:
    """Readers see the old bytes or the new ones, never a torn file, even across a crash.

    The temporary file is hidden (leading dot) so a folder watcher skips it.
    """
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as tmp_file:
            tmp_file.write(content)
            tmp_file.flush()
            os.fsync(tmp_file.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
