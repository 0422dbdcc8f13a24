"""Running the parser child with a time limit and reading its answer."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import sys
import tempfile
from pathlib import Path

import msgspec

from couture_registry.parsing.result import ParseResult, WorkerOutput

_OUTPUT_TAIL = 4000


async def parse_dag_file(path: Path, *, dags_folder: Path, timeout: float) -> ParseResult:
    """Import ``path`` in a fresh ``python -m couture_registry.parsing.worker`` process.

    The child and everything it started are killed at ``timeout`` seconds. A file without DAGs
    is a clean result with no specs; a failing or slow file is a result with ``error`` set.
    Raises FileNotFoundError when the file is gone.
    """
    source = await asyncio.to_thread(path.read_bytes)
    version = hashlib.sha256(source).hexdigest()
    fileloc = str(path)
    with tempfile.TemporaryDirectory(prefix="couture-parse-") as scratch:
        result_path = Path(scratch) / "result.json"
        log_path = Path(scratch) / "output.log"
        returncode = await _run_worker(fileloc, dags_folder, result_path, log_path, timeout)
        if returncode is None:
            return ParseResult(
                fileloc=fileloc, version=version, error=f"DAG file parsing timed out after {timeout:g} s"
            )
        answer = await asyncio.to_thread(_read_answer, result_path, log_path, returncode)
    if isinstance(answer, str):
        return ParseResult(fileloc=fileloc, version=version, error=answer)
    return ParseResult(fileloc=fileloc, version=version, specs=answer.specs, error=answer.error)


async def _run_worker(
    fileloc: str, dags_folder: Path, result_path: Path, log_path: Path, timeout: float
) -> int | None:
    """The child's exit code, or None when it ran out of time. User output goes to ``log_path``."""
    log = await asyncio.to_thread(log_path.open, "wb")
    with log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "couture_registry.parsing.worker",
            fileloc,
            str(dags_folder),
            str(result_path),
            str(os.getpid()),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        try:
            return await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            return None
        finally:
            _kill_group(process.pid)
            await process.wait()


def _read_answer(result_path: Path, log_path: Path, returncode: int) -> WorkerOutput | str:
    if not result_path.exists():
        output = log_path.read_bytes()[-_OUTPUT_TAIL:].decode("utf-8", errors="replace")
        return f"DAG file parser exited with code {returncode} without a result:\n{output}"
    return msgspec.json.decode(result_path.read_bytes(), type=WorkerOutput)


def _kill_group(pid: int) -> None:
    """The child leads its own session: this also ends processes the DAG file started."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
