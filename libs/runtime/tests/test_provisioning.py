"""Provisioning creates, leaves alone, and updates streams and durable consumers."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from cauce_contracts import subjects
from cauce_contracts.streams import STREAMS, stream_named
from cauce_contracts.subjects import Channel
from cauce_runtime import Backoff, Bus, ConsumerSpec

from .conftest import TEST_STREAM

SPEC = ConsumerSpec(
    durable_name="rt_prov",
    stream=TEST_STREAM.name,
    filter_subjects=("rttest.>",),
    description="provisioning test",
    max_deliver=4,
    backoff=Backoff.of(0.2, 1),
)


async def test_creates_every_stream_and_consumer_then_is_a_no_op(bus: Bus) -> None:
    first = await bus.provision(STREAMS, [SPEC])
    jsm = bus.connection.jsm()
    names = {info.config.name for info in await jsm.streams_info()}
    assert {s.name for s in STREAMS} <= names
    assert "RTTEST/rt_prov" in first.created
    info = await jsm.consumer_info(TEST_STREAM.name, "rt_prov")
    assert info.config.max_deliver == 4
    # the runtime applies the backoff itself (nak delays); JetStream only gets ack_wait
    assert info.config.backoff is None
    assert info.config.ack_wait == SPEC.ack_wait.total_seconds()
    assert info.config.filter_subject == "rttest.>"

    second = await bus.provision(STREAMS, [SPEC])
    assert not second.changed
    assert set(second.unchanged) == {s.name for s in STREAMS} | {"RTTEST/rt_prov"}


async def test_changed_specs_are_applied(bus: Bus) -> None:
    await bus.provision([TEST_STREAM], [SPEC])
    longer = dataclasses.replace(TEST_STREAM, max_age=timedelta(hours=3), description="changed")
    more = dataclasses.replace(SPEC, max_deliver=7, max_ack_pending=10)

    report = await bus.provision([longer], [more])

    assert set(report.updated[TEST_STREAM.name]) == {"max_age", "description"}
    assert set(report.updated["RTTEST/rt_prov"]) == {"max_deliver", "max_ack_pending"}
    jsm = bus.connection.jsm()
    stream = await jsm.stream_info(TEST_STREAM.name)
    assert stream.config.max_age == timedelta(hours=3).total_seconds()
    consumer = await jsm.consumer_info(TEST_STREAM.name, "rt_prov")
    assert consumer.config.max_deliver == 7
    assert consumer.config.max_ack_pending == 10
    assert not (await bus.provision([longer], [more])).changed


async def test_a_stream_subject_transform_is_provisioned_and_partitions_contacts(bus: Bus) -> None:
    """INBOUND stores customer messages with the contact's partition appended, so one
    partition consumer sees every message of a contact and nobody else's partition."""
    inbound = stream_named("INBOUND")
    plain = dataclasses.replace(inbound, subject_transform=None)
    await bus.provision([plain], [])
    report = await bus.provision([inbound], [])
    assert report.updated == {"INBOUND": ["subject_transform"]}

    js = bus.connection.jetstream()
    keys = [f"{i:024x}" for i in range(12)]
    for key in keys * 2:
        await js.publish(
            subjects.subject(
                subjects.INBOUND_MESSAGE_RECEIVED,
                tenant_id="t1",
                channel=Channel.WHATSAPP,
                contact_key=key,
            ),
            b"{}",
        )
    partition_of: dict[str, set[int]] = {}
    sub = await js.pull_subscribe("inbound.message.received.>", durable="rt_part", stream="INBOUND")
    for message in await sub.fetch(len(keys) * 2, timeout=2):
        published, _, partition = message.subject.rpartition(".")
        key = published.rsplit(".", 1)[1]
        partition_of.setdefault(key, set()).add(int(partition))
        assert subjects.subject_matches(
            subjects.message_partition_filter(int(partition)), message.subject
        )
    assert set(partition_of) == set(keys)
    assert all(len(partitions) == 1 for partitions in partition_of.values())
    assert len({p for ps in partition_of.values() for p in ps}) > 1


def test_stream_replicas_come_from_the_settings_for_every_stream() -> None:
    from cauce_contracts.streams import STREAMS
    from cauce_runtime import Bus, ServiceSettings
    from cauce_runtime.bus._provisioning import stream_config, with_replicas

    replicated = with_replicas(STREAMS, 3)
    assert [stream_config(spec).num_replicas for spec in replicated] == [3] * len(STREAMS)
    bus = Bus(ServiceSettings(_env_file=None, stream_replicas=3))
    assert {spec.replicas for spec in bus.streams} == {3}
    assert {spec.replicas for spec in Bus(ServiceSettings(_env_file=None)).streams} == {1}
