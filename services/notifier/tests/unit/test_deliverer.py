"""Deliverer's rules on in-memory stores, bus and provider: one provider call per
message, waits as transient errors with the right retry, failures recorded and
announced, the claim released on every way out. The same paths against real NATS,
PostgreSQL and the sandbox: ``tests/delivery``."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from cauce_contracts.outbound import (
    CampaignMessageRequested,
    CtaUrlContent,
    MarkReadContent,
    MediaContent,
    OutboundContent,
    OutboundMessageFailed,
    OutboundMessageRequested,
    OutboundMessageSent,
    OutboundStatusChanged,
    TemplateComponent,
    TemplateContent,
    TextContent,
    TextParameter,
)
from cauce_contracts.subjects import Channel, contact_key
from cauce_devstack.testing import RecordingBus, delivery_for
from cauce_notifier.accounts_model import ChannelAccount, WhatsAppCredentials
from cauce_notifier.consumers import requests_spec
from cauce_notifier.delivery import (
    CLAIM_S,
    PAIR_BACKOFF_S,
    PROVIDER_BACKOFF,
    SEND_AFTER_IN_WORKER_S,
    SEND_OUTCOME_POLL_S,
    SEND_OUTCOME_WAIT_S,
    AwaitingSendStatus,
    ClaimLost,
    Deliverer,
)
from cauce_notifier.providers import SendResult
from cauce_notifier.providers.errors import (
    AnswerLost,
    CredentialsRejected,
    OutsideServiceWindow,
    PairRateLimited,
    PermanentProviderError,
    ProviderError,
    RateLimited,
    RetryableProviderError,
)
from cauce_notifier.service_window import LateTemplate
from cauce_notifier.store.messages import Claim
from cauce_runtime import BusUnavailable, PermanentError, TransientError

from .fakes import (
    Clock,
    FakeAccounts,
    FakeMessages,
    FakePairBackoffs,
    FakeSendSlots,
    FakeWindows,
    ScriptedProvider,
)

TENANT = "acme"
PHONE_NUMBER_ID = "100000000000042"
CUSTOMER = "573001234567"
KEY = contact_key(CUSTOMER, b"contact-key-secret-for-unit-tests")
MAX_PROVIDER_ATTEMPTS = 3
CREDENTIALS_RETRY_S = 45.0


@dataclass
class World:
    """A Deliverer on fakes, and the fakes to look at."""

    clock: Clock
    bus: RecordingBus
    account: ChannelAccount
    accounts: FakeAccounts
    windows: FakeWindows
    pair_backoffs: FakePairBackoffs
    slots: FakeSendSlots
    messages: FakeMessages
    provider: ScriptedProvider
    deliverer: Deliverer

    def request(
        self, content: OutboundContent | None = None, *, account_id: str = PHONE_NUMBER_ID
    ) -> OutboundMessageRequested:
        return OutboundMessageRequested(
            tenant_id=TENANT,
            correlation_id="corr-unit",
            channel=Channel.WHATSAPP,
            contact_key=KEY,
            channel_account_id=account_id,
            recipient=CUSTOMER,
            content=content or TextContent(body="Hola"),
        )

    def customer_wrote(self, ago: timedelta = timedelta(minutes=5)) -> None:
        """The customer's last message, ``ago`` before now (opens the 24-hour window)."""
        at = datetime.now(UTC) - ago
        self.windows.record_inbound(TENANT, "whatsapp", PHONE_NUMBER_ID, KEY, at)

    async def deliver(self, event: OutboundMessageRequested, attempt: int = 1) -> None:
        await self.deliverer.deliver(event, delivery_for(requests_spec(), num_delivered=attempt))

    async def fails_transiently(
        self, event: OutboundMessageRequested, attempt: int = 1
    ) -> TransientError:
        with pytest.raises(TransientError) as raised:
            await self.deliver(event, attempt)
        assert not isinstance(raised.value, BusUnavailable)
        return raised.value

    def script(self, *outcomes: SendResult | ProviderError) -> None:
        self.provider.outcomes.extend(outcomes)

    def attempts(self, event: OutboundMessageRequested) -> int:
        return self.messages.rows[event.event_id].provider_attempts


