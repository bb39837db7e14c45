"""What an assist provider does, and what it answers. A provider sees the chat's
messages with phone numbers and tokens masked (unless the company allows them in
clear); it returns results that name who made them (the offline default, or a model)
and what they cost, so the console can tell them apart."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from cauce_contracts.envelope import utc_now

Sentiment = Literal["positive", "neutral", "negative"]
Risk = Literal["low", "medium", "high"]


class ChatLine(BaseModel):
    """One message as a provider sees it."""

    who: Literal["customer", "agent", "bot", "note"]
    text: str
    at: datetime


class Usage(BaseModel):
    """What one generation took: the model's own token counts, and their price when
    the platform configured one for the model (None: unknown, not free)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0


class Entities(BaseModel):
    amounts: list[str] = Field(default_factory=list)
    dates: list[str] = Field(default_factory=list)
    plates: list[str] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)


class Insights(BaseModel):
    sentiment: Sentiment
    intent: str
    entities: Entities
    churn_risk: Risk
    next_action: str


class Result(BaseModel):
    """One generated result, as stored and shown."""

    kind: Literal["summary", "insights", "draft"]
    #: ``offline`` (computed without a model) or the model's name.
    provider: str
    summary: str | None = None
    insights: Insights | None = None
    draft: str | None = None
    usage: Usage = Field(default_factory=Usage)
    #: False when the company let the provider read phone numbers and tokens in clear.
    masked: bool = True
    #: What asked for it: ``on_demand`` (an agent) or ``resolved`` (the chat resolved).
    trigger: Literal["on_demand", "resolved"] = "on_demand"
    generated_at: datetime = Field(default_factory=utc_now)


class AssistProvider(Protocol):
    name: str

    async def summary(self, lines: list[ChatLine]) -> Result: ...

    async def insights(self, lines: list[ChatLine], profile_name: str | None) -> Result: ...

    async def draft(self, lines: list[ChatLine], profile_name: str | None) -> Result: ...
