"""Deliver one requested outbound message: exactly one provider call per message, at the
account's pace, with every failure ending as a retry, a recorded failure or a dead letter.

The order of steps is what makes "never twice" hold:

1. the request is recorded (idempotent on ``event_id``) and claimed for this attempt,
   in one statement that also reads the contact's 24-hour window and any pair-rate
   back-off (one round trip to PostgreSQL instead of four: this is on every send);
2. a request whose provider message id is already recorded was sent: its ``sent``
   event is published again (deduplicated by JetStream) and the redelivery is acked
   without calling the provider; one claimed by another worker (a late heartbeat,
   another replica) waits instead of sending in parallel;
3. checks that need no provider call fail fast: unknown account, closed 24-hour
   window, a recipient in pair-rate back-off, failing credentials (kept for retry);
4. a send slot is reserved from the account's shared token bucket;
5. when it comes, the message is marked *maybe sent*, only if this worker still holds
   its claim (one slower than its claim, taken over meanwhile, makes no call); the
   provider is called, and its message id is recorded *before* the ack (the same
   statement releases the claim; every other way out releases it too).

Each of these statements is shared by the sends that make it at the same time (the
store's and the limiter's :class:`~cauce_runtime.Coalescer`).

A provider call whose answer never got recorded (the notifier killed mid-call,
PostgreSQL gone when the answer came, a read timeout) leaves the message *maybe sent*:
step 5 marks it just before the call and the answer clears the mark. WhatsApp Cloud and
YCloud echo the request's id on their status webhooks (``biz_opaque_callback_data``,
``externalId``), so a redelivery of a maybe-sent message waits for that status
(``send_outcome_wait_s``) instead of sending again: the status tracker records the
provider's id from it, and the redelivery then finds the message sent. Only when no
status came in that time (or on Chattigo, which echoes nothing) is it sent again: a
duplicate is then possible, a loss is not. ``tests/delivery/test_crash_recovery.py``
kills the notifier during a burst of 500 and finds no request sent twice.

:class:`Deliverer` depends on narrow protocols (:class:`Accounts`, :class:`Messages`,
:class:`SendSlots`, :class:`PairBackoffs`, :class:`Windows` and the runtime's
``Publisher``), which the PostgreSQL stores and the bus implement; the unit tests
(``tests/unit``) run it on in-memory fakes that keep the same promises.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from opentelemetry import trace

from cauce_contracts.outbound import (
    CampaignMessageRequested,
    MarkReadContent,
    OutboundMessageRequested,
)
from cauce_contracts.subjects import Channel
from cauce_notifier.accounts_model import ChannelAccount
from cauce_notifier.metrics import SEND_SLOTS_MISSED, SENDS_IN_DOUBT, send_limiter
from cauce_notifier.providers import ProviderClient, SendResult
from cauce_notifier.providers.errors import (
    AnswerLost,
    CredentialsRejected,
    PairRateLimited,
    PermanentProviderError,
    ProviderError,
    RateLimited,
    RetryableProviderError,
)
from cauce_notifier.rate_limit import SendSlotTooFar
from cauce_notifier.send_outcomes import Failure, Request, announce_failed, announce_sent
from cauce_notifier.service_window import LateTemplate, needs_open_window
from cauce_notifier.store.messages import Admission, Claim, MessageRecord, RecordedSend
from cauce_runtime import Backoff, Delivery, PermanentError, Publisher, TransientError
from cauce_runtime.telemetry.metrics import (
    PROVIDER_CREDENTIALS_FAILING,
    PROVIDER_ERRORS,
    RATE_LIMIT_WAIT_SECONDS,
)

logger = logging.getLogger(__name__)

#: Pair-rate back-off when Meta gives no Retry-After (its guidance: wait, then resume).
PAIR_BACKOFF_S = 60.0
#: How long a worker holds a message while sending it, by default (longer than a send
#: ever takes: slot wait + provider timeout); a crashed holder's claim lapses after it.
CLAIM_S = 30.0
#: Between failed provider attempts of one message (counted by the notifier itself,
#: since most redeliveries here are waits, not failures): 2 s, 4 s, ... up to 5 min.
#: The step is the least wait; the consumer adds the jitter, once.
PROVIDER_BACKOFF = Backoff.exponential(2.0, 300.0)
#: A campaign send due within this long waits for its ``send_after`` in the worker, and
#: a campaign send whose slot is further off than it may reserve ahead waits there for
#: the slot to come within reach, as long as its campaign runs (see
#: ``Deliverer._reserve_campaign_slot``).
SEND_AFTER_IN_WORKER_S = 2.0
#: How long a maybe-sent message waits for the status webhook naming it, by default
#: (Meta reports ``sent`` within seconds; its webhook retries take longer).
SEND_OUTCOME_WAIT_S = 60.0
#: How often a maybe-sent message looks again while it waits for its status.
SEND_OUTCOME_POLL_S = 5.0
#: A send that wakes later than this after its slot takes a new one (see _until_slot),
#: at most MISSED_SLOT_RETRIES times; then it goes. A third of the 30 ms of bunching the
#: limiter's headroom absorbs: the rest is left to the network and the provider.
SLOT_LATE_S = 0.01
#: A send is marked maybe sent this long before its slot (the mark's round trip), so
#: that the call itself goes at the slot; a notifier killed meanwhile leaves only the
#: sends of these last milliseconds in doubt.
MARK_AHEAD_S = 0.02
MISSED_SLOT_RETRIES = 3


class AwaitingSendStatus(TransientError):
    """The provider may have the message: wait for its status webhook, do not resend."""


class ClaimLost(TransientError):
    """This worker's claim lapsed (it was slower than ``claim_s``) and another took the
    message over: it neither calls the provider nor releases what is not its own."""


class Accounts(Protocol):
    """The sending accounts (:class:`~cauce_notifier.store.accounts.AccountStore`)."""

    async def find(self, channel: Channel, account_id: str) -> ChannelAccount | None:
        """The account sending as ``account_id`` on ``channel``, or None."""
        ...

    async def mark_credentials_failing(self, account_id: uuid.UUID, error: str) -> bool:
        """Flag the account's credentials as refused: ``find`` then returns it with
        ``credentials_status == "failing"`` until they are rotated."""
        ...


class Messages(Protocol):
    """The send path of :class:`~cauce_notifier.store.messages.MessageStore`; every
    method is safe to repeat."""

    async def admit(self, event: OutboundMessageRequested, claim_for_s: float) -> Admission:
        """Record the request once (idempotent on ``event_id``) and claim it for
        ``claim_for_s`` seconds: a new request is claimed at once; an existing one only
        when it has no provider id, has not failed and nobody holds a live claim
        (otherwise the claim says settled, or for how long another worker holds it)."""
        ...

    async def release(self, request_event_id: uuid.UUID, *, maybe_sent: bool = False) -> None:
        """Drop the claim, whoever holds it; ``maybe_sent`` keeps the maybe-sent mark."""
        ...

    async def mark_maybe_sent(self, request_event_id: uuid.UUID, claim: Claim) -> bool:
        """A provider call starts: the message is maybe sent until its answer is recorded
        (:attr:`Admission.maybe_sent_s` of a later admission). False when ``claim`` is
        no longer held: the call must not be made."""
        ...

    async def record_sent(
        self,
        request_event_id: uuid.UUID,
        provider_message_id: str,
        sent_at: datetime,
        degradation: str | None = None,
    ) -> RecordedSend | None:
        """Store the provider's id (the first one wins), release the claim and clear the
        maybe-sent mark."""
        ...

    async def record_failed(
        self,
        request_event_id: uuid.UUID,
        code: str | None,
        title: str,
        retryable: bool,
        at: datetime,
    ) -> MessageRecord | None:
        """Mark a message still ``requested`` failed for good (a sent one stays sent)."""
        ...

    async def record_attempt_failed(self, request_event_id: uuid.UUID) -> int:
        """Count one more failed provider attempt (and clear the maybe-sent mark: the
        provider answered); the count so far (0 if unknown)."""
        ...

    async def set_degradation(self, request_event_id: uuid.UUID, degradation: str) -> None:
        """Record what was lost converting the content for the channel."""
        ...


class SendSlots(Protocol):
    """The per-account send rate (:class:`~cauce_notifier.rate_limit.SendRateLimiter`)."""

    @property
    def max_wait_s(self) -> float:
        """The furthest slot :meth:`reserve` hands out by default."""
        ...

    async def reserve(
        self,
        channel: str,
        account_id: str,
        rate_per_s: float,
        *,
        max_wait_s: float | None = None,
        reply: bool = False,
    ) -> float:
        """Reserve the account's next slot; the seconds to wait for it. Raises
        :class:`SendSlotTooFar` (reserving nothing) beyond ``max_wait_s``. ``reply``: a
        conversation reply, which goes ahead of a campaign's queued sends."""
        ...

    def campaign_reach_s(self, rate_per_s: float, reach_s: float) -> float:
        """How far ahead a campaign's send reserves on a number of ``rate_per_s``, at
        most ``reach_s`` (less where replies may not go ahead of its queue)."""
        ...

    def interval_s(self, rate_per_s: float) -> float:
        """Seconds between two slots of a number of ``rate_per_s``."""
        ...


