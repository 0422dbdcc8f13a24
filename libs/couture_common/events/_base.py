"""Event base class, the type registry and upcasting.

Every event type names its topic, its wire name and its schema version. Decoding an older version
runs the registered upcasters in order; a version newer than the code knows is refused loudly, so
a rolled-back service never guesses at a future schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import msgspec


class UnknownEventError(ValueError):
    """An event type or version this code does not know; never silently skipped."""


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every payload on the log.

    Subclasses set ``TYPE`` (wire name), ``TOPIC`` and ``VERSION`` and are registered with
    :func:`event_type`. ``partition_key`` decides ordering: events with the same key stay in order.
    """

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]
    VERSION: ClassVar[int] = 1

    def partition_key(self) -> str:
        raise NotImplementedError


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_REGISTRY: dict[str, type[Event]] = {}
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}

E = TypeVar("E", bound=type[Event])


def event_type(name: str, *, topic: str, version: int = 1) -> Callable[[E], E]:
    def register(cls: E) -> E:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise RuntimeError(f"event type {name!r} registered twice")
        cls.TYPE = name
        cls.TOPIC = topic
        cls.VERSION = version
        _REGISTRY[name] = cls
        return cls

    return register


def upcaster(name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register the step that turns version ``from_version`` of ``name`` into ``from_version + 1``."""

    def register(fn: Upcaster) -> Upcaster:
        _UPCASTERS[(name, from_version)] = fn
        return fn

    return register


def event_class(name: str) -> type[Event]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownEventError(f"unknown event type {name!r}") from None


def registered_types() -> dict[str, type[Event]]:
    return dict(_REGISTRY)


def upcast(name: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
    cls = event_class(name)
    if version > cls.VERSION:
        raise UnknownEventError(
            f"event {name!r} has schema version {version}, newer than the {cls.VERSION} this code knows"
        )
    if version < 1:
        raise UnknownEventError(f"event {name!r} has invalid schema version {version}")
    while version < cls.VERSION:
        step = _UPCASTERS.get((name, version))
        if step is None:
            raise UnknownEventError(f"no upcaster for event {name!r} from version {version}")
        data = step(data)
        version += 1
    return data
