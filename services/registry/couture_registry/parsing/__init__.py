"""DAG files parsed in isolated subprocesses with a time limit."""

from couture_registry.parsing.result import ParseResult
from couture_registry.parsing.runner import parse_dag_file

__all__ = ["ParseResult", "parse_dag_file"]