@pytest.fixture
def world() -> World:
    clock = Clock()
    bus = RecordingBus()
    account = ChannelAccount(
        id=uuid.uuid4(),
        tenant_id=TENANT,
        channel=Channel.WHATSAPP,
        account_id=PHONE_NUMBER_ID,
        display_name=None,
        rate_per_second=80.0,
        credentials=WhatsAppCredentials(access_token=SecretStr("graph-token")),
        credentials_status="ok",
    )
    accounts = FakeAccounts(account)
    windows = FakeWindows()
    pair_backoffs = FakePairBackoffs(clock)
    slots = FakeSendSlots()
    messages = FakeMessages(clock, windows, pair_backoffs)
    provider = ScriptedProvider()
    deliverer = Deliverer(
        bus=bus,
        accounts=accounts,
        messages=messages,
        providers={Channel.WHATSAPP: provider},
        limiter=slots,
        pair_backoff=pair_backoffs,
        windows=windows,
        max_provider_attempts=MAX_PROVIDER_ATTEMPTS,
        credentials_retry_s=CREDENTIALS_RETRY_S,
        monotonic=clock,
    )
    world = World(
        clock, bus, account, accounts, windows, pair_backoffs, slots, messages, provider, deliverer
    )
    world.customer_wrote()
    return world


def failed_event(world: World) -> OutboundMessageFailed:
    [failed] = world.bus.stored(OutboundMessageFailed)
    return failed


# --- sent once ---------------------------------------------------------------------------


async def test_a_request_is_sent_with_one_provider_call_then_announced(world: World) -> None:
    event = world.request()

    await world.deliver(event)

    assert world.provider.calls == [event.event_id]
    assert world.slots.reserved == [("whatsapp", PHONE_NUMBER_ID, 80.0)]
    row = world.messages.rows[event.event_id]
    assert (row.status, row.provider_message_id) == ("sent", "wamid.1")
    assert world.bus.msg_ids == [f"sent:{event.event_id}", f"status:{event.event_id}:sent"]
    [sent] = world.bus.stored(OutboundMessageSent)
    assert (sent.request_id, sent.provider_message_id) == (event.event_id, "wamid.1")
    assert (sent.causation_id, sent.correlation_id) == (str(event.event_id), "corr-unit")
    [status] = world.bus.stored(OutboundStatusChanged)
    assert (status.status, status.provider_message_id) == ("sent", "wamid.1")
    assert not world.messages.claimed(event.event_id)


async def test_a_redelivery_of_a_sent_message_is_announced_again_never_resent(
    world: World,
) -> None:
    event = world.request()
    await world.deliver(event)

    await world.deliver(event, attempt=2)

    assert world.provider.calls == [event.event_id]
    announced = [(p.msg_id, p.duplicate) for p in world.bus.published]
    assert announced == [
        (f"sent:{event.event_id}", False),
        (f"status:{event.event_id}:sent", False),
        (f"sent:{event.event_id}", True),
        (f"status:{event.event_id}:sent", True),
    ]


async def test_the_bus_down_after_the_send_is_announced_by_the_redelivery_without_resending(
    world: World,
) -> None:
    event = world.request()
    world.bus.fail(times=1)

    with pytest.raises(BusUnavailable):
        await world.deliver(event)
    assert world.messages.rows[event.event_id].provider_message_id == "wamid.1"
    assert not world.messages.claimed(event.event_id)

    await world.deliver(event, attempt=2)

    assert world.provider.calls == [event.event_id]
    assert [s.provider_message_id for s in world.bus.stored(OutboundMessageSent)] == ["wamid.1"]


async def test_two_deliveries_of_one_message_at_once_make_one_provider_call(
    world: World,
) -> None:
    event = world.request()
    world.provider.hold = asyncio.Event()
    first = asyncio.create_task(world.deliver(event))
    while not world.provider.calls:
        await asyncio.sleep(0)

    error = await world.fails_transiently(event, attempt=2)
    world.provider.hold.set()
    await first

    assert error.retry_after == pytest.approx(CLAIM_S)
    assert world.provider.calls == [event.event_id]
    assert len(world.bus.stored(OutboundMessageSent)) == 1


