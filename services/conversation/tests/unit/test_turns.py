"""Turns on an in-memory store and bus: the flow runs once per event, its commands are
published once (through the outbox, whatever crashes in between), writers never
overwrite each other, payments' answers reach the conversation that asked. The bot
end to end on real servers: ``tests/bot``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from cauce_contracts.crm import LeadStateChanged
from cauce_contracts.envelope import Event, stable_event_id
from cauce_contracts.identity import BotMode
from cauce_contracts.inbound import (
    InboundContact,
    InboundMessage,
    InboundMessageReceived,
    ReactionMessage,
    TextMessage,
)
from cauce_contracts.inbox import ChatChanged
from cauce_contracts.outbound import MarkReadContent, OutboundMessageRequested, TextContent
from cauce_contracts.payments import (
    DebtLookedUp,
    DebtLookupRequested,
    PaymentLinkCreated,
    PaymentTransactionStatusChanged,
    TransactionStatus,
    VehicleDebt,
)
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel, contact_key
from cauce_conversation.chat_feed import ChatFeed
from cauce_conversation.flows.vocabulary import (
    DebtFound,
    FlowState,
    PaymentStatusChanged,
    TextReceived,
)
from cauce_conversation.model import Conversation, ConversationStatus, conversation_id
from cauce_conversation.turns import APPLIED_EVENTS_KEPT, MAX_WRITE_ATTEMPTS, Turns
from cauce_devstack.testing import RecordingBus
from cauce_runtime import BusUnavailable, TransientError

from .fakes import EchoFlow, FakeConversationStore

TENANT = "acme"
ACCOUNT = "734053143122597"
CUSTOMER = "573001234567"
SECRET = b"contact-key-secret-for-unit-tests"
KEY = contact_key(CUSTOMER, SECRET)
CID = conversation_id(TENANT, Channel.WHATSAPP, KEY)
IDLE_EXPIRY = timedelta(hours=2)
T0 = datetime(2025, 6, 5, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclass
class World:
    store: FakeConversationStore
    bus: RecordingBus
    flow: EchoFlow
    clock: Clock
    turns: Turns

    def message(
        self,
        text: str = "Hola",
        *,
        body: InboundMessage | None = None,
        customer: str = CUSTOMER,
        profile_name: str | None = "Ana",
        sent_at: datetime | None = None,
    ) -> InboundMessageReceived:
        """A customer message as the gateway publishes it: its event id derived from the
        provider's message id."""
        provider_id = f"wamid.{uuid.uuid4().hex[:16]}"
        return InboundMessageReceived(
            event_id=stable_event_id(f"whatsapp:{provider_id}"),
            tenant_id=TENANT,
            correlation_id=f"corr-{provider_id}",
            channel=Channel.WHATSAPP,
            channel_account_id=ACCOUNT,
            provider_message_id=provider_id,
            contact=InboundContact(address=customer, profile_name=profile_name),
            contact_key=contact_key(customer, SECRET),
            sent_at=sent_at or self.clock(),
            message=body or TextMessage(body=text),
        )

    async def customer_wrote(
        self,
        text: str = "Hola",
        *,
        body: InboundMessage | None = None,
        customer: str = CUSTOMER,
        profile_name: str | None = "Ana",
        sent_at: datetime | None = None,
    ) -> InboundMessageReceived:
        event = self.message(
            text, body=body, customer=customer, profile_name=profile_name, sent_at=sent_at
        )
        await self.turns.customer_wrote(event)
        return event

    def conversation(self, cid: str = CID) -> Conversation:
        return self.store.stored(cid)

    def stored_ids(self) -> list[str]:
        return [str(event.event_id) for event in self.bus.stored()]

    def texts(self) -> list[str]:
        """The bot's text replies as published (mark-read receipts left out)."""
        return [
            e.content.body
            for e in self.bus.stored(OutboundMessageRequested)
            if isinstance(e.content, TextContent)
        ]


@pytest.fixture
def world() -> World:
    store, bus, flow, clock = FakeConversationStore(), RecordingBus(), EchoFlow(), Clock()
    turns = Turns(store, bus, flow, idle_expiry=IDLE_EXPIRY, clock=clock)
    return World(store, bus, flow, clock, turns)


