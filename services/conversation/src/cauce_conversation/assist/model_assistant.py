"""An assist provider backed by a language model: the prompt of each kind
(:mod:`.prompts`), the model's JSON answer read into a result, and what it cost."""

from __future__ import annotations

from cauce_conversation.assist.endpoints import ModelPrice
from cauce_conversation.assist.models import ChatModel, ModelRefused, complete
from cauce_conversation.assist.prompts import (
    INSTRUCTIONS,
    SCHEMAS,
    Kind,
    MalformedAnswer,
    read_answer,
    transcript,
)
from cauce_conversation.assist.provider import ChatLine, Insights, Result, Usage


class UnreadableAnswer(ModelRefused):
    """The model answered, and was paid for, but not with the JSON asked for."""

    def __init__(self, message: str, usage: Usage) -> None:
        super().__init__(message, code="malformed_answer")
        self.usage = usage


class ModelAssistant:
    def __init__(self, model: ChatModel, price: ModelPrice | None, *, attempts: int = 3) -> None:
        self.model = model
        self.name = model.model
        self.price = price
        self.attempts = attempts

    async def summary(self, lines: list[ChatLine]) -> Result:
        return await self._ask("summary", lines, None)

    async def insights(self, lines: list[ChatLine], profile_name: str | None) -> Result:
        return await self._ask("insights", lines, profile_name)

    async def draft(self, lines: list[ChatLine], profile_name: str | None) -> Result:
        return await self._ask("draft", lines, profile_name)

    async def _ask(self, kind: Kind, lines: list[ChatLine], profile_name: str | None) -> Result:
        chat = transcript(lines, profile_name)
        done = await complete(self.model, INSTRUCTIONS[kind], chat, SCHEMAS[kind], self.attempts)
        cost = self.price.cost(done.input_tokens, done.output_tokens) if self.price else None
        usage = Usage(
            input_tokens=done.input_tokens, output_tokens=done.output_tokens, cost_usd=cost
        )
        try:
            answer = read_answer(kind, done.text)
        except MalformedAnswer as error:
            raise UnreadableAnswer(str(error), usage) from error
        if isinstance(answer, Insights):
            return Result(kind=kind, provider=self.name, insights=answer, usage=usage)
        field = "summary" if kind == "summary" else "draft"
        return Result(kind=kind, provider=self.name, usage=usage, **{field: answer})
