"""Where the executor finds the exact DAG file version a try must run."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol


class DagFileMismatchError(LookupError):
    """No file with the requested version's content is available; the try must not run other code."""


class DagFileStore(Protocol):
    def local_path(self, fileloc: str, dag_version: str) -> Path:
        """A local file whose content is ``dag_version``, or :class:`DagFileMismatchError`."""


def file_version(path: Path) -> str:
    """A DAG version is the sha256 of the file's bytes (hex), as the registry computes it."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class BlobDagFileStore:
    """Standalone: the registry writes each version to ``blobs/dags/<version>.py``; the DAG file in the
    DAGs folder serves when its content still has that version."""

    def __init__(self, blobs_path: Path) -> None:
        self._folder = blobs_path / "dags"

    def local_path(self, fileloc: str, dag_version: str) -> Path:
        if not dag_version or not all(c in "0123456789abcdef" for c in dag_version):
            raise DagFileMismatchError(f"dag_version {dag_version!r} is not a sha256 hex digest")
        blob = self._folder / f"{dag_version}.py"
        if blob.is_file():
            return blob
        source = Path(fileloc)
        try:
            actual = file_version(source)
        except OSError as exc:
            raise DagFileMismatchError(
                f"DAG file version {dag_version} is not in {self._folder} and {fileloc} cannot be read "
                f"({exc.strerror})"
            ) from None
        if actual != dag_version:
            raise DagFileMismatchError(
                f"DAG file version {dag_version} is not in {self._folder}, and {fileloc} has changed since "
                f"(its version is now {actual}); refusing to run different code"
            )
        return source