async def test_a_message_claimed_by_another_worker_waits_for_the_claim(world: World) -> None:
    event = world.request()
    await world.messages.admit(event, CLAIM_S)  # another replica holds it
    world.clock.advance(10)

    error = await world.fails_transiently(event, attempt=2)

    assert error.retry_after == pytest.approx(CLAIM_S - 10)
    assert world.provider.calls == []
    assert world.bus.published == []
    assert world.messages.claimed(event.event_id)  # not ours to release

    world.clock.advance(CLAIM_S)  # the holder crashed: its claim lapsed
    await world.deliver(event, attempt=3)
    assert world.provider.calls == [event.event_id]


# --- a provider call whose answer was lost ------------------------------------------------


async def test_a_lost_answer_waits_for_the_status_naming_it_instead_of_sending_again(
    world: World,
) -> None:
    world.script(AnswerLost("read timeout", code="timeout"))
    event = world.request()

    error = await world.fails_transiently(event)
    assert isinstance(error, AwaitingSendStatus)
    assert error.retry_after == SEND_OUTCOME_POLL_S
    assert world.attempts(event) == 0  # not a failure: the provider may have it
    assert not world.messages.claimed(event.event_id)
    world.clock.advance(SEND_OUTCOME_POLL_S)
    assert isinstance(await world.fails_transiently(event, attempt=2), AwaitingSendStatus)

    # the status webhook naming the request records the send (statuses.py)
    await world.messages.record_sent(event.event_id, "wamid.from-status", datetime.now(UTC))
    await world.deliver(event, attempt=3)

    assert world.provider.calls == [event.event_id]
    [sent] = world.bus.stored(OutboundMessageSent)
    assert sent.provider_message_id == "wamid.from-status"


async def test_a_worker_killed_mid_call_leaves_its_message_waiting_for_the_status(
    world: World,
) -> None:
    event = world.request()
    crashed = await world.messages.admit(event, CLAIM_S)  # a worker claimed it...
    assert await world.messages.mark_maybe_sent(event.event_id, crashed.claim)  # ...called
    world.clock.advance(CLAIM_S + 1)  # ...and died: its claim lapsed

    error = await world.fails_transiently(event, attempt=2)

    assert isinstance(error, AwaitingSendStatus)
    assert world.provider.calls == []


async def test_with_no_status_in_time_a_lost_answer_is_sent_again(world: World) -> None:
    world.script(AnswerLost("connection dropped", code="connection"))
    event = world.request()
    await world.fails_transiently(event)

    world.clock.advance(SEND_OUTCOME_WAIT_S)
    await world.deliver(event, attempt=2)

    assert world.provider.calls == [event.event_id, event.event_id]
    assert world.messages.rows[event.event_id].provider_message_id == "wamid.1"
    assert event.event_id not in world.messages.maybe_sent_since


async def test_after_a_restart_a_message_marked_long_ago_still_waits_for_its_status(
    world: World,
) -> None:
    event = world.request()
    crashed = await world.messages.admit(event, CLAIM_S)  # claimed, the call began...
    assert await world.messages.mark_maybe_sent(event.event_id, crashed.claim)
    world.clock.advance(3 * SEND_OUTCOME_WAIT_S)  # ...and every replica was down since
    restarted = Deliverer(
        bus=world.bus,
        accounts=world.accounts,
        messages=world.messages,
        providers={Channel.WHATSAPP: world.provider},
        limiter=world.slots,
        pair_backoff=world.pair_backoffs,
        windows=world.windows,
        monotonic=world.clock,
    )

    delivery = delivery_for(requests_spec(), num_delivered=2)
    with pytest.raises(AwaitingSendStatus):  # the statuses of the outage are read first
        await restarted.deliver(event, delivery)
    world.clock.advance(SEND_OUTCOME_WAIT_S)
    await restarted.deliver(event, delivery_for(requests_spec(), num_delivered=3))

    assert world.provider.calls == [event.event_id]


async def test_a_worker_whose_claim_lapsed_neither_calls_nor_releases_the_new_claim(
    world: World,
) -> None:
    event = world.request()
    world.slots.busy_for_s = 0.05  # the worker waits for its send slot...
    slow = asyncio.create_task(world.deliver(event))
    await asyncio.sleep(0.01)
    world.clock.advance(CLAIM_S + 1)  # ...longer than its claim: another takes over
    assert (await world.messages.admit(event, CLAIM_S)).claim.claimed

    with pytest.raises(ClaimLost):
        await slow

    assert world.provider.calls == []
    assert world.messages.claimed(event.event_id)  # the other worker's claim stands


