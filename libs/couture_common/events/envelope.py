"""The one envelope every event travels in, and its byte encoding."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from couture_common.clock import utcnow
from couture_common.events._base import Event, event_class, upcast
from couture_common.ids import new_id
from couture_common.tracing import current_trace_headers


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """An event with its metadata.

    id: time-ordered UUIDv7, unique per event, used for de-duplication.
    type / version: the payload's wire name and schema version.
    time: when the event was produced (aware UTC).
    key: partition key; events with one key are totally ordered.
    actor: who caused it (``user:alice``, ``service:scheduler``...).
    trace: W3C trace context (``traceparent``...), carried through services.
    payload: the typed event.
    """

    id: str
    type: str
    version: int
    time: datetime
    key: str
    actor: str
    payload: Event
    trace: dict[str, str] = {}

    @property
    def topic(self) -> str:
        return self.payload.TOPIC


def envelope(
    payload: Event,
    *,
    actor: str,
    time: datetime | None = None,
    trace: Mapping[str, str] | None = None,
    id: str | None = None,
) -> Envelope:
    """Wrap ``payload``; without an explicit ``trace`` the active OpenTelemetry span's context is
    carried, so events made inside a request or a try join its trace."""
    if trace is None:
        trace = current_trace_headers()
    return Envelope(
        id=id or new_id(),
        type=payload.TYPE,
        version=payload.VERSION,
        time=time or utcnow(),
        key=payload.partition_key(),
        actor=actor,
        payload=payload,
        trace=dict(trace or {}),
    )


_encoder = msgspec.json.Encoder()
_dict_decoder = msgspec.json.Decoder(dict[str, Any])
_typed_decoders: dict[type[Event], msgspec.json.Decoder[Any]] = {}


def encode_payload(payload: Event) -> bytes:
    return _encoder.encode(payload)


def decode_payload(type_name: str, version: int, data: bytes) -> Event:
    """Decode and validate a payload; older versions are upcast, newer ones refused."""
    cls = event_class(type_name)
    if version == cls.VERSION:
        decoder = _typed_decoders.get(cls)
        if decoder is None:
            decoder = _typed_decoders[cls] = msgspec.json.Decoder(cls)
        result: Event = decoder.decode(data)
        return result
    raw = upcast(type_name, version, _dict_decoder.decode(data))
    return msgspec.convert(raw, cls)


class _WireEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    type: str
    version: int
    time: datetime
    key: str
    actor: str
    trace: dict[str, str] = {}
    payload: msgspec.Raw


_wire_decoder = msgspec.json.Decoder(_WireEnvelope)


def encode_envelope(env: Envelope) -> bytes:
    """Whole envelope as one JSON document (used where a transport has no headers)."""
    return _encoder.encode(env)


def decode_envelope(data: bytes) -> Envelope:
    wire = _wire_decoder.decode(data)
    return Envelope(
        id=wire.id,
        type=wire.type,
        version=event_class(wire.type).VERSION,
        time=wire.time,
        key=wire.key,
        actor=wire.actor,
        trace=wire.trace,
        payload=decode_payload(wire.type, wire.version, bytes(wire.payload)),
    )