def caused_by(cause: Event, *indexes: int) -> list[str]:
    """The ids of the events the turn of ``cause`` publishes (derived from it)."""
    return [str(stable_event_id("conversation", str(cause.event_id), str(i))) for i in indexes]


def debt(placa: str = "HHO137") -> VehicleDebt:
    return VehicleDebt(
        placa=placa,
        declaracion=1,
        vigencia=2025,
        avaluo=49116000,
        impto=737000,
        sancion=0,
        interes=0,
        saldo_pagar=737000,
        total=737000,
        fecha_lim=date(2025, 9, 1),
    )


# --- a customer message ---------------------------------------------------------------------


async def test_a_first_message_runs_the_flow_and_publishes_its_commands_once(
    world: World,
) -> None:
    event = await world.customer_wrote("Hola")

    assert world.flow.heard == [(FlowState("start", {"turns": 0}), TextReceived("Hola"))]
    published = world.bus.published
    assert [p.msg_id for p in published] == caused_by(event, 1, 2, 3)
    assert not any(p.duplicate for p in published)
    assert all(p.subject == subject_of(p.event) for p in published)
    receipt, reply, lead = (p.event for p in published)
    assert isinstance(receipt, OutboundMessageRequested)
    assert receipt.content == MarkReadContent(
        message_id=event.provider_message_id, typing_indicator=True
    )
    assert isinstance(reply, OutboundMessageRequested)
    assert (reply.recipient, reply.content) == (CUSTOMER, TextContent(body="eco: Hola"))
    assert isinstance(lead, LeadStateChanged)
    assert (lead.new_state, lead.manychat_id) == ("conversando", KEY)
    assert {p.event.causation_id for p in published} == {str(event.event_id)}

    conversation = world.conversation()
    assert (conversation.step, conversation.slots) == ("talking", {"turns": 1})
    assert conversation.applied_event_ids == [str(event.event_id)]
    assert conversation.outbox == []
    assert conversation.lead_state == "conversando"
    assert (conversation.last_inbound_at, conversation.profile_name) == (T0, "Ana")
    inbound, outbound = world.store.messages_of(CID)
    assert (inbound.id, inbound.author, inbound.text, inbound.at) == (
        f"whatsapp:{event.provider_message_id}",
        "customer",
        "Hola",
        T0,
    )
    assert (outbound.id, outbound.author, outbound.text) == (
        str(reply.event_id),
        "bot",
        "eco: Hola",
    )


async def test_a_replayed_message_does_nothing(world: World) -> None:
    event = await world.customer_wrote("Hola")
    published, saves = len(world.bus.published), world.store.saves

    await world.turns.customer_wrote(event)

    assert len(world.flow.heard) == 1
    assert len(world.bus.published) == published
    assert world.store.saves == saves
    assert len(world.store.messages_of(CID)) == 2


async def test_a_crash_before_the_publish_is_made_good_by_the_redelivery(world: World) -> None:
    event = world.message("Hola")
    world.bus.fail(times=1, after=1)  # the first event goes out, then the bus is gone
    with pytest.raises(BusUnavailable):
        await world.turns.customer_wrote(event)
    assert len(world.conversation().outbox) == 3  # decided and kept: nothing is lost

    await world.turns.customer_wrote(event)  # the redelivery

    assert len(world.flow.heard) == 1  # not decided again
    assert world.stored_ids() == caused_by(event, 1, 2, 3)
    assert [p.duplicate for p in world.bus.published] == [False, True, False, False]
    assert world.conversation().outbox == []


async def test_the_next_message_publishes_a_crashed_turns_events_first(world: World) -> None:
    world.bus.fail(times=1)
    first = world.message("uno")
    with pytest.raises(BusUnavailable):
        await world.turns.customer_wrote(first)

    second = await world.customer_wrote("dos")

    assert world.stored_ids() == caused_by(first, 1, 2, 3) + caused_by(second, 1, 2)
    assert world.texts() == ["eco: uno", "eco: dos"]
    assert world.flow.heard[1][0] == FlowState("talking", {"turns": 1})


