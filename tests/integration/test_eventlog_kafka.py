"""The Kafka event log against the real broker of ``deploy/local/services``: the port's contract,
plus what only Kafka shows (topic settings on the cluster, namespaces)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.structs import TopicPartition as KafkaTopicPartition

from couture_common.eventlog import EventLogError, Record, TopicPartition
from couture_common.eventlog.factory import open_event_log
from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.events import UnknownEventError, encode_payload
from couture_common.topics import AUTH, CONFIG, HEARTBEAT, RUN, TOPICS, TopicSpec
from tests.contract.eventlog_contract import (
    ALL_RUN_PARTITIONS,
    SPREAD_DAG_IDS,
    EventLogContract,
    in_log_order,
    read_all,
    trigger,
    until,
    xcom,
)


@pytest.fixture
async def namespace(kafka_bootstrap: str) -> AsyncIterator[str]:
    """A namespace of this test's own on the shared broker; its topics are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}."
    yield prefix
    await drop_namespace(kafka_bootstrap, prefix)


async def drop_namespace(kafka_bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        ours = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


class TestKafkaEventLogContract(EventLogContract):
    bootstrap: str
    prefix: str

    @pytest.fixture(autouse=True)
    def _own_namespace(self, kafka_bootstrap: str, namespace: str) -> None:
        self.bootstrap = kafka_bootstrap
        self.prefix = namespace

    def make_log(self, topics: Mapping[str, TopicSpec]) -> KafkaEventLog:
        return KafkaEventLog(self.bootstrap, topics=topics, namespace=self.prefix)


async def topic_configs(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        )
    finally:
        await admin.close()
    return {
        resource[3]: {entry[0]: entry[1] for entry in resource[4]}
        for response in responses
        for resource in response.resources
    }


async def test_topics_are_created_with_their_partitions_and_retention(
    kafka_bootstrap: str, namespace: str
) -> None:
    async with KafkaEventLog(kafka_bootstrap, namespace=namespace):
        configs = await topic_configs(kafka_bootstrap, [namespace + n for n in (RUN, HEARTBEAT, CONFIG)])

    run, heartbeat, config = (configs[namespace + n] for n in (RUN, HEARTBEAT, CONFIG))
    assert (run["cleanup.policy"], run["retention.ms"]) == ("delete", "-1")
    assert (heartbeat["cleanup.policy"], heartbeat["retention.ms"]) == ("delete", str(24 * 3_600_000))
    assert config["cleanup.policy"] == "compact"


async def test_a_topic_kept_otherwise_than_its_spec_is_altered_to_it(
    kafka_bootstrap: str, namespace: str
) -> None:
    # Older versions compacted the auth topic, where compaction loses a user's earlier events.
    async with KafkaEventLog(
        kafka_bootstrap, topics={AUTH: TopicSpec(AUTH, 1, compacted=True)}, namespace=namespace
    ):
        pass
    assert (await topic_configs(kafka_bootstrap, [namespace + AUTH]))[namespace + AUTH][
        "cleanup.policy"
    ] == "compact"

    async with KafkaEventLog(kafka_bootstrap, topics={AUTH: TOPICS[AUTH]}, namespace=namespace):
        auth = (await topic_configs(kafka_bootstrap, [namespace + AUTH]))[namespace + AUTH]

    assert (auth["cleanup.policy"], auth["retention.ms"]) == ("delete", "-1")


async def test_a_topic_on_the_cluster_with_other_partitions_is_refused(
    kafka_bootstrap: str, namespace: str
) -> None:
    async with KafkaEventLog(kafka_bootstrap, topics={RUN: TOPICS[RUN]}, namespace=namespace):
        pass

    log = KafkaEventLog(kafka_bootstrap, topics={RUN: TopicSpec(RUN, 4)}, namespace=namespace)
    with pytest.raises(EventLogError, match="'run' has 8 partitions on the Kafka cluster"):
        await log.start()
    await log.close()


async def test_namespaces_keep_deployments_on_one_cluster_apart(kafka_bootstrap: str, namespace: str) -> None:
    async with (
        KafkaEventLog(kafka_bootstrap, namespace=namespace + "blue.") as blue,
        KafkaEventLog(kafka_bootstrap, namespace=namespace + "green.") as green,
    ):
        appended = await blue.append([xcom(task_id="blue")])

        assert await green.consumer([RUN]).poll(timeout=0.3) == []
        assert await read_all(blue.consumer([RUN]), 1) == appended


async def test_a_kafka_url_opens_a_log_on_the_broker_in_its_namespace(
    kafka_bootstrap: str, namespace: str
) -> None:
    log = open_event_log(f"kafka://{kafka_bootstrap}?namespace={namespace}", topics={RUN: TOPICS[RUN]})
    assert isinstance(log, KafkaEventLog)
    async with log:
        appended = await log.append([xcom()])

    async with KafkaEventLog(kafka_bootstrap, topics={RUN: TOPICS[RUN]}, namespace=namespace) as same:
        assert await read_all(same.consumer([RUN]), 1) == appended


def test_a_kafka_url_may_name_several_brokers() -> None:
    log = open_event_log("kafka://k1:9092,k2:9093", client_id="scheduler")

    assert isinstance(log, KafkaEventLog) and log.bootstrap == ["k1:9092", "k2:9093"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("kafka://", "host:port"),
        ("kafka://broker", "host:port"),
        ("kafka://broker:port", "host:port"),
        ("kafka://a:9092,,b:9092", "host:port"),
        ("kafka://a:9092?namespace=has space", "namespace 'has space' may hold only"),
        ("kafka://a:9092?prefix=x", r"unknown kafka URL options \['prefix'\]"),
    ],
)
def test_kafka_urls_that_cannot_be_served_are_explained(url: str, message: str) -> None:
    with pytest.raises(EventLogError, match=message):
        open_event_log(url)