class CampaignGate(Protocol):
    """Whether a campaign's send may go now
    (:class:`~cauce_notifier.campaigns.gate.CampaignGate`)."""

    async def may_send(self, event: CampaignMessageRequested) -> bool:
        """True while the campaign runs; otherwise the recipient goes back to its
        campaign (to be released again on resume, or marked cancelled) and False."""
        ...

    async def runs(self, campaign_id: str) -> bool:
        """True while the campaign runs (as of a moment ago), changing nothing."""
        ...


class PairBackoffs(Protocol):
    """Recipients to leave alone (:class:`~cauce_notifier.rate_limit.PairBackoff`);
    :meth:`Messages.admit` reads the back-off back as ``pair_backoff_s``."""

    async def back_off(self, channel: str, account_id: str, contact_key: str, for_s: float) -> None:
        """Leave the recipient alone for ``for_s`` seconds (a longer back-off stays)."""
        ...


class ReplyLinks(Protocol):
    """Short links (:class:`~cauce_notifier.links.shortener.Shortener`)."""

    async def reply(self, event: OutboundMessageRequested) -> OutboundMessageRequested:
        """``event`` with its URL button as a short link (as it was when it has none)."""
        ...


class Windows(Protocol):
    """The 24-hour rule (:class:`~cauce_notifier.service_window.ServiceWindows`)."""

    def is_open(self, last_inbound_at: datetime | None, now: datetime) -> bool:
        """Whether free-form content may go to a contact who last wrote at
        ``last_inbound_at`` (as :meth:`Messages.admit` read it)."""
        ...