async def test_a_send_that_wakes_too_late_for_its_slot_takes_a_new_one(world: World) -> None:
    event = world.request()
    world.slots.busy_for_s = 0.05
    sending = asyncio.create_task(world.deliver(event))
    while not world.slots.reserved:
        await asyncio.sleep(0)
    world.clock.advance(0.5)  # the process stalled: it wakes long after its slot

    await sending

    assert len(world.slots.reserved) == 2  # a second slot, rather than sent late
    assert world.provider.calls == [event.event_id]


async def test_a_send_on_time_for_its_slot_takes_only_that_one(world: World) -> None:
    event = world.request()
    world.slots.busy_for_s = 0.05

    await world.deliver(event)

    assert len(world.slots.reserved) == 1
    assert world.provider.calls == [event.event_id]


def slow_marks(world: World, seconds: float) -> list[float]:
    """Marks that take ``seconds`` (a loaded database); when each was asked for."""
    asked: list[float] = []
    mark = world.messages.mark_maybe_sent

    async def slow(request_event_id: uuid.UUID, claim: Claim) -> bool:
        asked.append(world.clock())
        world.clock.advance(seconds)
        return await mark(request_event_id, claim)

    world.messages.mark_maybe_sent = slow  # type: ignore[method-assign]
    return asked


async def test_a_send_whose_mark_ran_past_its_slot_takes_a_new_one(world: World) -> None:
    """Marked ahead of its slot, a send is late by what the mark took beyond that: it
    would go out bunched with later slots' sends, so it takes a later slot."""
    world.slots.busy_for_s = 0.1
    asked = slow_marks(world, 0.15)  # (the test's clock stands still while sleeping)
    event = world.request()

    await world.deliver(event)

    assert len(world.slots.reserved) == 2
    assert len(asked) == 1  # marked once: it stays marked while it waits again
    assert world.provider.calls == [event.event_id]


async def test_a_send_due_at_once_is_marked_after_its_slot_and_keeps_it(world: World) -> None:
    """A reply going ahead has no time to mark ahead of its slot: it marks once there and
    goes, the mark's round trip not counted as lateness."""
    asked = slow_marks(world, 0.05)
    event = world.request()

    await world.deliver(event)

    assert len(asked) == 1 and len(world.slots.reserved) == 1
    assert world.provider.calls == [event.event_id]


async def test_a_wait_shortens_to_what_is_left_of_the_outcome_wait(world: World) -> None:
    world.script(AnswerLost("read timeout", code="timeout"))
    event = world.request()
    await world.fails_transiently(event)

    world.clock.advance(SEND_OUTCOME_WAIT_S - 1.5)
    error = await world.fails_transiently(event, attempt=2)

    assert error.retry_after == pytest.approx(1.5)


async def test_a_cancelled_call_keeps_the_message_maybe_sent(world: World) -> None:
    event = world.request()
    world.provider.hold = asyncio.Event()
    sending = asyncio.create_task(world.deliver(event))
    while not world.provider.calls:
        await asyncio.sleep(0)

    sending.cancel()  # shutdown mid-call: the request may have reached the provider
    with pytest.raises(asyncio.CancelledError):
        await sending

    assert not world.messages.claimed(event.event_id)
    assert isinstance(await world.fails_transiently(event, attempt=2), AwaitingSendStatus)


async def test_an_answered_error_clears_the_doubt_of_an_earlier_lost_answer(
    world: World,
) -> None:
    world.script(
        AnswerLost("read timeout", code="timeout"),
        RetryableProviderError("temporarily unavailable", code="131000"),
    )
    event = world.request()
    await world.fails_transiently(event)
    world.clock.advance(SEND_OUTCOME_WAIT_S)

    error = await world.fails_transiently(event, attempt=2)  # sent again: 131000

    assert not isinstance(error, AwaitingSendStatus)
    assert event.event_id not in world.messages.maybe_sent_since
    world.clock.advance(error.retry_after or 0)
    await world.deliver(event, attempt=3)
    assert len(world.provider.calls) == 3


