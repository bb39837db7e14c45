"""In-memory stand-ins for what :class:`~cauce_notifier.delivery.Deliverer` depends on.

Each keeps the promises its PostgreSQL counterpart documents (see the protocols in
:mod:`cauce_notifier.delivery`): :class:`FakeMessages` admits a request once, claims
it only when it has no provider id, has not failed and no live claim holds it, keeps
the first provider id, fails only a message still ``requested``; the contact windows
and pair back-offs it reads with a request are those :class:`FakeWindows` and
:class:`FakePairBackoffs` recorded. Time is a :class:`Clock` the test moves.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from itertools import count

from cauce_contracts.outbound import OutboundMessageRequested
from cauce_contracts.subjects import Channel
from cauce_notifier.accounts_model import ChannelAccount
from cauce_notifier.providers import SendResult
from cauce_notifier.providers.errors import ProviderError
from cauce_notifier.rate_limit import SendSlotTooFar
from cauce_notifier.service_window import WINDOW
from cauce_notifier.store.messages import Admission, Claim, MessageRecord, RecordedSend


class Clock:
    """Seconds on the database's clock (claims and back-offs), moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeAccounts:
    def __init__(self, *accounts: ChannelAccount) -> None:
        self.accounts = {(a.channel, a.account_id): a for a in accounts}
        #: Why each account was marked failing, by account id.
        self.failing: dict[uuid.UUID, str] = {}

    async def find(self, channel: Channel, account_id: str) -> ChannelAccount | None:
        return self.accounts.get((channel, account_id))

    async def mark_credentials_failing(self, account_id: uuid.UUID, error: str) -> bool:
        for key, account in self.accounts.items():
            if account.id == account_id:
                self.accounts[key] = dataclasses.replace(account, credentials_status="failing")
                self.failing[account_id] = error
                return True
        return False


WindowKey = tuple[str, str, str, str]


class FakeWindows:
    """The contacts' last inbound times (``ServiceWindows``) and the 24-hour rule."""

    def __init__(self) -> None:
        self.last_inbound: dict[WindowKey, datetime] = {}

    def record_inbound(
        self, tenant_id: str, channel: str, account_id: str, contact_key: str, at: datetime
    ) -> None:
        key = (tenant_id, channel, account_id, contact_key)
        self.last_inbound[key] = max(at, self.last_inbound.get(key, at))

    def is_open(self, last_inbound_at: datetime | None, now: datetime) -> bool:
        return last_inbound_at is not None and now - last_inbound_at < WINDOW


class FakePairBackoffs:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.until: dict[tuple[str, str, str], float] = {}

    async def back_off(self, channel: str, account_id: str, contact_key: str, for_s: float) -> None:
        key = (channel, account_id, contact_key)
        self.until[key] = max(self.until.get(key, 0.0), self.clock() + for_s)

    def remaining_s(self, channel: str, account_id: str, contact_key: str) -> float:
        return max(0.0, self.until.get((channel, account_id, contact_key), 0.0) - self.clock())


class FakeSendSlots:
    """Every account's next slot is ``busy_for_s`` away (0: free now)."""

    def __init__(self, max_wait_s: float = 2.0) -> None:
        self.max_wait_s = max_wait_s
        self.busy_for_s = 0.0
        self.reserved: list[tuple[str, str, float]] = []
        #: Whether each reservation was a conversation reply's, in order.
        self.replies: list[bool] = []

    async def reserve(
        self,
        channel: str,
        account_id: str,
        rate_per_s: float,
        *,
        max_wait_s: float | None = None,
        reply: bool = False,
    ) -> float:
        horizon = self.max_wait_s if max_wait_s is None else max_wait_s
        if self.busy_for_s > horizon:
            raise SendSlotTooFar(max(0.05, self.busy_for_s - horizon))
        self.reserved.append((channel, account_id, rate_per_s))
        self.replies.append(reply)
        return self.busy_for_s

    def campaign_reach_s(self, rate_per_s: float, reach_s: float) -> float:
        return reach_s

    def interval_s(self, rate_per_s: float) -> float:
        return 1.0 / rate_per_s