async def test_a_write_in_between_makes_the_turn_decide_again_on_fresh_state(
    world: World,
) -> None:
    await world.customer_wrote("uno")
    world.store.write_behind(change=lambda c: c.model_copy(update={"assignee": "agent:ana"}))

    await world.customer_wrote("dos")

    conversation = world.conversation()
    assert conversation.assignee == "agent:ana"  # the other writer's change is kept
    assert conversation.slots == {"turns": 2}
    assert len(world.flow.heard) == 3  # "dos" decided twice, published once
    assert world.texts() == ["eco: uno", "eco: dos"]
    assert not any(p.duplicate for p in world.bus.published)


async def test_a_hand_over_in_between_silences_the_bot(world: World) -> None:
    await world.customer_wrote("uno")
    published = len(world.bus.published)
    world.store.write_behind(change=lambda c: c.model_copy(update={"handed_over": True}))

    event = await world.customer_wrote("dos")

    assert len(world.bus.published) == published
    assert world.conversation().applied_event_ids[-1] == str(event.event_id)


async def test_a_conversation_that_keeps_changing_is_retried_later(world: World) -> None:
    await world.customer_wrote("uno")
    published = len(world.bus.published)
    world.store.write_behind(times=MAX_WRITE_ATTEMPTS)
    event = world.message("dos")

    with pytest.raises(TransientError):
        await world.turns.customer_wrote(event)
    assert len(world.bus.published) == published
    assert str(event.event_id) not in world.conversation().applied_event_ids

    await world.turns.customer_wrote(event)  # the redelivery, once it is quiet
    assert world.texts() == ["eco: uno", "eco: dos"]


async def test_an_outbox_clear_that_loses_once_is_cleared_on_fresh_state(world: World) -> None:
    world.store.write_behind(after=1)  # the turn's save wins; the clearing save loses

    await world.customer_wrote("uno")

    assert world.conversation().outbox == []
    assert len(world.bus.published) == 3


async def test_an_outbox_never_cleared_is_published_again_as_duplicates(world: World) -> None:
    world.store.write_behind(times=MAX_WRITE_ATTEMPTS, after=1)
    first = await world.customer_wrote("uno")
    assert len(world.conversation().outbox) == 3

    second = await world.customer_wrote("dos")

    assert world.stored_ids() == caused_by(first, 1, 2, 3) + caused_by(second, 1, 2)
    assert [p.duplicate for p in world.bus.published].count(True) == 3
    assert world.conversation().outbox == []


async def test_only_the_latest_applied_events_are_remembered(world: World) -> None:
    events = [await world.customer_wrote(f"m{i}") for i in range(APPLIED_EVENTS_KEPT + 1)]

    applied = world.conversation().applied_event_ids
    assert applied == [str(e.event_id) for e in events[1:]]


async def test_a_message_replayed_after_the_remembered_ids_is_not_a_second_turn(
    world: World,
) -> None:
    first = await world.customer_wrote("uno")
    for i in range(APPLIED_EVENTS_KEPT):
        await world.customer_wrote(f"m{i}")
    assert str(first.event_id) not in world.conversation().applied_event_ids
    heard, published = len(world.flow.heard), len(world.bus.published)

    await world.turns.customer_wrote(first)  # the channel re-sends it days later

    assert len(world.flow.heard) == heard
    assert len(world.bus.published) == published


async def test_a_message_recorded_before_a_crashed_turn_still_gets_its_turn(
    world: World,
) -> None:
    event = world.message("Hola")
    world.store.write_behind(times=MAX_WRITE_ATTEMPTS)  # recorded, but never decided
    with pytest.raises(TransientError):
        await world.turns.customer_wrote(event)

    await world.turns.customer_wrote(event)  # the redelivery

    assert world.texts() == ["eco: Hola"]


async def test_a_reaction_is_recorded_but_is_not_a_turn(world: World) -> None:
    event = await world.customer_wrote(body=ReactionMessage(message_id="wamid.X1", emoji="👍"))

    assert world.flow.heard == []
    assert world.bus.published == []
    assert world.conversation().applied_event_ids == [str(event.event_id)]
    [recorded] = world.store.messages_of(CID)
    assert recorded.text == "[reacción 👍]"