async def test_without_a_status_to_wait_for_a_lost_answer_is_retried_as_a_failure(
    world: World,
) -> None:
    world.deliverer.providers[Channel.WHATSAPP] = chattigo_like = ScriptedProvider(
        AnswerLost("read timeout", code="timeout"), echoes_request_id=False
    )
    event = world.request()

    error = await world.fails_transiently(event)

    assert not isinstance(error, AwaitingSendStatus)
    assert error.retry_after == PROVIDER_BACKOFF.step(1)
    assert world.attempts(event) == 1
    await world.deliver(event, attempt=2)
    assert chattigo_like.calls == [event.event_id, event.event_id]


async def test_a_read_receipt_whose_answer_was_lost_is_simply_retried(world: World) -> None:
    world.script(AnswerLost("read timeout", code="timeout"))
    event = world.request(MarkReadContent(message_id="wamid.inbound"))

    error = await world.fails_transiently(event)

    assert not isinstance(error, AwaitingSendStatus)  # no status names a read receipt
    assert world.attempts(event) == 1


# --- checks that need no provider call ----------------------------------------------------


async def test_an_unknown_account_fails_for_good_and_stays_failed(world: World) -> None:
    event = world.request(account_id="999999")

    await world.deliver(event)  # acked: nothing will ever make it work
    await world.deliver(event, attempt=2)  # a redelivery: settled, nothing to do

    assert world.provider.calls == []
    failed = failed_event(world)
    assert (failed.provider_code, failed.retryable) == ("unknown_account", False)
    assert failed.request_id == event.event_id
    [status] = world.bus.stored(OutboundStatusChanged)
    assert (status.status, status.error_code) == ("failed", "unknown_account")
    assert world.bus.msg_ids == [f"failed:{event.event_id}", f"status:{event.event_id}:failed"]
    row = world.messages.rows[event.event_id]
    assert (row.status, row.error_code) == ("failed", "unknown_account")
    assert not world.messages.claimed(event.event_id)


@pytest.mark.parametrize("last_wrote", [None, timedelta(hours=24, minutes=1)])
async def test_free_form_content_outside_the_24_hour_window_fails_with_131047(
    world: World, last_wrote: timedelta | None
) -> None:
    world.windows.last_inbound.clear()
    if last_wrote is not None:
        world.customer_wrote(ago=last_wrote)
    event = world.request()

    await world.deliver(event)

    assert world.provider.calls == []
    failed = failed_event(world)
    assert (failed.provider_code, failed.retryable) == ("131047", False)
    assert "24-hour" in failed.title
    assert world.messages.rows[event.event_id].status == "failed"
    assert not world.messages.claimed(event.event_id)


async def test_outside_the_window_a_late_template_carries_the_text_instead(
    world: World,
) -> None:
    world.windows.last_inbound.clear()
    world.customer_wrote(ago=timedelta(hours=30))
    world.deliverer.late_template = LateTemplate("mensaje_fuera_de_ventana", "es")
    event = world.request(
        CtaUrlContent(
            body="Tu pago de $954.688 fue confirmado.\nGracias.",
            display_text="Ver recibo",
            url="https://pagos.example/recibo/40037",
        )
    )

    await world.deliver(event)

    [sent] = world.provider.sent
    assert sent.event_id == event.event_id  # the same request, its content in a template
    assert sent.content == TemplateContent(
        name="mensaje_fuera_de_ventana",
        language="es",
        components=[
            TemplateComponent(
                type="body",
                parameters=[
                    TextParameter(
                        text="Tu pago de $954.688 fue confirmado. / Gracias. / Ver recibo: "
                        "https://pagos.example/recibo/40037"
                    )
                ],
            )
        ],
    )
    row = world.messages.rows[event.event_id]
    assert row.status == "sent"
    assert row.degradation is not None and "mensaje_fuera_de_ventana" in row.degradation
    assert "cta_url rendered as text" not in row.degradation  # as_text's own note is moot


async def test_content_without_text_still_fails_outside_the_window(world: World) -> None:
    world.windows.last_inbound.clear()
    world.deliverer.late_template = LateTemplate("mensaje_fuera_de_ventana", "es")
    sticker = MediaContent(media_type="sticker", id="sticker-1")

    await world.deliver(world.request(sticker))

    assert world.provider.calls == []
    assert failed_event(world).provider_code == "131047"


async def test_a_template_needs_no_open_window(world: World) -> None:
    world.windows.last_inbound.clear()
    event = world.request(TemplateContent(name="deuda_vehicular", language="es_CO"))

    await world.deliver(event)

    assert world.provider.calls == [event.event_id]


