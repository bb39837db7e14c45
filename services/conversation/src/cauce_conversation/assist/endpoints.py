"""The model APIs the platform lets companies use for AI assist, and their prices
(``CAUCE_AI_ENDPOINTS``, ``CAUCE_AI_PRICES``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: What a model name may hold (it goes into Gemini's URL path, and into logs).
MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$"


class AiEndpoint(BaseModel):
    """A model API the platform allows (``CAUCE_AI_ENDPOINTS`` maps names to these)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["gemini", "openai"]
    base_url: str = Field(pattern=r"^https?://\S+$")
    #: Models the console offers for it (any model name is accepted).
    models: tuple[str, ...] = ()
    #: False for a local model server that takes no key.
    key_required: bool = True


DEFAULT_ENDPOINTS: dict[str, AiEndpoint] = {
    "gemini": AiEndpoint(
        kind="gemini",
        base_url="https://generativelanguage.googleapis.com/v1beta",
        models=("gemini-2.5-flash", "gemini-2.5-pro"),
    ),
    "openai": AiEndpoint(
        kind="openai", base_url="https://api.openai.com/v1", models=("gpt-4o-mini", "gpt-4o")
    ),
}


class ModelPrice(BaseModel):
    """US dollars per million tokens, as the model's vendor lists them."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        total = input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok
        return round(total / 1_000_000, 8)
