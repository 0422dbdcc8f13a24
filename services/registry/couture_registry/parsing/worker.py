"""The parser child: ``python -m couture_registry.parsing.worker FILE DAGS_FOLDER RESULT_PATH
PARENT_PID``.

It imports one DAG file and writes a :class:`WorkerOutput` as JSON to RESULT_PATH. Whatever the
user's code prints goes to stdout/stderr, which the parent keeps apart from the result. It stops
as soon as PARENT_PID is no longer its parent.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path
from types import TracebackType

import msgspec

from couture_registry.parsing.result import WorkerOutput
from couture_sdk.loading import load_dags_from_file


def describe_error(exc: BaseException, path: Path) -> str:
    """The traceback from the DAG file's first frame on, leaving out our loader's frames. A syntax
    error shows where it is; an error raised after the file ran (a cycle) is its one-line
    ``Type: message``, as Airflow shows it."""
    tb: TracebackType | None = exc.__traceback__
    target = str(path)
    while tb is not None and tb.tb_frame.f_code.co_filename != target:
        tb = tb.tb_next
    if isinstance(exc, SyntaxError):
        # Python's own rendering shows the file, the line and a caret under the fault.
        return "".join(traceback.format_exception_only(type(exc), exc))
    if tb is None:
        return f"{type(exc).__name__}: {exc}"
    return "".join(traceback.format_exception(type(exc), exc, tb))


def parse(path: Path, dags_folder: Path) -> WorkerOutput:
    try:
        dags = load_dags_from_file(path, dags_folder=dags_folder)
        return WorkerOutput(specs=tuple(dag.to_spec(str(path)) for dag in dags.values()))
    except BaseException as exc:  # user code may raise anything, SystemExit included
        return WorkerOutput(error=describe_error(exc, path))


def exit_with_parent(parent: int, poll_seconds: float = 0.5) -> None:
    """A parser whose parent died (the registry was killed) stops instead of finishing a parse
    nobody will read. The parent's pid comes from the parent itself: it may have died before
    this process got here."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def main(argv: list[str]) -> int:
    if len(argv) != 4 or not argv[3].isdigit():
        print(
            "usage: python -m couture_registry.parsing.worker FILE DAGS_FOLDER RESULT_PATH PARENT_PID",
            file=sys.stderr,
        )
        return 2
    exit_with_parent(int(argv[3]))
    path, dags_folder, result_path = Path(argv[0]), Path(argv[1]), Path(argv[2])
    output = parse(path, dags_folder)
    partial = result_path.with_suffix(".partial")
    partial.write_bytes(msgspec.json.encode(output))
    os.replace(partial, result_path)
    sys.stdout.flush()
    sys.stderr.flush()
    # Threads the DAG file may have started must not keep the parser alive.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