async def test_a_handed_over_conversation_records_messages_and_the_bot_stays_silent(
    world: World,
) -> None:
    await world.customer_wrote("asesor")
    conversation = world.conversation()
    assert (conversation.handed_over, conversation.status) == (True, ConversationStatus.PENDING)

    await world.customer_wrote("¿hola?")

    assert world.bus.published == []  # a hand-over is no reply: no read receipt either
    assert len(world.flow.heard) == 1
    assert len(world.store.messages_of(CID)) == 2
    assert len(world.conversation().applied_event_ids) == 2


async def test_an_idle_conversation_starts_the_flow_again(world: World) -> None:
    await world.customer_wrote("uno")
    world.clock.advance(IDLE_EXPIRY - timedelta(minutes=1))
    await world.customer_wrote("dos")
    world.clock.advance(IDLE_EXPIRY + timedelta(minutes=1))

    await world.customer_wrote("tres")

    states = [state for state, _ in world.flow.heard]
    assert states == [
        FlowState("start", {"turns": 0}),
        FlowState("talking", {"turns": 1}),
        FlowState("start", {"turns": 0, "restarted": True}),
    ]


async def test_a_closed_conversation_is_reopened_by_the_customer(world: World) -> None:
    await world.customer_wrote("uno")
    world.store.write_behind(
        change=lambda c: c.model_copy(update={"status": ConversationStatus.CLOSED})
    )
    await world.customer_wrote("sigo aquí")  # loses to the agent closing it, decides again

    assert world.conversation().status is ConversationStatus.OPEN


async def test_an_older_message_arriving_late_keeps_the_latest_inbound_time(world: World) -> None:
    await world.customer_wrote("uno", sent_at=T0 + timedelta(minutes=5))

    await world.customer_wrote("antes", sent_at=T0, profile_name=None)

    conversation = world.conversation()
    assert conversation.last_inbound_at == T0 + timedelta(minutes=5)
    assert conversation.profile_name == "Ana"


async def test_the_lead_state_is_published_only_when_it_changes(world: World) -> None:
    await world.customer_wrote("uno")
    await world.customer_wrote("dos")

    assert [e.new_state for e in world.bus.stored(LeadStateChanged)] == ["conversando"]


# --- payments' answers ------------------------------------------------------------------------


async def test_a_debt_answer_reaches_the_conversation_that_asked(world: World) -> None:
    await world.customer_wrote("Hola", customer="573009999999")  # another contact
    await world.customer_wrote("placa HHO137")
    [lookup] = world.bus.stored(DebtLookupRequested)
    answer = DebtLookedUp(
        tenant_id=TENANT,
        correlation_id=lookup.correlation_id,
        channel=lookup.channel,
        contact_key=lookup.contact_key,
        request_id=lookup.event_id,
        placa="HHO137",
        debts=(debt(),),
    )

    await world.turns.payments_answer(answer)
    await world.turns.payments_answer(answer)  # a redelivery

    assert world.flow.heard[-1] == (
        FlowState("talking", {"turns": 1}),
        DebtFound("HHO137", (debt(),)),
    )
    assert len(world.flow.heard) == 3
    [*_, reply] = world.bus.stored(OutboundMessageRequested)
    assert (reply.recipient, reply.content) == (
        CUSTOMER,
        TextContent(body="HHO137 debe 1 vigencia(s)"),
    )
    assert reply.causation_id == str(answer.event_id)
    assert str(answer.event_id) in world.conversation().applied_event_ids
    assert world.store.reports[f"lookup:{lookup.event_id}"].conversation_id == CID


async def test_a_payment_status_finds_its_conversation_through_its_transaction(
    world: World,
) -> None:
    await world.customer_wrote("Hola")
    link = PaymentLinkCreated(
        tenant_id=TENANT,
        correlation_id="corr-link",
        channel=Channel.WHATSAPP,
        contact_key=KEY,
        request_id=uuid.uuid4(),
        url="https://pay.example/tx-1",
        transaction_id="tx-1",
        payment_id="pay-1",
        sci_payment_id=1,
        sci_transaction_id=1,
        payment_reference="ref-1",
        amount=737000,
    )
    await world.turns.payments_answer(link)

    status = PaymentTransactionStatusChanged(
        tenant_id=TENANT,
        correlation_id="corr-status",
        transaction_id="tx-1",
        status=TransactionStatus.APPROVED,
        provider_status="OK",
        amount=737000,
        status_at=T0,
    )
    await world.turns.payments_answer(status)

    heard = world.flow.heard[-1][1]
    assert heard == PaymentStatusChanged("tx-1", TransactionStatus.APPROVED, 737000)
    assert world.texts()[-1] == "pago approved"
    assert world.store.reports["transaction:tx-1"].conversation_id == CID


