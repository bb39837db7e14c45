"""``/api/chats/ai``: the seed's AI paths over the assist provider.

- ``POST /api/chats/ai/insights`` (``chat_id``) generates, ``GET /api/chats/ai/insights
  ?chat_id=`` reads the last ones;
- ``POST /api/chats/ai/summaries/generate`` and ``GET /api/chats/ai/summaries/{chat_id}``;
- ``POST /api/chats/ai/assist-draft``: a draft reply for the agent (never sent by
  itself).

The chat is loaded through the caller's scope (another company's chat, or one outside
an agent's scope, is a 404), its messages reach the provider with phone numbers
masked, and each result is kept (MongoDB ``assist_results``, one per chat and kind)
with who made it and what it cost.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, StringConstraints

from cauce_conversation.assist.offline import OfflineAssistant
from cauce_conversation.assist.provider import AssistProvider, ChatLine, Result
from cauce_conversation.bootstrap import ConversationDep, ConversationService
from cauce_conversation.inbox.masking import mask_phones_in_text
from cauce_conversation.inbox.scope import ChatScope, Reader, Replier
from cauce_conversation.inbox.unavailable import UNAVAILABLE_RESPONSE, unavailable_as_503
from cauce_conversation.inbox.writes import load
from cauce_conversation.model import Conversation, MessageRecord
from cauce_conversation.store.errors import unavailable_as_transient

ChatId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Kind = Literal["summary", "insights", "draft"]
#: The most messages a provider reads (the latest ones).
MAX_LINES = 200


class ChatRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat_id: ChatId


def provider_of(service: ConversationService) -> AssistProvider:
    """The company's provider (only the offline default exists so far)."""
    return OfflineAssistant()


def _line(message: MessageRecord) -> ChatLine:
    who: Literal["customer", "agent", "bot", "note"] = (
        "customer"
        if message.direction == "inbound"
        else "note"
        if message.direction == "note"
        else "bot"
        if message.author == "bot"
        else "agent"
    )
    return ChatLine(who=who, text=mask_phones_in_text(message.text or ""), at=message.at)


async def _lines(service: ConversationService, chat_id: str) -> list[ChatLine]:
    return [_line(m) for m in await service.store.latest_messages(chat_id, MAX_LINES)]


class AssistResults:
    def __init__(self, service: ConversationService) -> None:
        self._results = service.store.database.get_collection("assist_results")

    async def keep(self, conversation: Conversation, result: Result) -> Result:
        key = f"{conversation.tenant_id}:{conversation.id}:{result.kind}"
        document = {
            "_id": key,
            "tenant_id": conversation.tenant_id,
            "chat_id": conversation.id,
            **result.model_dump(mode="json"),
        }
        with unavailable_as_transient("keep assist result"):
            await self._results.replace_one({"_id": key}, document, upsert=True)
        return result

    async def last(self, conversation: Conversation, kind: Kind) -> Result | None:
        key = f"{conversation.tenant_id}:{conversation.id}:{kind}"
        with unavailable_as_transient("read assist result"):
            document = await self._results.find_one({"_id": key})
        return None if document is None else Result.model_validate(document)


router = APIRouter(
    prefix="/api/chats/ai",
    tags=["ai"],
    dependencies=[Depends(unavailable_as_503)],
    responses=UNAVAILABLE_RESPONSE,
)


async def _generate(
    service: ConversationService, scope: ChatScope, chat_id: str, kind: Kind
) -> Result:
    conversation = await load(service.store, chat_id, scope)
    lines = await _lines(service, conversation.id)
    provider = provider_of(service)
    match kind:
        case "summary":
            result = await provider.summary(lines)
        case "insights":
            result = await provider.insights(lines, conversation.profile_name)
        case _:
            result = await provider.draft(lines, conversation.profile_name)
    return await AssistResults(service).keep(conversation, result)


async def _last(service: ConversationService, scope: ChatScope, chat_id: str, kind: Kind) -> Result:
    conversation = await load(service.store, chat_id, scope)
    found = await AssistResults(service).last(conversation, kind)
    if found is None:
        raise HTTPException(404, f"no {kind} generated for this chat yet")
    return found


@router.post("/insights", response_model=Result)
async def generate_insights(service: ConversationDep, scope: Reader, body: ChatRef) -> Result:
    return await _generate(service, scope, body.chat_id, "insights")


@router.get("/insights", response_model=Result)
async def read_insights(
    service: ConversationDep, scope: Reader, chat_id: Annotated[ChatId, Query()]
) -> Result:
    return await _last(service, scope, chat_id, "insights")


@router.post("/summaries/generate", response_model=Result)
async def generate_summary(service: ConversationDep, scope: Reader, body: ChatRef) -> Result:
    return await _generate(service, scope, body.chat_id, "summary")


@router.get("/summaries/{chat_id}", response_model=Result)
async def read_summary(service: ConversationDep, scope: Reader, chat_id: ChatId) -> Result:
    return await _last(service, scope, chat_id, "summary")


@router.post("/assist-draft", response_model=Result)
async def assist_draft(service: ConversationDep, scope: Replier, body: ChatRef) -> Result:
    """A draft reply for the agent to edit and send (never sent by itself)."""
    return await _generate(service, scope, body.chat_id, "draft")
