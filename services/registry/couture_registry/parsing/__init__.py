"""DAG files parsed in isolated subprocesses with a time limit.

``parse_dag_file`` is imported on first use: the parser child imports this package too, and
must not pay for asyncio on every parse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from couture_registry.parsing.result import ParseResult

if TYPE_CHECKING:
    from couture_registry.parsing.runner import parse_dag_file

__all__ = ["ParseResult", "parse_dag_file"]


def __getattr__(name: str) -> Any:
    if name == "parse_dag_file":
        from couture_registry.parsing.runner import parse_dag_file

        return parse_dag_file
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