async def test_an_unreachable_broker_is_reported_by_address() -> None:
    log = KafkaEventLog("127.0.0.1:9", topics={RUN: TOPICS[RUN]})
    with pytest.raises(EventLogError, match=re.escape("127.0.0.1:9")):
        await log.start()
    await log.close()


async def test_members_in_separate_log_instances_split_a_group_like_separate_services(
    kafka_bootstrap: str, namespace: str
) -> None:
    async with (
        KafkaEventLog(kafka_bootstrap, namespace=namespace, client_id="scheduler-1") as one,
        KafkaEventLog(kafka_bootstrap, namespace=namespace, client_id="scheduler-2") as two,
    ):
        first, second = one.consumer([RUN], group="scheduler"), two.consumer([RUN], group="scheduler")

        def split() -> bool:
            a, b = first.assignment, second.assignment
            return bool(a) and bool(b) and a.isdisjoint(b) and a | b == ALL_RUN_PARTITIONS

        await until(split, [first, second])
        appended = await one.append([xcom(dag_id) for dag_id in SPREAD_DAG_IDS])

        mine = sum(1 for r in appended if TopicPartition(r.topic, r.partition) in first.assignment)
        received = await read_all(first, mine) + await read_all(second, len(appended) - mine)
        assert in_log_order(received) == in_log_order(appended)


async def test_after_a_rebalance_members_resume_from_the_groups_committed_offsets(
    kafka_bootstrap: str, namespace: str
) -> None:
    async with KafkaEventLog(kafka_bootstrap, namespace=namespace) as log:
        first = log.consumer([RUN], group="scheduler")
        await until(lambda: first.assignment == ALL_RUN_PARTITIONS, [first])
        appended = await log.append([xcom(dag_id) for dag_id in SPREAD_DAG_IDS])
        committed = appended[:20]
        assert in_log_order(await read_all(first, len(appended))) == in_log_order(appended)
        await first.commit(
            {TopicPartition(r.topic, r.partition): r.offset + 1 for r in in_log_order(committed)}
        )

        second = log.consumer([RUN], group="scheduler")
        after: list[Record] = []
        deadline = time.monotonic() + 20
        while not (second.assignment and first.assignment.isdisjoint(second.assignment)):
            assert time.monotonic() < deadline, "the group did not settle in time"
            after += await first.poll(timeout=0.05) + await second.poll(timeout=0.05)

        # Kafka's rebalance moves every partition: each member starts at the committed offsets,
        # the first one in the partitions it kept too, so what nobody committed is read again.
        uncommitted = [r for r in appended if r not in committed]
        while len(after) < len(uncommitted):
            assert time.monotonic() < deadline, f"{len(after)} of {len(uncommitted)} records read again"
            after += await first.poll(timeout=0.05) + await second.poll(timeout=0.05)
        assert in_log_order(after) == in_log_order(uncommitted)
        assert await first.poll(timeout=0.2) == [] and await second.poll(timeout=0.2) == []


