"""What each company's AI assist calls took and cost: one record per call to a model
(failed ones too: a refused or unreadable answer may still have been billed), in
MongoDB ``assist_usage``. The offline default is not recorded: it calls nobody.

A record's id is given by the caller, so a generation repeated after a redelivery (the
after-resolve consumer) is recorded once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from cauce_contracts.envelope import utc_now
from cauce_conversation.assist.provider import Usage
from cauce_conversation.store.errors import unavailable_as_transient

#: The most records a usage summary reads (a month of a busy company's assist calls).
MAX_SUMMARISED = 20_000


class UsageRecord(BaseModel):
    id: str
    tenant_id: str
    chat_id: str
    kind: Literal["summary", "insights", "draft"]
    provider: str
    trigger: Literal["on_demand", "resolved"]
    ok: bool
    #: Why it failed (the error's code and our words), None when it did not.
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    at: datetime = Field(default_factory=utc_now)


class ProviderTotals(BaseModel):
    provider: str
    calls: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    #: The sum of the calls whose price is known.
    cost_usd: float = 0.0
    #: Calls of a model the platform gave no price for.
    unpriced_calls: int = 0


class UsageSummary(BaseModel):
    since: datetime
    providers: list[ProviderTotals]
    recent: list[UsageRecord]


class UsageLedger:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._records = database.get_collection("assist_usage")

    async def ensure_indexes(self) -> None:
        with unavailable_as_transient("ensure assist usage indexes"):
            await self._records.create_indexes(
                [IndexModel([("tenant_id", ASCENDING), ("at", DESCENDING)], name="tenant_at")]
            )

    async def record(self, entry: UsageRecord) -> None:
        document = {"_id": entry.id, **entry.model_dump(exclude={"id"})}
        with unavailable_as_transient("record assist usage"):
            await self._records.replace_one({"_id": entry.id}, document, upsert=True)

    async def summary(self, tenant_id: str, days: int, recent: int = 20) -> UsageSummary:
        since = utc_now() - timedelta(days=days)
        query = {"tenant_id": tenant_id, "at": {"$gte": since}}
        with unavailable_as_transient("read assist usage"):
            cursor = self._records.find(query).sort("at", DESCENDING).limit(MAX_SUMMARISED)
            records = [
                UsageRecord.model_validate({**doc, "id": doc["_id"]}) async for doc in cursor
            ]
        totals: dict[str, ProviderTotals] = defaultdict(lambda: ProviderTotals(provider=""))
        for record in records:
            total = totals[record.provider]
            total.provider = record.provider
            total.calls += 1
            total.failed += 0 if record.ok else 1
            total.input_tokens += record.usage.input_tokens
            total.output_tokens += record.usage.output_tokens
            if record.usage.cost_usd is None:
                total.unpriced_calls += 1
            else:
                total.cost_usd = round(total.cost_usd + record.usage.cost_usd, 8)
        return UsageSummary(
            since=since,
            providers=sorted(totals.values(), key=lambda t: t.provider),
            recent=records[:recent],
        )