async def test_failing_credentials_keep_the_message_for_a_retry(world: World) -> None:
    await world.accounts.mark_credentials_failing(world.account.id, "token expired")
    event = world.request()

    error = await world.fails_transiently(event)

    assert error.retry_after == CREDENTIALS_RETRY_S
    assert world.provider.calls == []
    assert world.bus.published == []
    assert world.messages.rows[event.event_id].status == "requested"
    assert not world.messages.claimed(event.event_id)


async def test_a_recipient_in_pair_backoff_waits_without_a_provider_call(world: World) -> None:
    await world.pair_backoffs.back_off("whatsapp", PHONE_NUMBER_ID, KEY, 12.0)
    event = world.request()

    error = await world.fails_transiently(event)

    assert error.retry_after == pytest.approx(12.0)
    assert world.provider.calls == []
    assert not world.messages.claimed(event.event_id)


async def test_a_send_slot_too_far_away_waits_in_the_stream(world: World) -> None:
    world.slots.busy_for_s = world.slots.max_wait_s + 3.0
    event = world.request()

    error = await world.fails_transiently(event)

    assert error.retry_after == pytest.approx(3.0)
    assert error.exact  # the slot is in reach by then: the runtime adds no jitter
    assert world.provider.calls == []
    assert world.attempts(event) == 0
    assert not world.messages.claimed(event.event_id)


def campaign_send(world: World, send_after: datetime) -> CampaignMessageRequested:
    template = TemplateContent(name="pago_confirmado", language="es")
    request = world.request(template).model_dump(exclude={"event_id", "event_type", "campaign_id"})
    return CampaignMessageRequested(**request, campaign_id="c-1", send_after=send_after)


async def test_a_campaign_send_waits_for_its_send_after_before_its_slot(world: World) -> None:
    send_after = datetime.now(UTC) + timedelta(seconds=0.2)
    event = campaign_send(world, send_after)

    await world.deliver(event)

    assert world.provider.calls == [event.event_id]
    assert datetime.now(UTC) >= send_after


async def test_a_reply_asks_to_go_ahead_of_the_queue_and_a_campaign_send_does_not(
    world: World,
) -> None:
    await world.deliver(world.request())
    await world.deliver(campaign_send(world, datetime.now(UTC)))

    assert world.slots.replies == [True, False]


async def test_a_campaign_send_far_in_the_future_waits_in_the_stream(world: World) -> None:
    event = campaign_send(world, datetime.now(UTC) + timedelta(seconds=30))

    error = await world.fails_transiently(event)

    assert error.retry_after == pytest.approx(30.0, abs=0.5) and error.exact
    assert world.provider.calls == [] and event.event_id not in world.messages.rows


class RunningCampaigns:
    """A gate whose campaigns run until ``stopped``."""

    def __init__(self) -> None:
        self.stopped = False

    async def may_send(self, event: CampaignMessageRequested) -> bool:
        return not self.stopped

    async def runs(self, campaign_id: str) -> bool:
        return not self.stopped


async def test_a_campaign_send_whose_slot_is_out_of_reach_waits_for_it_in_the_worker(
    world: World,
) -> None:
    # the number's queue is 50 ms longer than a campaign send may reserve ahead: it waits
    # for the queue to shorten here, not through a nak and a redelivery
    world.slots.busy_for_s = world.deliverer.campaign_slot_wait_s + 0.05
    asyncio.get_running_loop().call_later(0.03, setattr, world.slots, "busy_for_s", 0.0)
    event = campaign_send(world, datetime.now(UTC))

    await world.deliver(event)

    assert world.provider.calls == [event.event_id]
    assert len(world.slots.reserved) == 1


class RoundTripSlots(FakeSendSlots):
    """Reservations that take a round trip; how many were asking at once, each time."""

    def __init__(self) -> None:
        super().__init__()
        self.asking = 0
        self.at_once: list[int] = []

    async def reserve(self, *args: Any, **kwargs: Any) -> float:
        self.asking += 1
        self.at_once.append(self.asking)
        try:
            await asyncio.sleep(0.005)
            return await super().reserve(*args, **kwargs)
        finally:
            self.asking -= 1