@dataclasses.dataclass
class _SlotLine:
    """A replica's campaign sends waiting for a slot of one number (see
    ``Deliverer._wait_in_line``)."""

    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    #: When (monotonic) the slot after the last one taken comes within reach.
    next_try_at: float = 0.0


class _Reserve(Protocol):
    """Reserves a send's slot: the seconds until it; ``may_wait``: for one out of reach."""

    async def __call__(self, *, may_wait: bool = True) -> float: ...


class _NoSlotInReach(Exception):
    def __init__(self, retry_in_s: float) -> None:
        super().__init__(f"no slot within reach; retry in {retry_in_s:.3f}s")
        self.retry_in_s = retry_in_s


class Deliverer:
    def __init__(
        self,
        *,
        bus: Publisher,
        accounts: Accounts,
        messages: Messages,
        providers: dict[Channel, ProviderClient],
        limiter: SendSlots,
        pair_backoff: PairBackoffs,
        windows: Windows,
        max_provider_attempts: int = 8,
        credentials_retry_s: float = 60.0,
        campaigns: CampaignGate | None = None,
        campaign_slot_wait_s: float = 0.1,
        late_template: LateTemplate | None = None,
        links: ReplyLinks | None = None,
        claim_s: float = CLAIM_S,
        send_outcome_wait_s: float = SEND_OUTCOME_WAIT_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bus = bus
        self.claim_s = claim_s
        #: How long a maybe-sent message waits for the status webhook naming it.
        self.send_outcome_wait_s = send_outcome_wait_s
        self._monotonic = monotonic
        self._slot_lines: dict[tuple[Channel, str], _SlotLine] = {}
        self._started = monotonic()
        self.accounts = accounts
        self.messages = messages
        self.providers = providers
        self.limiter = limiter
        self.pair_backoff = pair_backoff
        self.windows = windows
        self.max_provider_attempts = max_provider_attempts
        #: How long messages of an account whose credentials were refused wait before
        #: the next try (an operator rotates them through the admin API meanwhile).
        self.credentials_retry_s = credentials_retry_s
        self.campaigns = campaigns
        #: The furthest ahead a campaign's send reserves its slot. Conversation replies
        #: reserve up to the limiter's own ``max_wait_s`` and go ahead of a queue this
        #: short (the limiter's ``replies_ahead``): replies go first.
        self.campaign_slot_wait_s = campaign_slot_wait_s
        #: Sent instead of a free-form message whose window closed (None: it fails).
        self.late_template = late_template
        #: Makes a short link of a reply's URL button (None: sent as it is).
        self.links = links

    async def deliver(self, event: OutboundMessageRequested, delivery: Delivery) -> None:
        if isinstance(event, CampaignMessageRequested):
            await _until_send_after(event)
            if self.campaigns is not None and not await self.campaigns.may_send(event):
                return  # its campaign is not running: the recipient went back to it
        admission = await self.messages.admit(event, self.claim_s)
        record = admission.message
        if record.provider_message_id is not None:
            # a redelivery of a sent message: announce it again, never resend
            await announce_sent(self.bus, Request.of_event(event), record.provider_message_id)
            return
        if admission.claim.settled:
            return  # failed for good; its failed event was published then
        if not admission.claim.claimed:
            raise TransientError(
                "another worker is sending it", retry_after=admission.claim.retry_in_s
            )
        try:
            self._wait_if_maybe_sent(event, admission)
            result = await self._send_claimed(event, admission, delivery)
        except ClaimLost:
            raise  # the claim is another worker's now
        except BaseException as exc:
            # A wait this module decided on follows a provider's answer (or comes before
            # any call): no call is in doubt. Anything else (cancelled mid-call, a bug,
            # PostgreSQL gone) keeps a maybe-sent mark the call may have left.
            in_doubt = isinstance(exc, AwaitingSendStatus) or not isinstance(exc, TransientError)
            await self.messages.release(event.event_id, maybe_sent=in_doubt)
            raise
        if result is None:
            await self.messages.release(event.event_id)
            return
        # records the provider id and releases the claim in one statement
        stored = await self.messages.record_sent(
            event.event_id, result.provider_message_id, datetime.now(UTC), result.degradation
        )
        if stored is not None and result.degradation and stored.degradation is None:
            # its status webhook recorded the send first (see statuses.py)
            await self.messages.set_degradation(event.event_id, result.degradation)
        await announce_sent(self.bus, Request.of_event(event), result.provider_message_id)

    def _awaits_status(self, event: OutboundMessageRequested) -> bool:
        """Whether a status webhook will name this request if the provider has it."""
        provider = self.providers.get(event.channel)
        echoes = provider is not None and provider.echoes_request_id
        return echoes and not isinstance(event.content, MarkReadContent)

    def _wait_if_maybe_sent(self, event: OutboundMessageRequested, admission: Admission) -> None:
        """Raise :class:`AwaitingSendStatus` while an earlier call's outcome is unknown
        and its status webhook may still tell; after that, the message goes again.

        The wait counts only while this replica runs: after an outage of every replica,
        the statuses that came meanwhile wait in JetStream and are read first, so a
        message marked long ago still waits ``send_outcome_wait_s`` after the restart."""
        if admission.maybe_sent_s is None:
            return
        since = min(admission.maybe_sent_s, self._monotonic() - self._started)
        left = self.send_outcome_wait_s - since if self._awaits_status(event) else 0.0
        if left > 0:
            raise AwaitingSendStatus(
                "the provider may have it (an earlier call's answer was lost):"
                " waiting for its status webhook",
                retry_after=min(left, SEND_OUTCOME_POLL_S),
            )
        SENDS_IN_DOUBT.add(1, {"provider": event.channel.value, "outcome": "resent"})
        logger.warning(
            "request %s: no status named it %.0f s after a call whose answer was lost;"
            " sending it again",
            event.event_id,
            since,
        )

    async def _send_claimed(
        self, event: OutboundMessageRequested, admission: Admission, delivery: Delivery
    ) -> SendResult | None:
        """Checks, slot and provider call of a claimed message; None when it failed for
        good (already recorded and announced)."""
        degradation: str | None = None
        account = await self.accounts.find(event.channel, event.channel_account_id)
        if account is None:
            await self._fail(event, Failure("unknown sending account", code="unknown_account"))
            return None
        if account.credentials_status == "failing":
            raise TransientError(
                "account credentials are failing", retry_after=self.credentials_retry_s
            )
        if self.links is not None:
            event = await self.links.reply(event)
        if needs_open_window(event.content) and not self.windows.is_open(
            admission.last_inbound_at, datetime.now(UTC)
        ):
            late = self.late_template.carrying(event.content) if self.late_template else None
            if late is None:
                await self._fail(
                    event,
                    Failure(
                        "outside the 24-hour customer-service window: send a template",
                        code="131047",
                    ),
                )
                return None
            template, note = late
            event = event.model_copy(update={"content": template})
            degradation = note
        if admission.pair_backoff_s > 0:
            raise TransientError(
                "recipient in pair-rate back-off", retry_after=admission.pair_backoff_s
            )
        if isinstance(event, CampaignMessageRequested):
            campaign = event

            async def reserve(*, may_wait: bool = True) -> float:
                return await self._reserve_campaign_slot(account, campaign, may_wait=may_wait)

        else:

            async def reserve(*, may_wait: bool = True) -> float:
                return await self._reserve_slot(account)

        wait = await reserve()

        async def mark_maybe_sent() -> None:
            # Marked as the slot comes (MARK_AHEAD_S before it), not when it was
            # reserved: a notifier killed while its sends wait for their slots leaves
            # none of them in doubt (in doubt, each would wait for a status that never
            # comes, then count as sent again).
            if not await self.messages.mark_maybe_sent(event.event_id, admission.claim):
                raise ClaimLost("the send claim lapsed before the call", retry_after=self.claim_s)

        await self._until_slot(account, wait, reserve, mark=mark_maybe_sent)
        result = await self._call_provider(account, event, delivery)
        if result is not None and degradation is not None:
            notes = "; ".join(n for n in (degradation, result.degradation) if n)
            result = dataclasses.replace(result, degradation=notes)
        return result

    async def _until_slot(
        self,
        account: ChannelAccount,
        wait: float,
        reserve: _Reserve,
        *,
        mark: Callable[[], Awaitable[None]],
    ) -> None:
        """Sleep until the send's slot and ``mark`` it maybe sent. One that wakes more
        than :data:`SLOT_LATE_S` after its slot (a busy process) takes the next free
        slot instead: sent that late, it would land among the sends of later slots, and
        in one provider second more sends than the limit could arrive (the limiter's
        headroom absorbs 30 ms of bunching).

        A send whose slot is further off than :data:`MARK_AHEAD_S` is marked that long
        before it, so the call goes at the slot and not a round trip after it (the
        round trip varies with the database's load: more bunching); its mark's round
        trip counts towards its lateness. One due sooner (a reply going ahead) is
        marked once awake, as the last step before the call."""
        began = self._monotonic()
        marked = False
        for missed in range(MISSED_SLOT_RETRIES + 1):
            due = self._monotonic() + wait
            if not marked and wait > MARK_AHEAD_S:
                await asyncio.sleep(wait - MARK_AHEAD_S)
                await mark()
                marked = True
                wait = due - self._monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if missed == MISSED_SLOT_RETRIES or self._monotonic() - due <= SLOT_LATE_S:
                break
            SEND_SLOTS_MISSED.add(1, {"provider": account.channel.value})
            # marked, it does not wait in line for a slot: killed meanwhile, it would
            # be in doubt (see the mark's comment)
            wait = await reserve(may_wait=not marked)
        if not marked:
            await mark()
        # on the delivery's span: why a send took long is one trace away
        trace.get_current_span().set_attributes(
            {
                "cauce.send.slot_wait_ms": round((self._monotonic() - began) * 1000, 1),
                "cauce.send.slots_missed": missed,
            }
        )

    async def _reserve_campaign_slot(
        self, account: ChannelAccount, event: CampaignMessageRequested, *, may_wait: bool = True
    ) -> float:
        """A campaign send's slot, reserved at most ``campaign_slot_wait_s`` ahead (less
        on a number too slow for replies to go ahead: the limiter's
        ``campaign_reach_s``), the queue a reply may wait behind. One further off waits
        for it here, as long as its campaign runs, rather than in JetStream: when the
        number's slots are taken (replies above their share, a slow provider) a nak and
        redelivery cost a whole delivery each time, five a send on an 80/s number. Waits
        of more than :data:`SEND_AFTER_IN_WORKER_S` in all (or any wait, not
        ``may_wait``) still go back to JetStream."""
        limiter = {"limiter": send_limiter(account.channel.value)}
        reach_s = self.limiter.campaign_reach_s(account.rate_per_second, self.campaign_slot_wait_s)
        began = self._monotonic()
        try:
            wait = await self._reserve_within(account, reach_s)
        except SendSlotTooFar as exc:
            try:
                if not may_wait:
                    raise _NoSlotInReach(exc.retry_in_s) from exc
                wait = await self._wait_in_line(account, event, reach_s, began, exc.retry_in_s)
            except _NoSlotInReach as out:
                waited = self._monotonic() - began + reach_s
                raise _wait_in_stream(limiter, waited, out.retry_in_s) from exc
        RATE_LIMIT_WAIT_SECONDS.record(self._monotonic() - began + wait, limiter)
        return wait

    async def _wait_in_line(
        self,
        account: ChannelAccount,
        event: CampaignMessageRequested,
        reach_s: float,
        began: float,
        retry_in_s: float,
    ) -> float:
        """Wait for a slot within reach, behind the replica's other campaign sends
        waiting for one of this number: one at a time asks the limiter, at the moment
        the slot after the last one taken comes within reach (each asking on its own,
        they collided: 4.7 reservations a send on an 80/s number). Raises
        :class:`_NoSlotInReach` past :data:`SEND_AFTER_IN_WORKER_S` in all, and
        :class:`TransientError` when the campaign stopped meanwhile."""
        key = (account.channel, account.account_id)
        line = self._slot_lines.get(key) or self._slot_lines.setdefault(key, _SlotLine())
        try_at = self._monotonic() + retry_in_s  # what its refusal said
        try:
            async with asyncio.timeout(SEND_AFTER_IN_WORKER_S - (self._monotonic() - began)):
                await line.lock.acquire()
        except TimeoutError:
            raise _NoSlotInReach(retry_in_s) from None
        try:
            retry_in_s = max(0.0, try_at - self._monotonic(), line.next_try_at - self._monotonic())
            while True:
                if self._monotonic() - began + retry_in_s > SEND_AFTER_IN_WORKER_S:
                    raise _NoSlotInReach(retry_in_s)
                await asyncio.sleep(retry_in_s)
                if self.campaigns is not None and not await self.campaigns.runs(event.campaign_id):
                    # back through the gate at the top of deliver(), which gives the
                    # recipient back to its campaign
                    raise TransientError("its campaign stopped", retry_after=0.0, exact=True)
                try:
                    wait = await self._reserve_within(account, reach_s)
                except SendSlotTooFar as exc:
                    retry_in_s = exc.retry_in_s
                    continue
                # the slot after this one comes within reach then
                interval = self.limiter.interval_s(account.rate_per_second)
                line.next_try_at = self._monotonic() + wait + interval - reach_s
                return wait
        finally:
            line.lock.release()

    async def _reserve_within(self, account: ChannelAccount, reach_s: float) -> float:
        return await self.limiter.reserve(
            account.channel.value, account.account_id, account.rate_per_second, max_wait_s=reach_s
        )

    async def _reserve_slot(self, account: ChannelAccount) -> float:
        """Reserve a one-off send's slot (a conversation reply's, going ahead of a
        campaign's queue where it may); the seconds until it comes."""
        limiter = {"limiter": send_limiter(account.channel.value)}
        try:
            wait = await self.limiter.reserve(
                account.channel.value,
                account.account_id,
                account.rate_per_second,
                reply=True,
            )
        except SendSlotTooFar as exc:
            raise _wait_in_stream(limiter, self.limiter.max_wait_s, exc.retry_in_s) from exc
        RATE_LIMIT_WAIT_SECONDS.record(wait, limiter)
        return wait

    async def _call_provider(
        self, account: ChannelAccount, event: OutboundMessageRequested, delivery: Delivery
    ) -> SendResult | None:
        """The provider's answer, or None when the message failed for good."""
        try:
            return await self.providers[account.channel].send(account, event)
        except ProviderError as exc:
            PROVIDER_ERRORS.add(1, {"provider": account.channel.value, "code": _error_code(exc)})
            await self._handle_provider_error(account, event, delivery, exc)
            return None

    async def _handle_provider_error(
        self,
        account: ChannelAccount,
        event: OutboundMessageRequested,
        delivery: Delivery,
        exc: ProviderError,
    ) -> None:
        failure = Failure(exc.message, code=exc.code, detail=exc.detail, retryable=exc.retryable)
        if isinstance(exc, PermanentProviderError):
            await self._fail(event, failure)
            return
        assert isinstance(exc, RetryableProviderError)
        if isinstance(exc, CredentialsRejected):
            await self.accounts.mark_credentials_failing(account.id, exc.message)
            PROVIDER_CREDENTIALS_FAILING.add(1, {"provider": account.channel.value})
            logger.error(
                "credentials of %s account %s refused (%s); messages kept for retry",
                account.channel.value,
                account.id,
                exc.code,
            )
            raise TransientError(exc.message, retry_after=self.credentials_retry_s) from exc
        if isinstance(exc, PairRateLimited):
            wait = exc.retry_after or PAIR_BACKOFF_S
            await self.pair_backoff.back_off(
                event.channel.value, event.channel_account_id, event.contact_key, wait
            )
            raise TransientError(exc.message, retry_after=wait) from exc
        if isinstance(exc, RateLimited):
            raise TransientError(exc.message, retry_after=exc.retry_after or 1.0) from exc
        if isinstance(exc, AnswerLost) and self._awaits_status(event):
            # the provider may have it: its status webhook will tell (see deliver)
            raise AwaitingSendStatus(exc.message, retry_after=SEND_OUTCOME_POLL_S) from exc
        attempts = await self.messages.record_attempt_failed(event.event_id)
        if attempts >= self.max_provider_attempts or delivery.last_attempt:
            await self._fail(event, failure)
            # failed for good: the runtime terminates it and keeps a dead letter
            raise PermanentError(f"gave up after {attempts} provider attempts: {exc}") from exc
        wait = exc.retry_after if exc.retry_after is not None else PROVIDER_BACKOFF.step(attempts)
        raise TransientError(str(exc), retry_after=wait) from exc

    async def _fail(self, event: OutboundMessageRequested, failure: Failure) -> None:
        now = datetime.now(UTC)
        await self.messages.record_failed(
            event.event_id,
            code=failure.code,
            title=failure.title,
            retryable=failure.retryable,
            at=now,
        )
        await announce_failed(self.bus, Request.of_event(event), failure, now)


def _wait_in_stream(limiter: dict[str, str], waited_s: float, retry_in_s: float) -> TransientError:
    """A send whose slot is out of reach waits for it in JetStream (nak with delay): that
    wait counts too (``waited_s`` here, then ``retry_in_s``), or a saturated account would
    look idle on the dashboard. Exact: by then the slot is within reach, and jitter would
    leave slots empty."""
    RATE_LIMIT_WAIT_SECONDS.record(waited_s + retry_in_s, limiter)
    return TransientError(
        f"no send slot within reach; retry in {retry_in_s:.3f}s", retry_after=retry_in_s, exact=True
    )


async def _until_send_after(event: CampaignMessageRequested) -> None:
    """Wait for the send's ``send_after`` (in the worker when it is near, in JetStream
    when it is not: a clock far ahead of this replica's must not hold a worker)."""
    if event.send_after is None:
        return
    wait = (event.send_after - datetime.now(UTC)).total_seconds()
    if wait > SEND_AFTER_IN_WORKER_S:
        raise TransientError("not before its send_after", retry_after=wait, exact=True)
    if wait > 0:
        await asyncio.sleep(wait)


def _error_code(exc: ProviderError) -> str:
    """The ``code`` label: the provider's code, else ``http_<status>`` (a Meta 429
    without a body is still told apart from a 500), else ``none``."""
    if exc.code:
        return exc.code
    return f"http_{exc.http_status}" if exc.http_status else "none"
