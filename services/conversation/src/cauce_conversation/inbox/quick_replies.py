"""Quick replies (canned responses) of a company: a shortcode and a text with
``{{variables}}``, filled in when an agent sends one (``POST /api/chats/messages/{id}``
with ``quick_reply``). ``{{contact_name}}`` is the customer's profile name; any other
variable comes with the request, and a missing one is refused (422), never sent empty.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pymongo.asynchronous.collection import AsyncCollection

from cauce_contracts.envelope import utc_now
from cauce_contracts.identity import Permission
from cauce_conversation.bootstrap import ConversationDep
from cauce_conversation.inbox.unavailable import UNAVAILABLE_RESPONSE, unavailable_as_503
from cauce_conversation.model import Conversation
from cauce_conversation.store.documents import Document, from_document, stored_form, to_document
from cauce_conversation.store.errors import unavailable_as_transient
from cauce_runtime.identity import Caller, require

Shortcode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}$")]
_VARIABLE = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")


class QuickReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    shortcode: str
    text: str
    updated_at: datetime = Field(default_factory=utc_now)

    @property
    def variables(self) -> list[str]:
        return list(dict.fromkeys(_VARIABLE.findall(self.text)))


class QuickReplyText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]


class QuickReplyView(BaseModel):
    shortcode: str
    text: str
    #: The ``{{variables}}`` its text takes.
    variables: list[str]
    updated_at: datetime

    @classmethod
    def of(cls, reply: QuickReply) -> QuickReplyView:
        return cls(
            shortcode=reply.shortcode,
            text=reply.text,
            variables=reply.variables,
            updated_at=reply.updated_at,
        )


def render(reply: QuickReply, conversation: Conversation, variables: dict[str, str]) -> str:
    """The reply's text with its variables filled (422 naming any that is missing)."""
    values = {"contact_name": conversation.profile_name or "", **variables}
    missing = [name for name in reply.variables if not values.get(name)]
    if missing:
        raise HTTPException(422, f"quick reply {reply.shortcode} needs {', '.join(missing)}")
    return _VARIABLE.sub(lambda match: values[match.group(1)], reply.text)


class QuickReplies:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._replies = collection

    @classmethod
    def of(cls, service: ConversationDep) -> QuickReplies:
        return cls(service.store.database.get_collection("quick_replies"))

    async def list(self, tenant_id: str) -> list[QuickReply]:
        with unavailable_as_transient("list quick replies"):
            documents = await self._replies.find({"tenant_id": tenant_id}).to_list()
        return sorted((from_document(QuickReply, d) for d in documents), key=lambda r: r.shortcode)

    async def get(self, tenant_id: str, shortcode: str) -> QuickReply | None:
        with unavailable_as_transient("get quick reply"):
            document = await self._replies.find_one({"_id": f"{tenant_id}:{shortcode}"})
        return None if document is None else from_document(QuickReply, document)

    async def put(self, tenant_id: str, shortcode: str, text: str) -> QuickReply:
        reply = stored_form(
            QuickReply(
                id=f"{tenant_id}:{shortcode}", tenant_id=tenant_id, shortcode=shortcode, text=text
            )
        )
        with unavailable_as_transient("put quick reply"):
            await self._replies.replace_one({"_id": reply.id}, to_document(reply), upsert=True)
        return reply

    async def delete(self, tenant_id: str, shortcode: str) -> bool:
        with unavailable_as_transient("delete quick reply"):
            result = await self._replies.delete_one({"_id": f"{tenant_id}:{shortcode}"})
        return result.deleted_count == 1


Reader = Annotated[Caller, Depends(require(Permission.CHATS_READ))]
Manager = Annotated[Caller, Depends(require(Permission.CHATS_MANAGE))]

router = APIRouter(
    prefix="/api/quick-replies",
    tags=["quick replies"],
    dependencies=[Depends(unavailable_as_503)],
    responses=UNAVAILABLE_RESPONSE,
)


@router.get("", response_model=list[QuickReplyView])
async def list_quick_replies(service: ConversationDep, caller: Reader) -> list[QuickReplyView]:
    return [QuickReplyView.of(r) for r in await QuickReplies.of(service).list(caller.company_id)]


@router.put("/{shortcode}", response_model=QuickReplyView)
async def put_quick_reply(
    service: ConversationDep, caller: Manager, shortcode: Shortcode, body: QuickReplyText
) -> QuickReplyView:
    reply = await QuickReplies.of(service).put(caller.company_id, shortcode, body.text)
    return QuickReplyView.of(reply)


@router.delete("/{shortcode}", status_code=204)
async def delete_quick_reply(
    service: ConversationDep, caller: Manager, shortcode: Shortcode
) -> Response:
    if not await QuickReplies.of(service).delete(caller.company_id, shortcode):
        raise HTTPException(404, "no such quick reply")
    return Response(status_code=204)