async def test_a_member_commits_nothing_for_partitions_the_group_took_from_it(
    kafka_bootstrap: str, namespace: str
) -> None:
    async with KafkaEventLog(kafka_bootstrap, namespace=namespace) as log:
        first = log.consumer([RUN], group="scheduler")
        await until(lambda: first.assignment == ALL_RUN_PARTITIONS, [first])
        appended = await log.append([xcom(dag_id) for dag_id in SPREAD_DAG_IDS])
        await read_all(first, len(appended))

        # The first member's client is revoked and rejoins in the background; it has not polled since.
        second = log.consumer([RUN], group="scheduler")
        to_second: list[Record] = []
        deadline = time.monotonic() + 20
        while not second.assignment:
            assert time.monotonic() < deadline, "the second member got no partitions in time"
            to_second += await second.poll(timeout=0.05)
        assert first.assignment.isdisjoint(second.assignment)
        await first.commit()

        taken = [r for r in appended if TopicPartition(r.topic, r.partition) in second.assignment]
        to_second += await read_all(second, len(taken) - len(to_second))
        assert in_log_order(to_second) == in_log_order(taken)


async def test_a_batch_with_an_event_too_large_for_kafka_is_refused_whole(
    kafka_bootstrap: str, namespace: str
) -> None:
    async with KafkaEventLog(kafka_bootstrap, topics={RUN: TOPICS[RUN]}, namespace=namespace) as log:
        huge = xcom(task_id="huge", value='"' + "x" * 2_000_000 + '"')

        with pytest.raises(
            EventLogError,
            match=rf"envelope 1 \(id {huge.id}\) takes 2000\d+ bytes; Kafka takes events of at most",
        ):
            await log.append([xcom(), huge, xcom(task_id="other")])

        assert set((await log.end_offsets(RUN)).values()) == {0}


# What the messages look like on the broker, and what other producers may put there.


async def test_envelopes_travel_as_key_payload_and_headers_other_clients_can_read(
    kafka_bootstrap: str, namespace: str
) -> None:
    sent = trigger()
    async with KafkaEventLog(kafka_bootstrap, topics={RUN: TOPICS[RUN]}, namespace=namespace) as log:
        (record,) = await log.append([sent])

    raw = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    raw.assign([KafkaTopicPartition(namespace + RUN, record.partition)])
    await raw.start()
    try:
        message = await raw.getone()
    finally:
        await raw.stop()
    headers = dict(message.headers)
    assert message.key == b"etl"
    assert message.value == encode_payload(sent.payload)
    assert headers["type"] == b"run.requested" and headers["actor"] == b"user:alice"
    assert headers["traceparent"] == sent.trace["traceparent"].encode()
    assert message.timestamp == int(sent.time.timestamp() * 1000)


async def produce_raw(bootstrap: str, topic: str, partition: int, messages: list[dict[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for headers in messages:
            value = headers.pop("value")
            await producer.send_and_wait(
                topic, value=value, key=b"etl", partition=partition, headers=list(headers.items())
            )
    finally:
        await producer.stop()


async def test_events_the_code_does_not_know_stop_the_consumer_loudly(
    kafka_bootstrap: str, namespace: str
) -> None:
    async with KafkaEventLog(kafka_bootstrap, topics={RUN: TOPICS[RUN]}, namespace=namespace) as log:
        appended = await log.append([xcom(task_id="a"), xcom(task_id="b")])
        partition = appended[0].partition
        envelope_headers = {"id": b"x", "time": b"0", "actor": b"someone"}
        await produce_raw(
            kafka_bootstrap,
            namespace + RUN,
            partition,
            [
                {**envelope_headers, "type": b"run.from_the_future", "version": b"1", "value": b"{}"},
                {**envelope_headers, "type": b"xcom.pushed", "version": b"99", "value": b"{}"},
                {**envelope_headers, "type": b"xcom.pushed", "version": b"1", "value": b"not json"},
                {"type": b"xcom.pushed", "version": b"1", "value": b"{}"},
            ],
        )
        consumer = log.consumer([RUN])
        tp = TopicPartition(RUN, partition)

        assert await read_all(consumer, 2) == appended
        with pytest.raises(UnknownEventError, match=rf"run\[{partition}\] offset 2: unknown event type"):
            await consumer.poll(timeout=5)
        with pytest.raises(UnknownEventError, match=r"offset 2: unknown event type"):
            await consumer.poll(timeout=5)
        consumer.seek(tp, 3)
        with pytest.raises(UnknownEventError, match=r"offset 3: .*version 99, newer"):
            await consumer.poll(timeout=5)
        consumer.seek(tp, 4)
        with pytest.raises(EventLogError, match=r"offset 4: event is corrupt"):
            await consumer.poll(timeout=5)
        consumer.seek(tp, 5)
        with pytest.raises(EventLogError, match=r"offset 5: the message lacks the envelope header 'id'"):
            await consumer.poll(timeout=5)
        consumer.seek(tp, 6)
        assert await consumer.poll(timeout=0.2) == []