async def test_campaign_sends_waiting_for_slots_ask_one_at_a_time(world: World) -> None:
    slots = RoundTripSlots()
    world.deliverer.limiter = slots
    slots.busy_for_s = world.deliverer.campaign_slot_wait_s + 0.05
    asyncio.get_running_loop().call_later(0.03, setattr, slots, "busy_for_s", 0.0)
    events = [campaign_send(world, datetime.now(UTC)) for _ in range(6)]

    await asyncio.gather(*(world.deliver(event) for event in events))

    assert sorted(world.provider.calls) == sorted(e.event_id for e in events)
    # all six asked together and were refused; then they waited in line, one asking
    # at a time, each once: no collisions among them
    assert slots.at_once[:6] == [1, 2, 3, 4, 5, 6]
    assert slots.at_once[6:] == [1] * 6


async def test_a_marked_campaign_send_that_missed_its_slot_does_not_wait_in_line(
    world: World,
) -> None:
    """Marked maybe sent, then late for its slot with none left within reach: it goes back
    to JetStream unmarked at once; waiting in line marked, a notifier killed meanwhile
    would leave it in doubt, counted as sent without a call."""
    world.slots.busy_for_s = 0.1
    asked = slow_marks(world, 0.15)
    mark = world.messages.mark_maybe_sent

    async def then_the_number_fills_up(request_event_id: uuid.UUID, claim: Claim) -> bool:
        world.slots.busy_for_s = world.deliverer.campaign_slot_wait_s + 0.5
        return await mark(request_event_id, claim)

    world.messages.mark_maybe_sent = then_the_number_fills_up  # type: ignore[method-assign]
    event = campaign_send(world, datetime.now(UTC))

    error = await world.fails_transiently(event)

    assert error.retry_after == pytest.approx(0.5) and error.exact
    assert len(asked) == 1 and world.provider.calls == []
    assert event.event_id not in world.messages.maybe_sent_since
    assert not world.messages.claimed(event.event_id)


async def test_a_campaign_send_whose_slot_is_seconds_away_waits_in_the_stream(
    world: World,
) -> None:
    world.slots.busy_for_s = world.deliverer.campaign_slot_wait_s + SEND_AFTER_IN_WORKER_S + 1
    event = campaign_send(world, datetime.now(UTC))

    error = await world.fails_transiently(event)

    assert error.retry_after == pytest.approx(SEND_AFTER_IN_WORKER_S + 1) and error.exact
    assert world.provider.calls == [] and not world.messages.claimed(event.event_id)


async def test_a_campaign_send_waiting_for_its_slot_stops_when_its_campaign_does(
    world: World,
) -> None:
    gate = RunningCampaigns()
    world.deliverer.campaigns = gate
    world.slots.busy_for_s = world.deliverer.campaign_slot_wait_s + 0.05
    asyncio.get_running_loop().call_later(0.02, setattr, gate, "stopped", True)
    event = campaign_send(world, datetime.now(UTC))

    error = await world.fails_transiently(event)

    # straight back to the gate, which gives the recipient back to its campaign
    assert error.retry_after == 0.0 and error.exact
    assert world.provider.calls == [] and world.slots.reserved == []
    assert not world.messages.claimed(event.event_id)


# --- the provider's errors -----------------------------------------------------------------


@pytest.mark.parametrize(("retry_after", "expected"), [(7.0, 7.0), (None, 1.0)])
async def test_an_account_rate_limit_waits_without_counting_an_attempt(
    world: World, retry_after: float | None, expected: float
) -> None:
    world.script(RateLimited("too fast", code="130429", retry_after=retry_after))
    event = world.request()

    error = await world.fails_transiently(event)

    assert error.retry_after == expected
    assert world.attempts(event) == 0
    assert world.pair_backoffs.until == {}
    assert world.bus.published == []
    assert not world.messages.claimed(event.event_id)


@pytest.mark.parametrize(("retry_after", "expected"), [(20.0, 20.0), (None, PAIR_BACKOFF_S)])
async def test_a_pair_rate_limit_backs_off_that_recipient(
    world: World, retry_after: float | None, expected: float
) -> None:
    world.script(PairRateLimited("pair limit", code="131056", retry_after=retry_after))
    event = world.request()

    error = await world.fails_transiently(event)

    assert error.retry_after == expected
    assert world.pair_backoffs.remaining_s("whatsapp", PHONE_NUMBER_ID, KEY) == expected
    assert world.attempts(event) == 0
    assert not world.messages.claimed(event.event_id)

    world.clock.advance(1.0)  # the redelivery finds the back-off and leaves the provider alone
    error = await world.fails_transiently(event, attempt=2)
    assert error.retry_after == pytest.approx(expected - 1.0)
    assert world.provider.calls == [event.event_id]


