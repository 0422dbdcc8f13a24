"""Distributed: the executor fetches each DAG file version from the registry, so it needs no shared disk.

A version is the sha256 of the file's bytes, so a fetched file is verified against its own name and
then cached for good (``<cache>/<version>.py``): a version never changes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import httpx

from couture_executor.adapters.dag_files import DagFileMismatchError

#: The registry's service-to-service route (``couture_registry.main``).
VERSION_ROUTE = "/internal/dag-versions/{version}"


class RegistryDagFileStore:
    """Fetches versions over HTTP with the service token; verified, cached on local disk."""

    def __init__(
        self,
        registry_url: str,
        service_token: str,
        cache: Path,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._registry_url = registry_url.rstrip("/")
        self._cache = cache
        self._client = httpx.Client(
            base_url=self._registry_url,
            headers={"Authorization": f"Bearer {service_token}"},
            timeout=timeout,
            transport=transport,
        )

    def local_path(self, fileloc: str, dag_version: str) -> Path:
        if len(dag_version) != 64 or not all(c in "0123456789abcdef" for c in dag_version):
            raise DagFileMismatchError(f"dag_version {dag_version!r} is not a sha256 hex digest")
        cached = self._cache / f"{dag_version}.py"
        if cached.is_file():
            return cached
        content = self._fetch(fileloc, dag_version)
        self._cache.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a reader never sees half a file under the version's name.
        fd, temporary = tempfile.mkstemp(dir=self._cache, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(temporary, cached)
        return cached

    def close(self) -> None:
        self._client.close()

    def _fetch(self, fileloc: str, dag_version: str) -> bytes:
        where = f"the registry at {self._registry_url}"
        try:
            answer = self._client.get(VERSION_ROUTE.format(version=dag_version))
        except httpx.HTTPError as exc:
            raise DagFileMismatchError(
                f"cannot fetch DAG file version {dag_version} ({fileloc}) from {where}: {exc!r}"
            ) from None
        if answer.status_code == httpx.codes.NOT_FOUND:
            raise DagFileMismatchError(f"{where} has no DAG file version {dag_version} ({fileloc})")
        if answer.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            raise DagFileMismatchError(
                f"{where} refused the service token (HTTP {answer.status_code}); "
                "the executor and the registry need the same COUTURE_SERVICE_TOKEN"
            )
        if answer.status_code != httpx.codes.OK:
            raise DagFileMismatchError(
                f"fetching DAG file version {dag_version} from {where} failed: HTTP {answer.status_code}"
            )
        actual = hashlib.sha256(answer.content).hexdigest()
        if actual != dag_version:
            raise DagFileMismatchError(
                f"{where} answered for DAG file version {dag_version} with content of version {actual}; "
                "refusing to run different code"
            )
        return answer.content
