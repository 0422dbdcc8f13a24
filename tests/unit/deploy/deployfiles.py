"""Reading the deployment files the way their tools do, so the tests can check what those tools see.

* :func:`interpolate` substitutes ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` ... as Docker
  Compose does, and :func:`read_env_file` reads a ``.env`` file as Compose does (no quoting needed).
* :func:`dockerfile_instructions` splits a Dockerfile into instructions (continuations joined,
  comments dropped); :func:`dockerignore_excludes` answers whether the build context leaves a path
  out, with Docker's rules (last matching pattern wins, a pattern also matches a path's parents).
* :func:`documented_settings` lists the variables docs/configuration.md documents, and
  :func:`couture_commands` the subcommands ``couture`` really has.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE_FILE = REPO / "deploy" / "compose" / "docker-compose.yml"
COMPOSE_ENV_EXAMPLE = REPO / "deploy" / "compose" / ".env.example"
K8S_DIR = REPO / "deploy" / "k8s"
CONFIGURATION_DOC = REPO / "docs" / "configuration.md"

#: The services the product runs as ``couture <service>``, one container or Deployment each.
SERVICES = ("scheduler", "executor", "registry", "auth", "gateway")
#: Every process of the distributed deployment: the services and the faust-streaming worker.
PROCESSES = (*SERVICES, "streams")


class InterpolationError(ValueError):
    """A required variable (``${VAR:?message}``) is missing; the message names it."""


_REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


def variables_used(text: str) -> set[str]:
    """Names of the variables ``text`` refers to (``$$`` is an escaped dollar, not a variable)."""
    names = set()
    for match in _REFERENCE.finditer(text):
        name = match.group("braced") or match.group("named")
        if name:
            names.add(name)
    return names


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """``text`` with its variables substituted from ``env``, by Compose's rules.

    An unset variable without a default is an error here (Compose would warn and use ""), so a
    file that forgets a default or an ``.env`` entry cannot pass.
    """

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("named")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        if op is None:
            if value is None:
                raise InterpolationError(f"{name} is not set and has no default")
            return value
        empty_counts_as_unset = op.startswith(":")
        missing = value is None or (empty_counts_as_unset and value == "")
        kind = op[-1]
        if kind == "-":
            return arg if missing else str(value)
        if kind == "?":
            if missing:
                raise InterpolationError(f"{name}: {arg}" if arg else f"{name} is required")
            return str(value)
        return "" if missing else arg

    return _REFERENCE.sub(substitute, text)


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a Compose ``.env`` file; comments and blank lines skipped."""
    env = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, separator, value = stripped.partition("=")
        if not separator or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"{path.name}:{number}: expected KEY=value, got {line!r}")
        env[key] = value
    return env


def load_compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Compose file as a mapping; interpolated with ``env`` when given (merge keys resolved)."""
    text = COMPOSE_FILE.read_text()
    if env is not None:
        text = interpolate(text, env)
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    return document


def load_k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    """Every Kubernetes object in deploy/k8s (file name, object), the kustomization left out."""
    documents = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                documents.append((path.name, document))
    return documents


def load_kustomization() -> dict[str, Any]:
    document = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    assert isinstance(document, dict)
    return document


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Instructions in order; ``\\``-continued lines joined, comment lines dropped."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        joined = " ".join(part for part in pending if part)
        keyword, _, arguments = joined.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = []
    if pending:
        raise ValueError(f"Dockerfile ends inside the instruction that starts on line {start}")
    return instructions


@dataclass(frozen=True)
class Stage:
    base: str
    name: str | None
    instructions: tuple[Instruction, ...]


def dockerfile_stages(instructions: list[Instruction]) -> tuple[dict[str, str], list[Stage]]:
    """The global ``ARG`` defaults and the build stages (``FROM base [AS name]`` and what follows)."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    current: list[Instruction] = []
    header: tuple[str, str | None] | None = None
    for instruction in instructions:
        if instruction.keyword == "FROM":
            if header is not None:
                stages.append(Stage(header[0], header[1], tuple(current)))
            words = instruction.arguments.split()
            words = [word for word in words if not word.startswith("--platform")]
            base = words[0]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            header, current = (base, name), []
        elif header is None:
            if instruction.keyword != "ARG":
                raise ValueError(f"line {instruction.line}: only ARG may come before the first FROM")
            key, _, default = instruction.arguments.partition("=")
            global_args[key.strip()] = default.strip()
        else:
            current.append(instruction)
    if header is not None:
        stages.append(Stage(header[0], header[1], tuple(current)))
    return global_args, stages


def _dockerignore_pattern(pattern: str) -> re.Pattern[str]:
    parts = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            parts.append(".*")
            index += 2
            continue
        parts.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
        index += 1
    return re.compile("".join(parts))


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether a build context with these ``.dockerignore`` patterns leaves ``path`` out."""
    parents = path.split("/")
    candidates = ["/".join(parents[: end + 1]) for end in range(len(parents))]
    excluded = False
    for raw in patterns:
        negated = raw.startswith("!")
        cleaned = raw[1:] if negated else raw
        cleaned = cleaned.strip().strip("/")
        if not cleaned:
            continue
        regex = _dockerignore_pattern(cleaned)
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def dockerignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def documented_settings() -> set[str]:
    """The variables docs/configuration.md documents in its tables (first column, in backticks)."""
    documented = set()
    for line in CONFIGURATION_DOC.read_text().splitlines():
        match = re.match(r"\|\s*`([A-Z][A-Z0-9_]*)`", line)
        if match:
            documented.add(match.group(1))
    return documented


def couture_commands() -> set[str]:
    """The subcommands of the real ``couture`` command-line parser."""
    import argparse

    from couture_cli.main import build_parser

    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("couture has no subcommands")


def walk(node: Any) -> Iterator[Any]:
    """Every mapping and list nested in ``node``, ``node`` included."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)
