"""The dispatcher: starts scheduled campaigns when their time comes, releases running
campaigns' recipients to the send path at the sending number's pace, and finishes them.

One replica at a time releases a given campaign (a lease on its row, renewed every
tick; a replica that dies loses it within :data:`LEASE_S`). Each tick it releases what
the number can send in the time since the last one, at most :attr:`Dispatcher.lead_s`
ahead of the sends still in flight: a pause stops the releasing at the next tick, and
the send path's gate stops what was already released (see
:mod:`~cauce_notifier.campaigns.gate`), so a pause holds within a second on every replica.

A release is a :class:`~cauce_contracts.outbound.CampaignMessageRequested` whose event
id is fixed per recipient. Publishing happens after the release is committed; a
recipient whose publish was lost (a crash in between) has no message row after
:data:`LOST_AFTER_S` and is released again: the same request, sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext

from cauce_contracts.outbound import CampaignMessageRequested
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel
from cauce_notifier.accounts_model import ChannelAccount
from cauce_notifier.campaigns.audiences import AudienceUnavailable
from cauce_notifier.campaigns.catalog import TemplateCatalog
from cauce_notifier.campaigns.lifecycle import CampaignStatus, TransitionRefused
from cauce_notifier.campaigns.pacing import FailureBurst, daily_limit
from cauce_notifier.campaigns.progress import CampaignStats, Prices, campaign_stats
from cauce_notifier.campaigns.recipients import RecipientStore, Release
from cauce_notifier.campaigns.starting import CampaignStarter, NothingToSend
from cauce_notifier.campaigns.store import Campaign, CampaignStore, append_event
from cauce_notifier.campaigns.templates import Template
from cauce_notifier.links.shortener import Shortener
from cauce_runtime import BusUnavailable, NewTrace, Publication, Publisher, extract_context

logger = logging.getLogger(__name__)

#: How long a replica keeps a campaign it releases without renewing.
LEASE_S = 3.0
#: A released recipient without a message row after this long was never published.
LOST_AFTER_S = 30.0
#: A running campaign's progress goes to its feed this often (when it changed)...
PROGRESS_EVERY_S = 1.0
#: ...or less often for a big one: a snapshot reads the whole campaign, and no more
#: than this share of the dispatcher's time goes to them (the progress stream repeats
#: the last snapshot every second meanwhile).
PROGRESS_TIME_SHARE = 0.1
#: Seconds before a scheduled campaign whose leads could not be read is tried again.
START_RETRY_S = 30.0
#: Released sends that share a ``send_after`` span this long of the number's rate (16
#: sends at 500/s, 2 at 80/s): their slots are reserved together, one statement, and a
#: reply arriving meanwhile waits behind them. Groups of a fixed 16 spanned 200 ms of an
#: 80/s number's slots: replies waited about 100 ms behind them, and the sends past the
#: furthest a campaign's send reserves ahead (``CAUCE_CAMPAIGN_SLOT_WAIT_S``) went back
#: to JetStream, five redeliveries a send.
SENT_TOGETHER_S = 0.032


def sent_together(rate_per_second: float) -> int:
    """How many released sends share a ``send_after`` on a number of this rate."""
    return max(1, int(rate_per_second * SENT_TOGETHER_S))


class SendingAccounts(Protocol):
    """What the dispatcher needs of the account store."""

    async def find(self, channel: Channel | str, account_id: str) -> ChannelAccount | None: ...


@dataclass
class _Pace:
    """Releases a campaign has earned since its last tick (fractions carried over)."""

    last: float
    credit: float = 0.0
    #: Where the next release starts looking: past the last one, so a release does not
    #: walk the index entries of every recipient released before (dead in the pending
    #: index until vacuum); back to 0 when nothing is left past it (given-back sends).
    from_seq: int = 0


@dataclass
class Dispatcher:
    pool: asyncpg.Pool
    campaigns: CampaignStore
    recipients: RecipientStore
    catalog: TemplateCatalog
    accounts: SendingAccounts
    bus: Publisher
    starter: CampaignStarter
    #: Share of the number's rate campaigns release at (see the setting).
    rate_share: float = 0.95
    #: Seconds of the number's rate released ahead of what was sent.
    lead_s: float = 1.0
    tick_s: float = 0.2
    failure_burst: FailureBurst = field(default_factory=FailureBurst)
    #: The rate card of the progress events' cost estimate (none: no estimate).
    prices: Prices | None = None
    #: Makes short links of the URL variables of campaigns that ask for it.
    links: Shortener | None = None
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    _paces: dict[uuid.UUID, _Pace] = field(default_factory=dict)
    _last_sweep: dict[uuid.UUID, float] = field(default_factory=dict)
    #: Per campaign: when its last snapshot was taken, what it said, how long it took.
    _last_progress: dict[uuid.UUID, tuple[float, CampaignStats, float]] = field(
        default_factory=dict
    )
    #: Scheduled campaigns whose leads could not be read, and when to try again.
    _start_retry_at: dict[uuid.UUID, float] = field(default_factory=dict)

    async def run(self) -> None:
        """Tick until cancelled; a failing tick is logged and the next one runs."""
        while True:
            started = time.monotonic()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("campaign dispatch tick failed")
            await asyncio.sleep(max(0.0, self.tick_s - (time.monotonic() - started)))

    async def tick(self) -> None:
        await self._start_due()
        for campaign in await self.campaigns.in_status(CampaignStatus.RUNNING):
            if await self._lease(campaign):
                await self._advance(campaign)
            else:
                self._paces.pop(campaign.id, None)

    # --- starting and leasing ---------------------------------------------------------

    async def _start_due(self) -> None:
        due = await self.pool.fetch(
            "SELECT id, tenant_id FROM notifier.campaigns"
            " WHERE status = 'SCHEDULED' AND scheduled_at <= now()"
        )
        now = time.monotonic()
        for row in due:
            if self._start_retry_at.get(row["id"], 0.0) <= now:
                await self._start_scheduled(row["tenant_id"], row["id"])

    async def _start_scheduled(self, tenant_id: str, campaign_id: uuid.UUID) -> None:
        try:
            await self.starter.start(tenant_id, campaign_id, by="schedule")
        except TransitionRefused:
            pass  # another replica started it
        except AudienceUnavailable as exc:
            # crm-sync is down: the campaign stays SCHEDULED and is tried again
            self._start_retry_at[campaign_id] = time.monotonic() + START_RETRY_S
            logger.warning("scheduled campaign %s waits for its leads: %s", campaign_id, exc)
        except NothingToSend as exc:
            with contextlib.suppress(TransitionRefused):
                await self.campaigns.change_status(
                    tenant_id, campaign_id, "cancel", by="schedule", reason=exc.reason
                )
        else:
            self._start_retry_at.pop(campaign_id, None)

    async def _lease(self, campaign: Campaign) -> bool:
        taken = await self.pool.fetchval(
            "UPDATE notifier.campaigns SET dispatcher = $2,"
            " dispatcher_until = now() + make_interval(secs => $3::float8)"
            " WHERE id = $1 AND status = 'RUNNING' AND (dispatcher_until IS NULL"
            "   OR dispatcher_until < now() OR dispatcher = $2) RETURNING id",
            campaign.id,
            self.owner,
            LEASE_S,
        )
        return taken is not None

    # --- releasing --------------------------------------------------------------------

    async def _advance(self, campaign: Campaign) -> None:
        account = await self.accounts.find(campaign.channel, campaign.channel_account_id)
        if account is None:
            await self._stop(campaign, "fail", "the sending account no longer exists")
            return
        stored = await self.catalog.of_account(
            account, campaign.template_name, campaign.template_language
        )
        if stored is None or not stored.template.approved:
            # with Meta's reason: a template webhook updates the catalog just before
            # pausing the campaigns, so this may be the pause that sticks
            reason = (
                f"template {campaign.template_name} ({campaign.template_language}) is unknown"
                if stored is None
                else stored.status_text
            )
            await self._stop(campaign, "pause", reason)
            return
        await self._resend_lost(campaign, account, stored.template)
        pace = self._paces.get(campaign.id)
        pending, in_flight = await self.recipients.remaining(
            campaign.id, pace.from_seq if pace is not None else 0
        )
        finished = not pending and in_flight == 0
        if await self._report_progress(campaign, stored.template.category, force=finished):
            return  # paused itself: too many failures
        if finished:
            with contextlib.suppress(TransitionRefused):
                await self.campaigns.change_status(
                    campaign.tenant_id, campaign.id, "complete", by="platform"
                )
            self._paces.pop(campaign.id, None)
            return
        count = self._earned(campaign.id, account.rate_per_second, in_flight)
        if count and pending:
            count = await self._within_messaging_limit(account, count)
        if count and pending:
            pace = self._paces[campaign.id]
            taken = await self.recipients.release_next(
                campaign,
                count,
                marketing=stored.template.marketing,
                business_account_id=account.business_account_id,
                from_seq=pace.from_seq,
            )
            pace.from_seq = 0 if taken.last_seq is None else taken.last_seq + 1
            releases = taken.releases
            per_s = account.rate_per_second * self.rate_share
            await self._publish(campaign, account, stored.template, releases, spread_per_s=per_s)

    async def _within_messaging_limit(self, account: ChannelAccount, count: int) -> int:
        """``count``, or less when the account's messaging limit leaves less (a release
        to a customer whose window is open would not count; leaving it for later is
        the safe side of never going over)."""
        limit = await daily_limit(self.pool, account)
        if limit is None or account.business_account_id is None:
            return count
        return min(count, await self.recipients.reachable_now(account.business_account_id, limit))

    def _earned(self, campaign_id: uuid.UUID, rate: float, in_flight: int) -> int:
        now = time.monotonic()
        pace = self._paces.setdefault(campaign_id, _Pace(last=now - self.tick_s))
        per_s = rate * self.rate_share
        pace.credit = min(pace.credit + per_s * (now - pace.last), per_s * self.lead_s)
        pace.last = now
        room = max(0, int(per_s * self.lead_s) - in_flight)
        count = min(int(pace.credit), room)
        pace.credit -= count
        return count

    async def _report_progress(
        self, campaign: Campaign, category: str, *, force: bool = False
    ) -> bool:
        """Append the campaign's progress to its feed (every second, less often for a
        campaign whose snapshot takes long: :func:`progress_every_s`; when it changed);
        True when a failure burst paused the campaign."""
        now = time.monotonic()
        last = self._last_progress.get(campaign.id)
        if last is not None and now - last[0] < progress_every_s(last[2]) and not force:
            return False
        stats = await campaign_stats(self.pool, campaign.id, prices=self.prices, category=category)
        took = time.monotonic() - now
        if last is None or stats != last[1]:
            async with self.pool.acquire() as connection:
                await append_event(connection, campaign, "progress", stats.as_dict())
        self._last_progress[campaign.id] = (now, stats, took)
        if stats.failed:
            burst = await self.failure_burst.reason(self.pool, campaign)
            if burst is not None:
                await self._stop(campaign, "pause", burst)
                return True
        return False

    async def _resend_lost(
        self, campaign: Campaign, account: ChannelAccount, template: Template
    ) -> None:
        now = time.monotonic()
        if now - self._last_sweep.get(campaign.id, 0.0) < LOST_AFTER_S / 3:
            return
        self._last_sweep[campaign.id] = now
        lost = await self.recipients.unanswered_releases(campaign.id, LOST_AFTER_S)
        if lost:
            logger.warning(
                "campaign %s: releasing %d unanswered sends again", campaign.id, len(lost)
            )
            await self._publish(campaign, account, template, lost)

    async def _publish(
        self,
        campaign: Campaign,
        account: ChannelAccount,
        template: Template,
        releases: Sequence[Release],
        *,
        spread_per_s: float | None = None,
    ) -> None:
        """Publish ``releases``' send requests; with ``spread_per_s``, spread over the
        time they take at that rate: :func:`sent_together` at a time share a
        ``send_after``, so their workers reserve their send slots together (one
        statement, see :class:`~cauce_runtime.postgres.SharedRateLimiter`)."""
        started = _started_span(campaign)
        links = [Link(started)] if started is not None else []
        if campaign.short_links and self.links is not None:
            releases = await self.links.campaign_releases(campaign, releases)
        now = datetime.now(UTC)
        unfit: list[tuple[int, str]] = []
        # A group at a time, each made and published in a loop step of its own: a
        # round's hundred requests made and published in one step held the sends due
        # meanwhile on this replica past their slots (each then takes a later one).
        together = sent_together(account.rate_per_second)
        for start in range(0, len(releases), together):
            group = releases[start : start + together]
            send_after = now + timedelta(seconds=start / spread_per_s) if spread_per_s else None
            publications = []
            for release in group:
                try:
                    publications.append(
                        _publication(campaign, account, template, release, send_after, links)
                    )
                except ValueError as exc:
                    unfit.append((release.seq, _unfit_reason(exc)))
            try:
                await self.bus.publish_batch(publications)
            except Exception as exc:
                # released, unpublished (this group and the rest): the sweep releases
                # them again (LOST_AFTER_S)
                if not isinstance(exc, BusUnavailable):
                    logger.exception(
                        "campaign %s: publishing %d releases failed",
                        campaign.id,
                        len(releases) - start,
                    )
                break
        if unfit:
            await self._pause_for_unfit(campaign, template, unfit)

    async def _pause_for_unfit(
        self, campaign: Campaign, template: Template, unfit: list[tuple[int, str]]
    ) -> None:
        """Recipients whose frozen values make no message of the template (it changed
        since they were loaded, or the campaign lacks its header's link): they go back
        to pending and the campaign pauses with the reason, for its operator to fix the
        template or the recipients and resume (or cancel), instead of the sweep trying
        them again and again."""
        seq, why = unfit[0]
        await self.recipients.put_back(campaign.id, [s for s, _ in unfit])
        await self._stop(
            campaign,
            "pause",
            f"{len(unfit)} recipient(s) make no message of template {template.name}"
            f" ({template.language}), recipient {seq} first: {why}",
        )

    async def _stop(
        self, campaign: Campaign, action: Literal["pause", "fail"], reason: str
    ) -> None:
        with contextlib.suppress(TransitionRefused):
            await self.campaigns.change_status(
                campaign.tenant_id, campaign.id, action, by="platform", reason=reason
            )
            done = "paused" if action == "pause" else "failed"
            logger.warning("campaign %s %s by the platform: %s", campaign.id, done, reason)
        self._paces.pop(campaign.id, None)


def _publication(
    campaign: Campaign,
    account: ChannelAccount,
    template: Template,
    release: Release,
    send_after: datetime | None,
    links: Sequence[Link],
) -> Publication:
    """A release's send request, as the first span of its own trace. Raises ValueError
    when its values do not make a message of ``template``."""
    event = CampaignMessageRequested(
        event_id=release.request_event_id,
        tenant_id=campaign.tenant_id,
        correlation_id=f"campaign-{campaign.id}",
        channel=account.channel,
        contact_key=release.contact_key,
        channel_account_id=account.account_id,
        recipient=release.phone,
        content=template.content(release.variables, header_media_link=campaign.header_media_link),
        campaign_id=str(campaign.id),
        send_after=send_after,
    )
    # One trace per recipient's send, from this publish (linked to the request that
    # started the campaign) to its provider call. A distinct JetStream msg id per
    # release: a recipient released again (after a pause) is not dropped as a duplicate;
    # the event id keeps it one request.
    return Publication(
        event,
        subject_of(event),
        msg_id=f"{event.event_id}:{release.releases}",
        new_trace=NewTrace(
            "campaign send",
            links=links,
            attributes={
                "cauce.campaign_id": str(campaign.id),
                "cauce.campaign.recipient": release.seq,
                "cauce.campaign.release": release.releases,
                "cauce.tenant_id": campaign.tenant_id,
            },
        ),
    )


def _unfit_reason(error: ValueError) -> str:
    """Why a recipient's message could not be made, without its values: the template's
    own checks say what (a count of values, a missing link); a validation error's text
    may quote them (personal data), so only its kind is said."""
    return str(error) if type(error) is ValueError else f"invalid values ({type(error).__name__})"


def progress_every_s(snapshot_s: float) -> float:
    """Seconds between a campaign's progress snapshots, given how long the last took."""
    return max(PROGRESS_EVERY_S, snapshot_s / PROGRESS_TIME_SHARE)


def _started_span(campaign: Campaign) -> SpanContext | None:
    """The span of the request that started (or resumed) the campaign, to link to."""
    if not campaign.trace_context:
        return None
    found = trace.get_current_span(extract_context({"traceparent": campaign.trace_context}))
    context = found.get_span_context()
    return context if context.is_valid else None