class FakeMessages:
    def __init__(self, clock: Clock, windows: FakeWindows, pair_backoffs: FakePairBackoffs) -> None:
        self.clock = clock
        self.windows = windows
        self.pair_backoffs = pair_backoffs
        self.rows: dict[uuid.UUID, MessageRecord] = {}
        #: Until when (on ``clock``) each message is claimed; absent: free.
        self.claimed_until: dict[uuid.UUID, float] = {}
        #: Since when (on ``clock``) each message is maybe sent; absent: no call in doubt.
        self.maybe_sent_since: dict[uuid.UUID, float] = {}

    def claimed(self, request_event_id: uuid.UUID) -> bool:
        """Whether a live claim holds the message now."""
        until = self.claimed_until.get(request_event_id)
        return until is not None and until >= self.clock()

    async def admit(self, event: OutboundMessageRequested, claim_for_s: float) -> Admission:
        key = event.event_id
        row = self.rows.get(key)
        created = row is None
        if row is None:
            row = self.rows[key] = _requested(event)
            self.claimed_until[key] = self.clock() + claim_for_s
            claim = Claim(claimed=True, until=_instant(self.claimed_until[key]))
        elif row.provider_message_id is not None or row.status == "failed":
            claim = Claim(claimed=False, settled=True)
        elif self.claimed(key):
            claim = Claim(
                claimed=False, retry_in_s=max(0.05, self.claimed_until[key] - self.clock())
            )
        else:
            self.claimed_until[key] = self.clock() + claim_for_s
            claim = Claim(claimed=True, until=_instant(self.claimed_until[key]))
        window = (event.tenant_id, event.channel.value, event.channel_account_id, event.contact_key)
        return Admission(
            message=row,
            created=created,
            claim=claim,
            last_inbound_at=self.windows.last_inbound.get(window),
            pair_backoff_s=self.pair_backoffs.remaining_s(
                event.channel.value, event.channel_account_id, event.contact_key
            ),
            maybe_sent_s=(
                None if (since := self.maybe_sent_since.get(key)) is None else self.clock() - since
            ),
        )

    async def release(self, request_event_id: uuid.UUID, *, maybe_sent: bool = False) -> None:
        self.claimed_until.pop(request_event_id, None)
        if not maybe_sent:
            self.maybe_sent_since.pop(request_event_id, None)

    async def mark_maybe_sent(self, request_event_id: uuid.UUID, claim: Claim) -> bool:
        until = self.claimed_until.get(request_event_id)
        if until is None or claim.until != _instant(until) or not self.claimed(request_event_id):
            return False  # lapsed, taken over or released: not this worker's to send
        self.maybe_sent_since[request_event_id] = self.clock()
        return True

    async def set_degradation(self, request_event_id: uuid.UUID, degradation: str) -> None:
        row = self.rows[request_event_id]
        self.rows[request_event_id] = dataclasses.replace(row, degradation=degradation)

    async def record_sent(
        self,
        request_event_id: uuid.UUID,
        provider_message_id: str,
        sent_at: datetime,
        degradation: str | None = None,
    ) -> RecordedSend | None:
        row = self.rows.get(request_event_id)
        if row is None or row.provider_message_id is not None:
            # the first provider id stays (and, as in SQL, the claim too)
            return None if row is None else RecordedSend.of(vars(row))
        row = self.rows[request_event_id] = dataclasses.replace(
            row,
            provider_message_id=provider_message_id,
            status="sent" if row.status in ("requested", "failed") else row.status,
            sent_at=row.sent_at or sent_at,
            degradation=degradation or row.degradation,
            error_code=None,
            error_title=None,
            error_detail=None,
            retryable=None,
            failed_at=None,
        )
        self.claimed_until.pop(request_event_id, None)
        self.maybe_sent_since.pop(request_event_id, None)
        return RecordedSend.of(vars(row))

    async def record_failed(
        self,
        request_event_id: uuid.UUID,
        code: str | None,
        title: str,
        retryable: bool,
        at: datetime,
        detail: str | None = None,
    ) -> MessageRecord | None:
        row = self.rows.get(request_event_id)
        if row is None or row.status != "requested":
            return row
        row = self.rows[request_event_id] = dataclasses.replace(
            row,
            status="failed",
            error_code=code,
            error_title=title,
            retryable=retryable,
            failed_at=at,
            error_detail=detail,
        )
        self.maybe_sent_since.pop(request_event_id, None)
        return row

    async def record_attempt_failed(self, request_event_id: uuid.UUID) -> int:
        row = self.rows.get(request_event_id)
        if row is None:
            return 0
        row = self.rows[request_event_id] = dataclasses.replace(
            row, provider_attempts=row.provider_attempts + 1
        )
        self.maybe_sent_since.pop(request_event_id, None)
        return row.provider_attempts


def _instant(seconds: float) -> datetime:
    """A time on ``Clock`` as the claim's stored expiry (its fencing token)."""
    return datetime.fromtimestamp(seconds, UTC)


def _requested(event: OutboundMessageRequested) -> MessageRecord:
    content = event.content.model_dump(mode="json")
    return MessageRecord(
        request_event_id=event.event_id,
        tenant_id=event.tenant_id,
        channel=event.channel.value,
        channel_account_id=event.channel_account_id,
        contact_key=event.contact_key,
        recipient=event.recipient,
        content_type=content["type"],
        content=content,
        reply_to_message_id=event.reply_to_message_id,
        degradation=None,
        status="requested",
        provider_message_id=None,
        error_code=None,
        error_title=None,
        error_detail=None,
        retryable=None,
        provider_attempts=0,
        campaign_id=event.campaign_id,
        correlation_id=event.correlation_id,
        requested_at=event.occurred_at,
        sent_at=None,
        delivered_at=None,
        read_at=None,
        failed_at=None,
        updated_at=datetime.now(UTC),
    )


class ScriptedProvider:
    """A provider client answering each call with the next scripted outcome (a
    :class:`ProviderError` is raised), then accepting everything. ``hold`` keeps calls
    waiting until it is set."""

    def __init__(
        self, *outcomes: SendResult | ProviderError, echoes_request_id: bool = True
    ) -> None:
        #: As WhatsApp Cloud's (True) or Chattigo's (False) client.
        self.echoes_request_id = echoes_request_id
        self.outcomes = list(outcomes)
        self.calls: list[uuid.UUID] = []
        #: The requests as the provider got them (content included).
        self.sent: list[OutboundMessageRequested] = []
        self.hold: asyncio.Event | None = None
        self._ids = count(1)

    async def send(self, account: ChannelAccount, message: OutboundMessageRequested) -> SendResult:
        self.calls.append(message.event_id)
        self.sent.append(message)
        if self.hold is not None:
            await self.hold.wait()
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if isinstance(outcome, ProviderError):
            raise outcome
        return outcome or SendResult(f"wamid.{next(self._ids)}", wire_payload={})
