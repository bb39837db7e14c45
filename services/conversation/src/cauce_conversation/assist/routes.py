"""``/api/chats/ai``: the seed's AI paths over the assist provider.

- ``POST /api/chats/ai/insights`` (``chat_id``) generates, ``GET /api/chats/ai/insights
  ?chat_id=`` reads the last ones;
- ``POST /api/chats/ai/summaries/generate`` and ``GET /api/chats/ai/summaries/{chat_id}``;
- ``POST /api/chats/ai/assist-draft``: a draft reply for the agent (never sent by
  itself).

The chat is loaded through the caller's scope (another company's chat, or one outside
an agent's scope, is a 404); generating goes through :mod:`.generation` (masking, the
company's provider, the result kept with who made it and what it cost). A model that
fails answers 503 with ``Retry-After`` (busy or down, after a few quick retries) or 502
(it or the company's key refused), never a result made up in its place.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, StringConstraints

from cauce_conversation.assist.prompts import Kind
from cauce_conversation.assist.provider import Result
from cauce_conversation.bootstrap import ConversationDep, ConversationService
from cauce_conversation.inbox.scope import ChatScope, Reader, Replier
from cauce_conversation.inbox.unavailable import UNAVAILABLE_RESPONSE, unavailable_as_503
from cauce_conversation.inbox.writes import load
from cauce_runtime import CredentialsRejected, OutsideCallError

ChatId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ChatRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat_id: ChatId


def model_failure(error: OutsideCallError) -> HTTPException:
    """A model's failure as the agent's answer: 503 (with ``Retry-After``) when asking
    again later may work, 502 when the model or its key refused."""
    if error.retryable and not isinstance(error, CredentialsRejected):
        wait = max(1, round(error.retry_after or 5))
        return HTTPException(503, str(error), headers={"Retry-After": str(wait)})
    return HTTPException(502, str(error))


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
    try:
        return await service.assist.generate(conversation, kind)
    except OutsideCallError as error:
        raise model_failure(error) from error


async def _last(service: ConversationService, scope: ChatScope, chat_id: str, kind: Kind) -> Result:
    conversation = await load(service.store, chat_id, scope)
    found = await service.assist.results.last(conversation, kind)
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