async def test_rejected_credentials_mark_the_account_failing_and_keep_the_message(
    world: World,
) -> None:
    world.script(CredentialsRejected("Invalid OAuth access token", code="190", http_status=401))
    event = world.request()

    error = await world.fails_transiently(event)

    assert error.retry_after == CREDENTIALS_RETRY_S
    assert world.accounts.failing == {world.account.id: "Invalid OAuth access token"}
    assert world.attempts(event) == 0
    assert world.bus.published == []
    assert not world.messages.claimed(event.event_id)

    error = await world.fails_transiently(event, attempt=2)  # not sent while failing
    assert error.retry_after == CREDENTIALS_RETRY_S
    assert world.provider.calls == [event.event_id]


async def test_retryable_errors_count_attempts_back_off_and_then_give_up(world: World) -> None:
    world.script(
        *(RetryableProviderError("temporarily unavailable", code="131000") for _ in range(3))
    )
    event = world.request()

    waits = []
    for attempt in (1, 2):
        waits.append((await world.fails_transiently(event, attempt)).retry_after)
        assert world.attempts(event) == attempt
        assert world.bus.published == []
        assert not world.messages.claimed(event.event_id)
    with pytest.raises(PermanentError, match="gave up after 3 provider attempts"):
        await world.deliver(event, attempt=3)

    assert waits == [PROVIDER_BACKOFF.step(1), PROVIDER_BACKOFF.step(2)]
    assert world.provider.calls == [event.event_id] * MAX_PROVIDER_ATTEMPTS
    failed = failed_event(world)
    assert (failed.provider_code, failed.retryable) == ("131000", True)
    row = world.messages.rows[event.event_id]
    assert (row.status, row.provider_attempts) == ("failed", 3)
    assert not world.messages.claimed(event.event_id)


async def test_a_retryable_error_waits_at_least_the_providers_retry_after(world: World) -> None:
    world.script(RetryableProviderError("unavailable", http_status=503, retry_after=30.0))
    event = world.request()

    error = await world.fails_transiently(event)

    assert error.retry_after == 30.0
    assert world.attempts(event) == 1


async def test_a_retryable_error_on_the_last_delivery_gives_up_at_once(world: World) -> None:
    world.script(RetryableProviderError("service unavailable", http_status=503))
    event = world.request()

    with pytest.raises(PermanentError):
        await world.deliver(event, attempt=requests_spec().max_deliver)

    assert world.attempts(event) == 1
    assert failed_event(world).retryable is True
    assert not world.messages.claimed(event.event_id)


@pytest.mark.parametrize(
    "error",
    [
        PermanentProviderError("undeliverable", code="131026", detail="not on WhatsApp"),
        OutsideServiceWindow("re-engagement message", code="131047", detail="send a template"),
    ],
)
async def test_a_permanent_error_fails_for_good_with_the_providers_words(
    world: World, error: PermanentProviderError
) -> None:
    world.script(error)
    event = world.request()

    await world.deliver(event)  # acked: retrying cannot help

    failed = failed_event(world)
    assert (failed.provider_code, failed.title, failed.detail, failed.retryable) == (
        error.code,
        error.message,
        error.detail,
        False,
    )
    [status] = world.bus.stored(OutboundStatusChanged)
    assert (status.status, status.error_code) == ("failed", error.code)
    assert world.attempts(event) == 0
    assert world.messages.rows[event.event_id].status == "failed"
    assert not world.messages.claimed(event.event_id)

    await world.deliver(event, attempt=2)
    assert world.provider.calls == [event.event_id]


async def test_an_unexpected_failure_releases_the_claim(world: World) -> None:
    class Broken:
        async def send(self, account: ChannelAccount, message: OutboundMessageRequested) -> None:
            raise RuntimeError("a bug")

    world.deliverer.providers[Channel.WHATSAPP] = Broken()  # type: ignore[assignment]
    event = world.request()

    with pytest.raises(RuntimeError):
        await world.deliver(event)

    assert world.messages.rows[event.event_id].status == "requested"
    assert not world.messages.claimed(event.event_id)
