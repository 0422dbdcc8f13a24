"""Envelopes to Kafka messages and back.

The message key is the envelope's key and the value its encoded payload; the rest of the envelope
travels in headers, so brokers, tools and other clients can route and filter without decoding the
payload. Trace context entries (``traceparent``, ``tracestate``...) are headers of their own, under
their W3C names, as OpenTelemetry's Kafka propagators expect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import msgspec

from couture_common.eventlog.port import EventLogError, Record, partition_for
from couture_common.events import Envelope, UnknownEventError, decode_payload, encode_payload
from couture_common.topics import TopicSpec

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: Headers that carry the envelope itself; any other header is an entry of its trace context.
_ID, _TYPE, _VERSION, _TIME, _ACTOR = "id", "type", "version", "time", "actor"
_ENVELOPE_ORDER = (_ID, _TYPE, _VERSION, _TIME, _ACTOR)
_ENVELOPE_HEADERS = frozenset(_ENVELOPE_ORDER)


class Message(NamedTuple):
    """An envelope ready for the producer."""

    topic: str
    partition: int
    key: bytes
    value: bytes
    timestamp_ms: int
    headers: list[tuple[str, bytes]]


def encode_messages(envelopes: Sequence[Envelope], topics: Mapping[str, TopicSpec]) -> list[Message]:
    """Validate a batch and turn it into messages; any bad envelope refuses the whole batch."""
    messages = []
    for index, env in enumerate(envelopes):
        where = f"envelope {index} (id {env.id})"
        spec = topics.get(env.topic)
        if spec is None:
            raise EventLogError(
                f"{where}: topic {env.topic!r} of event {env.type!r} is not configured in this event log"
            )
        payload = env.payload
        if env.type != payload.TYPE or env.version != payload.VERSION:
            raise EventLogError(
                f"{where}: type/version {env.type!r} v{env.version} do not match its payload's "
                f"{payload.TYPE!r} v{payload.VERSION}"
            )
        if env.time.tzinfo is None:
            raise EventLogError(f"{where}: field 'time' must be timezone-aware (UTC)")
        clashing = _ENVELOPE_HEADERS.intersection(env.trace)
        if clashing:
            raise EventLogError(f"{where}: trace entries may not be named {sorted(clashing)}")
        micros = (env.time - _EPOCH) // _MICROSECOND
        headers = [
            (_ID, env.id.encode()),
            (_TYPE, env.type.encode()),
            (_VERSION, str(env.version).encode()),
            (_TIME, str(micros).encode()),
            (_ACTOR, env.actor.encode()),
            *((name, value.encode()) for name, value in env.trace.items()),
        ]
        messages.append(
            Message(
                topic=env.topic,
                partition=partition_for(env.key, spec.partitions),
                key=env.key.encode(),
                value=encode_payload(payload),
                timestamp_ms=micros // 1000,
                headers=headers,
            )
        )
    return messages


def decode_record(topic: str, message: Any) -> Record:
    """A consumed aiokafka ``ConsumerRecord`` as a :class:`Record` of logical ``topic``.

    An event of an unknown type or a newer version raises :class:`UnknownEventError`, one that
    cannot be decoded :class:`EventLogError`; both name the topic, partition and offset.
    """
    try:
        id_, type_, version, micros, actor, trace = _envelope_headers(message.headers)
        event = decode_payload(type_, int(version), message.value)
        env = Envelope(
            id=id_,
            type=type_,
            version=event.VERSION,
            time=_EPOCH + _MICROSECOND * int(micros),
            key=message.key.decode(),
            actor=actor,
            payload=event,
            trace=trace,
        )
    except UnknownEventError as exc:
        raise UnknownEventError(f"{_at(topic, message)}: {exc}") from exc
    except KeyError as exc:
        raise EventLogError(
            f"{_at(topic, message)}: the message lacks the envelope header {exc.args[0]!r}"
        ) from exc
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError, AttributeError) as exc:
        raise EventLogError(f"{_at(topic, message)}: event is corrupt: {exc}") from exc
    return Record(topic, message.partition, message.offset, env)


def _at(topic: str, message: Any) -> str:
    return f"{topic}[{message.partition}] offset {message.offset}"


def _envelope_headers(headers: Sequence[tuple[str, bytes]]) -> tuple[str, str, str, str, str, dict[str, str]]:
    """The envelope's headers (id, type, version, time, actor) and its trace entries."""
    if len(headers) >= 5:
        (n0, id_), (n1, type_), (n2, version), (n3, micros), (n4, actor) = headers[:5]
        if (n0, n1, n2, n3, n4) == _ENVELOPE_ORDER:
            # The order this module writes them in: the common case, fast on replay.
            trace = {name: value.decode() for name, value in headers[5:]} if len(headers) > 5 else {}
            return id_.decode(), type_.decode(), version.decode(), micros.decode(), actor.decode(), trace
    found = {name: value.decode() for name, value in headers}
    id_s, type_s, version_s, micros_s, actor_s = (found[name] for name in _ENVELOPE_ORDER)
    trace = {name: value for name, value in found.items() if name not in _ENVELOPE_HEADERS}
    return id_s, type_s, version_s, micros_s, actor_s, trace