async def test_a_status_of_a_transaction_no_conversation_created_is_ignored(
    world: World,
) -> None:
    await world.customer_wrote("Hola")
    published, heard = len(world.bus.published), len(world.flow.heard)
    status = PaymentTransactionStatusChanged(
        tenant_id=TENANT,
        correlation_id="corr-status",
        transaction_id="tx-unknown",
        status=TransactionStatus.APPROVED,
        provider_status="OK",
        status_at=T0,
    )

    await world.turns.payments_answer(status)

    assert (len(world.bus.published), len(world.flow.heard)) == (published, heard)


async def test_an_answer_for_a_conversation_that_does_not_exist_creates_none(
    world: World,
) -> None:
    answer = DebtLookedUp(
        tenant_id=TENANT,
        correlation_id="corr-lookup",
        channel=Channel.WHATSAPP,
        contact_key=KEY,
        request_id=uuid.uuid4(),
        placa="HHO137",
        debts=(),
    )

    await world.turns.payments_answer(answer)

    assert world.store.conversations == {}
    assert world.bus.published == []
    assert world.flow.heard == []


# --- which bot answers a company ------------------------------------------------------------


async def test_a_human_only_company_queues_every_conversation_for_agents(world: World) -> None:
    world.turns.bots.set(TENANT, BotMode.HUMAN_ONLY)
    await world.customer_wrote("Hola")

    conversation = world.conversation()
    assert conversation.handed_over and conversation.status is ConversationStatus.PENDING
    assert conversation.queued_at == T0  # in the queue the assigner serves, from now
    assert world.flow.heard == [] and world.bus.published == []
    assert [m.author for m in world.store.messages_of(CID)] == ["customer"]  # kept for agents


async def test_a_company_without_a_bot_keeps_messages_for_the_inbox_only(world: World) -> None:
    world.turns.bots.set(TENANT, BotMode.NONE)
    await world.customer_wrote("Hola")

    conversation = world.conversation()
    assert not conversation.handed_over and conversation.status is ConversationStatus.OPEN
    assert world.flow.heard == [] and world.bus.published == []
    world.turns.bots.set(TENANT, BotMode.VEHICLE_TAX)  # switched on: the next message is a turn
    await world.customer_wrote("Hola otra vez")
    assert world.texts() == ["eco: Hola otra vez"]


# --- snoozes ---------------------------------------------------------------------------------


async def test_a_reply_ends_a_snooze_that_asked_for_it_and_only_that_one(world: World) -> None:
    await world.customer_wrote("Hola")
    snoozed = world.conversation().model_copy(
        update={"status": ConversationStatus.SNOOZED, "unsnooze_on_reply": True}
    )
    assert await world.store.save(snoozed) is not None
    await world.customer_wrote("¿Hay alguien?")
    assert world.conversation().status is ConversationStatus.OPEN
    assert world.conversation().unsnooze_on_reply is False

    held = world.conversation().model_copy(
        update={
            "status": ConversationStatus.SNOOZED,
            "unsnooze_on_reply": False,
            "snoozed_until": T0 + timedelta(days=1),
        }
    )
    assert await world.store.save(held) is not None
    await world.customer_wrote("¿Y ahora?")
    assert world.conversation().status is ConversationStatus.SNOOZED  # until its time


async def test_a_handover_is_announced_to_agents_screens_as_such(world: World) -> None:
    world.turns.feed = ChatFeed(world.bus)
    await world.customer_wrote("Hola")
    world.turns.bots.set(TENANT, BotMode.HUMAN_ONLY)
    await world.customer_wrote("Quiero hablar con alguien")
    changes = [e.change for e in world.bus.stored(ChatChanged)]
    assert changes == ["message", "handover"]
