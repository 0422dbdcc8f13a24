"""Creating the log's topics on a Kafka cluster, and refusing ones configured otherwise."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from couture_common.eventlog.port import EventLogError
from couture_common.topics import TopicSpec

#: Enough copies to survive a broker loss where the cluster has them; a single node keeps one.
_MAX_REPLICATION = 3
_HOUR_MS = 3_600_000
_VISIBLE_TIMEOUT_S = 30.0


def topic_config(spec: TopicSpec) -> dict[str, str]:
    """How Kafka keeps a topic: compacted, kept for ``retention_hours``, or kept forever."""
    if spec.compacted:
        return {"cleanup.policy": "compact"}
    if spec.retention_hours is not None:
        return {"cleanup.policy": "delete", "retention.ms": str(round(spec.retention_hours * _HOUR_MS))}
    return {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}


async def ensure_topics(admin: AIOKafkaAdminClient, topics: Mapping[str, TopicSpec], namespace: str) -> None:
    """Create the missing topics (named ``namespace + name``); check the partitions of existing ones
    and bring their retention to what their spec says."""
    existing = await _partition_counts(admin, [namespace + name for name in topics])
    missing = [spec for name, spec in topics.items() if namespace + name not in existing]
    await _keep_as_specified(
        admin, {namespace + name: spec for name, spec in topics.items() if namespace + name in existing}
    )
    if missing:
        brokers = (await admin.describe_cluster())["brokers"]
        replication = max(1, min(_MAX_REPLICATION, len(brokers)))
        response = await admin.create_topics(
            [
                NewTopic(
                    namespace + spec.name, spec.partitions, replication, topic_configs=topic_config(spec)
                )
                for spec in missing
            ]
        )
        for name, code, *rest in response.topic_errors:
            error = for_code(code)
            # Another instance starting at the same time may have created it first.
            if code != 0 and error is not TopicAlreadyExistsError:
                message = rest[0] if rest and rest[0] else error.__name__
                raise EventLogError(f"cannot create the Kafka topic {name!r}: {message}")
        existing = await _visible(admin, [namespace + name for name in topics])
    for name, spec in topics.items():
        found = existing[namespace + name]
        if found != spec.partitions:
            raise EventLogError(
                f"topic {name!r} has {found} partitions on the Kafka cluster but is configured with "
                f"{spec.partitions}; a topic's partition count cannot change, it decides key order"
            )


async def _keep_as_specified(admin: AIOKafkaAdminClient, topics: Mapping[str, TopicSpec]) -> None:
    """Alter existing topics whose cleanup policy or retention differ from their spec.

    A topic created by an older version may be compacted where compaction now loses events (the
    ``auth`` topic was); switching it to the spec's policy stops any further loss.
    """
    if not topics:
        return
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in topics]
        )
    except KafkaError as exc:
        raise EventLogError(f"cannot describe the Kafka topics' configuration: {exc}") from exc
    stale: list[ConfigResource] = []
    for response in responses:
        for code, message, _type, name, entries, *_ in response.resources:
            if code != 0:
                raise EventLogError(
                    f"cannot describe the Kafka topic {name!r}: {message or for_code(code).__name__}"
                )
            wanted = topic_config(topics[name])
            current = {entry[0]: entry[1] for entry in entries}
            if any(current.get(key) != value for key, value in wanted.items()):
                stale.append(ConfigResource(ConfigResourceType.TOPIC, name, configs=wanted))
    if not stale:
        return
    try:
        altered = await admin.alter_configs(stale)
    except KafkaError as exc:
        raise EventLogError(f"cannot change the Kafka topics' configuration: {exc}") from exc
    for response in altered:
        for code, message, _type, name, *_ in response.resources:
            if code != 0:
                raise EventLogError(
                    f"cannot change the configuration of the Kafka topic {name!r}: "
                    f"{message or for_code(code).__name__}"
                )


async def _visible(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Partition counts once the cluster's metadata shows every new topic with all its leaders."""
    deadline = time.monotonic() + _VISIBLE_TIMEOUT_S
    while True:
        counts = await _partition_counts(admin, names)
        missing = [name for name in names if name not in counts]
        if not missing:
            return counts
        if time.monotonic() > deadline:
            raise EventLogError(
                f"the Kafka topics {missing} were created but did not appear in {_VISIBLE_TIMEOUT_S} s"
            )
        await asyncio.sleep(0.05)


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    try:
        described = await admin.describe_topics(names)
    except KafkaError as exc:
        raise EventLogError(f"cannot describe the Kafka topics {names}: {exc}") from exc
    return {
        topic["topic"]: len(topic["partitions"])
        for topic in described
        if topic["error_code"] == 0 and all(p["leader"] >= 0 for p in topic["partitions"])
    }
