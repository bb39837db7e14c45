"""Generate a summary, insights or a draft for a chat: read its latest messages, mask
them unless the company allows them in clear, ask the company's provider, keep the
result (MongoDB ``assist_results``, one per chat and kind) and record what the call
took. The API (:mod:`.routes`) and the after-resolve consumer (:mod:`.after_resolve`)
both come through here."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from cauce_conversation.assist.company_settings import Assistants
from cauce_conversation.assist.model_assistant import UnreadableAnswer
from cauce_conversation.assist.models import OutsideCallError
from cauce_conversation.assist.prompts import Kind
from cauce_conversation.assist.provider import AssistProvider, ChatLine, Result, Usage
from cauce_conversation.assist.usage import UsageLedger, UsageRecord
from cauce_conversation.inbox.masking import mask_secrets_in_text
from cauce_conversation.model import Conversation, MessageRecord
from cauce_conversation.store import ConversationStore
from cauce_conversation.store.errors import unavailable_as_transient

#: The most messages a provider reads (the latest ones).
MAX_LINES = 200
Trigger = Literal["on_demand", "resolved"]


def chat_line(message: MessageRecord, *, masked: bool) -> ChatLine:
    who: Literal["customer", "agent", "bot", "note"] = (
        "customer"
        if message.direction == "inbound"
        else "note"
        if message.direction == "note"
        else "bot"
        if message.author == "bot"
        else "agent"
    )
    text = message.text or ""
    return ChatLine(who=who, text=mask_secrets_in_text(text) if masked else text, at=message.at)


class AssistResults:
    """The last result of each kind per chat."""

    def __init__(self, store: ConversationStore) -> None:
        self._results = store.database.get_collection("assist_results")

    @staticmethod
    def _key(conversation: Conversation, kind: Kind) -> str:
        return f"{conversation.tenant_id}:{conversation.id}:{kind}"

    async def keep(self, conversation: Conversation, result: Result, call_id: str) -> Result:
        key = self._key(conversation, result.kind)
        document: dict[str, Any] = {
            "_id": key,
            "tenant_id": conversation.tenant_id,
            "chat_id": conversation.id,
            "call_id": call_id,
            **result.model_dump(mode="json"),
        }
        with unavailable_as_transient("keep assist result"):
            await self._results.replace_one({"_id": key}, document, upsert=True)
        return result

    async def last(self, conversation: Conversation, kind: Kind) -> Result | None:
        with unavailable_as_transient("read assist result"):
            document = await self._results.find_one({"_id": self._key(conversation, kind)})
        return None if document is None else Result.model_validate(document)

    async def made_by(self, conversation: Conversation, kind: Kind, call_id: str) -> bool:
        """Whether the kept result came from call ``call_id`` (a redelivered request)."""
        with unavailable_as_transient("read assist result"):
            document = await self._results.find_one(
                {"_id": self._key(conversation, kind), "call_id": call_id}, {"_id": 1}
            )
        return document is not None


class Generator:
    def __init__(
        self, store: ConversationStore, assistants: Assistants, usage: UsageLedger
    ) -> None:
        self.store = store
        self.assistants = assistants
        self.usage = usage
        self.results = AssistResults(store)

    async def generate(
        self,
        conversation: Conversation,
        kind: Kind,
        *,
        trigger: Trigger = "on_demand",
        call_id: str | None = None,
    ) -> Result:
        """Ask the company's provider; raises the provider's :class:`OutsideCallError`
        (recorded in the usage ledger first) when the model fails."""
        call_id = call_id or uuid.uuid4().hex
        provider, settings = await self.assistants.for_company(conversation.tenant_id)
        masked = not settings.allow_unmasked
        messages = await self.store.latest_messages(conversation.id, MAX_LINES)
        lines = [chat_line(m, masked=masked) for m in messages]
        try:
            result = await _ask(provider, kind, lines, conversation.profile_name)
        except OutsideCallError as error:
            usage = error.usage if isinstance(error, UnreadableAnswer) else Usage(cost_usd=None)
            await self._record(conversation, kind, provider, trigger, call_id, usage, error)
            raise
        result = result.model_copy(update={"masked": masked, "trigger": trigger})
        if result.provider != "offline":
            await self._record(conversation, kind, provider, trigger, call_id, result.usage)
        return await self.results.keep(conversation, result, call_id)

    async def _record(
        self,
        conversation: Conversation,
        kind: Kind,
        provider: AssistProvider,
        trigger: Trigger,
        call_id: str,
        usage: Usage,
        error: OutsideCallError | None = None,
    ) -> None:
        record = UsageRecord(
            id=f"{call_id}:{kind}",
            tenant_id=conversation.tenant_id,
            chat_id=conversation.id,
            kind=kind,
            provider=provider.name,
            trigger=trigger,
            ok=error is None,
            error=None if error is None else str(error)[:300],
            usage=usage,
        )
        await self.usage.record(record)


async def _ask(
    provider: AssistProvider, kind: Kind, lines: list[ChatLine], profile_name: str | None
) -> Result:
    match kind:
        case "summary":
            return await provider.summary(lines)
        case "insights":
            return await provider.insights(lines, profile_name)
        case _:
            return await provider.draft(lines, profile_name)
