"""The in-memory stand-ins unit tests use instead of servers behave like the real thing
where the code under test can tell."""

from __future__ import annotations

import inspect
import socket
from datetime import UTC, datetime

import pytest

from cauce_contracts.crm import LeadStateChanged
from cauce_contracts.registry import subject_of
from cauce_devstack.testing import NetworkUsed, RecordingBus, delivery_for, no_network
from cauce_runtime import Bus, BusUnavailable, ConsumerSpec, Publisher

SPEC = ConsumerSpec("unit-test", "CRM", ("crm.lead.>",), "a consumer for the helpers' tests")


def lead_state(state: str = "consulta_deuda") -> LeadStateChanged:
    return LeadStateChanged(
        tenant_id="acme",
        correlation_id="corr-1",
        manychat_id="mc-1",
        new_state=state,
        changed_at=datetime(2025, 6, 5, 12, tzinfo=UTC),
        source="conversation",
    )


@pytest.mark.parametrize("bus", [Bus, RecordingBus])
def test_both_buses_publish_with_the_protocols_signature(bus: type[object]) -> None:
    def parameters(function: object) -> list[tuple[str, object, object]]:
        signature = inspect.signature(function)  # type: ignore[arg-type]
        return [(p.name, p.kind, p.default) for p in signature.parameters.values()]

    assert parameters(bus.publish) == parameters(Publisher.publish)  # type: ignore[attr-defined]


async def test_a_repeated_msg_id_is_acknowledged_as_a_duplicate_and_stored_once() -> None:
    bus = RecordingBus()
    event = lead_state()

    first = await bus.publish(event, subject_of(event))
    again = await bus.publish(event, subject_of(event))
    other = await bus.publish(event, subject_of(event), msg_id="another")

    assert (first.duplicate, again.duplicate, other.duplicate) == (False, True, False)
    assert first.stream == "CRM"
    assert bus.msg_ids == [str(event.event_id), str(event.event_id), "another"]
    assert bus.stored(LeadStateChanged) == [event, event]
    assert bus.published[0].event is not event  # what a consumer reads back: the wire form


async def test_a_failing_bus_refuses_then_recovers() -> None:
    bus = RecordingBus()
    event = lead_state()
    bus.fail(times=2)

    for _ in range(2):
        with pytest.raises(BusUnavailable):
            await bus.publish(event, subject_of(event))
    await bus.publish(event, subject_of(event))
    bus.fail()
    with pytest.raises(BusUnavailable):
        await bus.publish(event, subject_of(event), msg_id="x")
    bus.recover()
    await bus.publish(event, subject_of(event), msg_id="x")
    bus.fail(times=1, after=1)
    await bus.publish(event, subject_of(event), msg_id="y")
    with pytest.raises(BusUnavailable):
        await bus.publish(event, subject_of(event), msg_id="z")
    await bus.publish(event, subject_of(event), msg_id="z")

    assert bus.refused == 4
    assert bus.msg_ids == [str(event.event_id), "x", "y", "z"]


async def test_a_delivery_without_a_server_counts_its_attempts() -> None:
    first = delivery_for(SPEC)
    last = delivery_for(SPEC, num_delivered=SPEC.max_deliver, headers={"Nats-Msg-Id": "m-1"})

    assert (first.last_attempt, last.last_attempt) == (False, True)
    assert last.msg_id == "m-1"
    assert first.subject == "crm.lead.>"
    await first.in_progress()


def test_no_network_refuses_connections() -> None:
    with no_network(), socket.socket() as sock, pytest.raises(NetworkUsed):
        sock.connect(("127.0.0.1", 9))
