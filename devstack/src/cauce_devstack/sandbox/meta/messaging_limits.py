"""Meta's messaging limit on the Graph fake: how many unique customers a business
portfolio may reach with templates outside their customer-service window in a moving
24 hours (shared by every number of the portfolio).

Meta documents no error for going over, so the fake refuses nothing: it keeps sending,
counts, and records every send that reached a customer beyond the limit, so a test can
assert that a campaign never went over. The sandbox route that changes a limit posts
the webhooks Meta sends for it (``business_capability_update`` per WABA,
``phone_number_quality_update`` per number).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.meta import webhooks as mw
from cauce_devstack.sandbox.meta.accounts import (
    business_ids,
    display_number,
    phone_numbers_of,
    wabas_of_business,
)
from cauce_devstack.sandbox.meta.gateway_webhooks import PostedWebhook, post_account_webhook
from cauce_devstack.sandbox.meta.templates import MetaName

MOVING_WINDOW_S = 24 * 3600
#: Meta's messaging-limit tiers (unique customers per moving 24 h) and their names;
#: ``None`` is unlimited. 250 to unlimited are a portfolio's; 50 and 1K older per-number
#: tiers, kept because Meta still names them.
TIERS: dict[int | None, str] = {
    50: "TIER_50",
    250: "TIER_250",
    1000: "TIER_1K",
    2000: "TIER_2K",
    10000: "TIER_10K",
    100000: "TIER_100K",
    None: "TIER_UNLIMITED",
}
LimitWebhook = Literal["business_capability_update", "phone_number_quality_update"]
LIMIT_WEBHOOKS: tuple[LimitWebhook, ...] = (
    "business_capability_update",
    "phone_number_quality_update",
)


def check_tier(limit: int | None) -> int | None:
    if limit not in TIERS:
        shown = ", ".join("unlimited (null)" if t is None else str(t) for t in TIERS)
        raise ValueError(f"limit must be one of Meta's tiers: {shown}")
    return limit


class OverLimitSend(BaseModel):
    """A template that reached a new customer when the portfolio had already reached
    its limit of unique customers in the last 24 h."""

    at: float
    """Wall-clock epoch seconds."""
    phone_number_id: str
    wa_id: str
    template: str
    unique_customers: int
    """Unique customers reached in the moving 24 h, this one included."""
    limit: int


class PortfolioMetrics(BaseModel):
    limit: int | None
    """``None``: unlimited."""
    tier: str
    unique_customers_24h: int
    max_unique_customers_24h: int
    templates_outside_window: int
    """Accepted template sends to customers outside their service window."""
    over_limit: int
    over_limit_sends: list[OverLimitSend]


@dataclass
class _Portfolio:
    limit: int | None
    reached: OrderedDict[str, float] = field(default_factory=OrderedDict)
    """wa_id -> when a template last reached them outside their window, oldest first
    (a customer reached again moves to the end), so pruning stops at the first one still
    inside the window: a send costs the same at the 100,000th customer as at the first."""
    sends: int = 0
    max_unique: int = 0
    over: list[OverLimitSend] = field(default_factory=list)

    def prune(self, now: float) -> None:
        cutoff = now - MOVING_WINDOW_S
        while self.reached and next(iter(self.reached.values())) <= cutoff:
            self.reached.popitem(last=False)


class MessagingLimits:
    """Unique customers reached per business portfolio in a moving 24 h, against each
    portfolio's limit."""

    def __init__(
        self, default_limit: int | None, limits: Mapping[str, int | None] | None = None
    ) -> None:
        self.default_limit = default_limit
        self._limits = dict(limits or {})
        self._portfolios: dict[str, _Portfolio] = {}

    def limit_for(self, business_id: str) -> int | None:
        return self._limits.get(business_id, self.default_limit)

    def set_limit(self, business_id: str, limit: int | None) -> int | None:
        """Change a portfolio's limit; the previous one."""
        previous = self.limit_for(business_id)
        self._limits[business_id] = limit
        if business_id in self._portfolios:
            self._portfolios[business_id].limit = limit
        return previous

    def _portfolio(self, business_id: str) -> _Portfolio:
        portfolio = self._portfolios.get(business_id)
        if portfolio is None:
            portfolio = self._portfolios[business_id] = _Portfolio(self.limit_for(business_id))
        return portfolio

    def record(
        self,
        business_id: str,
        phone_number_id: str,
        wa_id: str,
        template: str,
        now: float | None = None,
    ) -> OverLimitSend | None:
        """A template reached ``wa_id`` outside their service window; the over-limit
        record when it was one customer too many."""
        now = time.time() if now is None else now
        portfolio = self._portfolio(business_id)
        portfolio.prune(now)
        new_customer = wa_id not in portfolio.reached
        portfolio.reached[wa_id] = now
        portfolio.reached.move_to_end(wa_id)
        portfolio.sends += 1
        unique = len(portfolio.reached)
        portfolio.max_unique = max(portfolio.max_unique, unique)
        if new_customer and portfolio.limit is not None and unique > portfolio.limit:
            over = OverLimitSend(
                at=now,
                phone_number_id=phone_number_id,
                wa_id=wa_id,
                template=template,
                unique_customers=unique,
                limit=portfolio.limit,
            )
            portfolio.over.append(over)
            return over
        return None

    def metrics(self, business_ids: list[str], now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        shown: dict[str, PortfolioMetrics] = {}
        for business_id in dict.fromkeys([*business_ids, *self._portfolios]):
            portfolio = self._portfolios.get(business_id) or _Portfolio(self.limit_for(business_id))
            portfolio.prune(now)
            shown[business_id] = PortfolioMetrics(
                limit=portfolio.limit,
                tier=TIERS.get(portfolio.limit, f"{portfolio.limit}"),
                unique_customers_24h=len(portfolio.reached),
                max_unique_customers_24h=portfolio.max_unique,
                templates_outside_window=portfolio.sends,
                over_limit=len(portfolio.over),
                over_limit_sends=list(portfolio.over),
            )
        return shown

    def reset(self) -> int:
        """Forget what was reached (limits stay)."""
        count = len(self._portfolios)
        self._portfolios.clear()
        return count


class LimitChange(BaseModel):
    """A portfolio's new messaging limit, as Meta's scaling would set it."""

    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(
        description="Unique customers per moving 24 h: 250, 2000, "
        "10000, 100000 (or 50, 1000), null for unlimited."
    )
    business_id: str | None = None
    """Defaults to ``CAUCE_SANDBOX_BUSINESS_ID``."""
    event: MetaName | None = None
    """``phone_number_quality_update``'s ``event``: by default ``UPGRADE`` (or
    ``DOWNGRADE`` when the limit falls); e.g. ``FLAGGED``, ``UNFLAGGED``, ``ONBOARDING``."""
    webhooks: list[LimitWebhook] = Field(default_factory=lambda: list(LIMIT_WEBHOOKS))
    notify: bool = True
    """Off: change the limit and build the webhooks without posting them."""

    @field_validator("limit")
    @classmethod
    def _tier(cls, limit: int | None) -> int | None:
        return check_tier(limit)

    @field_validator("event", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class LimitChangeResult(BaseModel):
    business_id: str
    previous_limit: int | None
    limit: int | None
    webhooks: list[PostedWebhook]


class LimitsView(BaseModel):
    businesses: dict[str, PortfolioMetrics]
    """Keyed by business portfolio id."""


router = APIRouter(prefix="/sandbox/meta", tags=["sandbox"])


@router.get(
    "/messaging-limit",
    response_model=LimitsView,
    summary="Read each business portfolio's messaging limit and what it reached",
)
async def read_messaging_limits(sandbox: SandboxDep) -> LimitsView:
    """Per business portfolio: its limit (``CAUCE_SANDBOX_MESSAGING_LIMIT``, null is
    unlimited) and tier name, the unique customers reached with templates outside their
    customer-service window in the moving 24 h (now and at most), how many such sends
    were accepted, and every send that reached a customer beyond the limit
    (``over_limit_sends``: Meta documents no error for it, so nothing is refused; a
    campaign that paces itself right keeps ``over_limit`` at 0)."""
    metrics = sandbox.messaging_limits.metrics(business_ids(sandbox.settings))
    return LimitsView(businesses=metrics)


@router.delete("/messaging-limit", summary="Forget the customers reached (limits stay)")
async def reset_messaging_limits(sandbox: SandboxDep) -> dict[str, int]:
    """Forget the customers each portfolio reached and its over-limit sends (a fresh
    moving 24 h); the limits stay as set. Answers how many portfolios were reset."""
    return {"deleted": sandbox.messaging_limits.reset()}


@router.post(
    "/messaging-limit",
    response_model=LimitChangeResult,
    summary="Set a portfolio's messaging limit and post Meta's webhooks for it",
)
async def change_messaging_limit(change: LimitChange, sandbox: SandboxDep) -> LimitChangeResult:
    """Set a business portfolio's messaging limit, as Meta's scaling does, and post to
    the gateway, signed like every Meta webhook: ``business_capability_update``
    (``max_daily_conversations_per_business``, -1 for unlimited) for each WABA of the
    portfolio, and ``phone_number_quality_update`` (``event``, ``old_limit``,
    ``current_limit`` and ``max_daily_conversations_per_business`` as Meta's tier names,
    e.g. ``TIER_2K``) for each of their numbers. 404: an unknown portfolio."""
    settings = sandbox.settings
    business_id = change.business_id or settings.business_id
    if business_id not in business_ids(settings):
        raise HTTPException(404, f"no business portfolio {business_id}")
    previous = sandbox.messaging_limits.set_limit(business_id, change.limit)
    rank = {limit: index for index, limit in enumerate(TIERS)}
    event = change.event or ("DOWNGRADE" if rank[change.limit] < rank[previous] else "UPGRADE")
    payloads: list[tuple[str, dict[str, Any]]] = []
    for waba_id in wabas_of_business(settings, business_id):
        if "business_capability_update" in change.webhooks:
            value = mw.business_capability_value(-1 if change.limit is None else change.limit)
            field_name = "business_capability_update"
            payloads.append((field_name, mw.account_webhook(field_name, value, waba_id)))
        if "phone_number_quality_update" in change.webhooks:
            field_name = "phone_number_quality_update"
            for number in phone_numbers_of(settings, waba_id):
                value = mw.phone_number_quality_value(
                    display_number(settings, number),
                    event,
                    TIERS[change.limit],
                    old_limit=TIERS[previous],
                    max_daily_conversations_per_business=TIERS[change.limit],
                )
                payloads.append((field_name, mw.account_webhook(field_name, value, waba_id)))
    http = sandbox.gateway_client.http
    posted = [
        await post_account_webhook(http, settings, field_name, payload, notify=change.notify)
        for field_name, payload in payloads
    ]
    return LimitChangeResult(
        business_id=business_id, previous_limit=previous, limit=change.limit, webhooks=posted
    )
