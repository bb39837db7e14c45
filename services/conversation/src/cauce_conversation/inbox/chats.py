"""``/api/chats``: the agent's inbox at the seed's paths (SibarConnect's chats API),
over the same conversations, guards and compare-and-set writes as ``/conversations``.

- ``GET /api/chats`` (status, assignee, ``mine``, ``unassigned``, ``pinned``,
  priority; cursor pages; ``counts`` per status); ``GET /api/chats/{chat_id}``.
- ``POST /api/chats/assign|status|pin|unpin|snooze|unsnooze`` with ``chat_id`` in the
  body, and ``POST /api/chats/bulk`` for many chats at once.
- ``POST /api/chats/labels`` (add/remove the company's tags), ``POST /api/chats/notes``
  (a private note in the history, never sent).
- ``GET/POST /api/chats/messages/{chat_id}``: the history, and an agent's reply.
- ``GET /api/chats/stream``: the company's chats as they change (SSE).

Statuses are Chatwoot's: open, pending, snoozed and resolved (stored as ``closed``).
A snooze asks every time whether a customer reply ends it (Help Scout's
``unsnoozeOnCustomerReply``), and may name a time; pins are per user.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from sse_starlette import EventSourceResponse

from cauce_contracts.envelope import utc_now
from cauce_contracts.identity import Permission
from cauce_contracts.inbox import ChatChange
from cauce_contracts.subjects import Channel
from cauce_conversation.bootstrap import ConversationDep
from cauce_conversation.inbox.compose import ChatReply, Composed, compose
from cauce_conversation.inbox.live import live_changes, resume_after
from cauce_conversation.inbox.replies import send_reply
from cauce_conversation.inbox.scope import Assigner, ChatScope, Manager, Reader, Replier
from cauce_conversation.inbox.unavailable import UNAVAILABLE_RESPONSE, unavailable_as_503
from cauce_conversation.inbox.views import (
    ConversationSummary,
    MessagePage,
    MessageView,
    PageLimit,
    ReplyAccepted,
)
from cauce_conversation.inbox.writes import load, update_conversation
from cauce_conversation.model import Conversation, ConversationStatus, MessageRecord, Priority
from cauce_conversation.snoozes import awake
from cauce_runtime import InvalidCursor
from cauce_runtime.identity import Caller
from cauce_runtime.web import EVENT_STREAM

#: Chatwoot's names; ``resolved`` is stored as ``closed``.
ChatStatus = Literal["open", "pending", "snoozed", "resolved"]
ChatId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Agent = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


def _stored(status: ChatStatus) -> ConversationStatus:
    return ConversationStatus.CLOSED if status == "resolved" else ConversationStatus(status)


def _shown(status: ConversationStatus) -> ChatStatus:
    return "resolved" if status is ConversationStatus.CLOSED else status.value  # type: ignore[return-value]


class ChatView(ConversationSummary):
    """A conversation as an agent's inbox shows it."""

    status: ChatStatus  # type: ignore[assignment]
    snoozed_until: datetime | None
    unsnooze_on_reply: bool
    priority: Priority | None
    #: The customer wrote since an agent last opened the messages.
    unread: bool
    team: str | None
    labels: list[str]
    #: Pinned by the caller (pins are per user).
    pinned: bool

    @classmethod
    def seen_by(cls, conversation: Conversation, caller: Caller) -> ChatView:
        summary = ConversationSummary.of(conversation).model_dump()
        return cls(
            **{**summary, "status": _shown(conversation.status)},
            snoozed_until=conversation.snoozed_until,
            unsnooze_on_reply=conversation.unsnooze_on_reply,
            priority=conversation.priority,
            unread=conversation.unread,
            team=conversation.team,
            labels=conversation.labels,
            pinned=caller.subject in conversation.pinned_by,
        )


class ChatPage(BaseModel):
    items: list[ChatView]
    next_cursor: str | None
    #: The company's chats in each status (all of them, not only this page's).
    counts: dict[ChatStatus, int]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatRef(_Body):
    chat_id: ChatId


class AssignChat(ChatRef):
    #: The agent taking the chat; null puts it back in the unassigned queue.
    assignee: Agent | None


class TeamChange(ChatRef):
    #: The team whose queue and agents the chat goes to (null: the default team).
    team: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None


class ChatStatusChange(ChatRef):
    #: Snoozing goes through ``/snooze`` (it needs to know until when).
    status: Literal["open", "pending", "resolved"]
    priority: Priority | None = None


class Snooze(ChatRef):
    #: Back to open at this time (None: only by a reply or an agent).
    until: AwareDatetime | None = None
    #: Whether the customer writing ends the snooze: asked on every snooze.
    unsnooze_on_customer_reply: bool


Label = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=64)
]


class LabelChange(ChatRef):
    add: list[Label] = Field(default_factory=list, max_length=50)
    remove: list[Label] = Field(default_factory=list, max_length=50)


class Note(ChatRef):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]


class BulkChange(_Body):
    chat_ids: list[ChatId] = Field(min_length=1, max_length=500)
    action: Literal["assign", "status", "snooze", "unsnooze", "pin", "unpin", "labels"]
    assignee: Agent | None = None
    status: Literal["open", "pending", "resolved"] | None = None
    until: AwareDatetime | None = None
    unsnooze_on_customer_reply: bool | None = None
    #: ``labels``: the tags to add and remove on every chat.
    add: list[Label] = Field(default_factory=list, max_length=50)
    remove: list[Label] = Field(default_factory=list, max_length=50)


class BulkResult(BaseModel):
    updated: list[str]
    #: Unknown, or another company's (the same to the caller).
    not_found: list[str]


router = APIRouter(
    prefix="/api/chats",
    tags=["chats"],
    dependencies=[Depends(unavailable_as_503)],
    responses=UNAVAILABLE_RESPONSE,
)

#: How far back ``GET /api/chats?q=`` looks into messages.
SEARCH_DAYS = 30

Change = Callable[[Conversation], Conversation]


def _assign(assignee: str | None) -> Change:
    """To an agent (the bot goes silent), or back to the team's queue (null)."""

    def change(conversation: Conversation) -> Conversation:
        if assignee is None:
            update: dict[str, Any] = {"assignee": None}
            if conversation.handed_over and conversation.status is not ConversationStatus.CLOSED:
                update["queued_at"] = conversation.queued_at or utc_now()
            return conversation.model_copy(update=update)
        return conversation.model_copy(
            update={"assignee": assignee, "handed_over": True, "queued_at": None}
        )

    return change


def _status(status: Literal["open", "pending", "resolved"], priority: Priority | None) -> Change:
    def change(conversation: Conversation) -> Conversation:
        update: dict[str, Any] = {"status": _stored(status), "snoozed_until": None}
        if status == "resolved":
            update["queued_at"] = None  # nobody needs to take it any more
        if priority is not None:
            update["priority"] = priority
        return conversation.model_copy(update=update)

    return change


def _snooze(until: datetime | None, on_reply: bool) -> Change:
    if until is None and not on_reply:
        raise HTTPException(422, "a snooze ends at a time, on the customer's reply, or both")
    if until is not None and until <= utc_now():
        raise HTTPException(422, "until is in the past")

    def change(conversation: Conversation) -> Conversation:
        return conversation.model_copy(
            update={
                "status": ConversationStatus.SNOOZED,
                "snoozed_until": until,
                "unsnooze_on_reply": on_reply,
            }
        )

    return change


def _unsnooze(conversation: Conversation) -> Conversation:
    return (
        awake(conversation) if conversation.status is ConversationStatus.SNOOZED else conversation
    )


def _pin(subject: str, pinned: bool) -> Change:
    def change(conversation: Conversation) -> Conversation:
        others = [s for s in conversation.pinned_by if s != subject]
        return conversation.model_copy(
            update={"pinned_by": [*others, subject] if pinned else others}
        )

    return change


@router.get("", response_model=ChatPage)
async def list_chats(
    service: ConversationDep,
    scope: Reader,
    status: ChatStatus | None = None,
    assignee: Agent | None = None,
    mine: Annotated[bool, Query(description="assigned to the caller")] = False,
    unassigned: bool = False,
    pinned: Annotated[bool, Query(description="pinned by the caller")] = False,
    priority: Priority | None = None,
    label: Label | None = None,
    channel: Channel | None = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
    unread: bool | None = None,
    q: Annotated[
        str | None, Query(min_length=2, max_length=100, description="text in recent messages")
    ] = None,
    limit: PageLimit = 50,
    cursor: str | None = None,
) -> ChatPage:
    """The company's chats, most recently updated first, with counts per status;
    ``q`` finds the chats with a message containing it in the last
    :data:`SEARCH_DAYS` days."""
    store = service.store
    among = None
    if q is not None:
        since = utc_now() - timedelta(days=SEARCH_DAYS)
        among = await store.conversations_mentioning(scope.caller.company_id, q, since)
    try:
        items, next_cursor = await store.list_conversations(
            scope.caller.company_id,
            status=_stored(status) if status else None,
            assignee=scope.caller.user_id if mine else assignee,
            unassigned=unassigned,
            pinned_by=scope.caller.subject if pinned else None,
            priority=priority,
            label=label,
            channel=channel.value if channel else None,
            team=team,
            unread=unread,
            among=among,
            within=scope.query(),
            limit=limit,
            cursor=cursor,
        )
    except InvalidCursor as exc:
        raise HTTPException(422, f"invalid cursor: {exc}") from exc
    counts = await store.count_by_status(scope.caller.company_id, within=scope.query())
    return ChatPage(
        items=[ChatView.seen_by(item, scope.caller) for item in items],
        next_cursor=next_cursor,
        counts={_shown(ConversationStatus(k)): v for k, v in counts.items()},
    )


@router.get("/messages/{chat_id}", response_model=MessagePage)
async def chat_messages(
    service: ConversationDep,
    scope: Reader,
    chat_id: ChatId,
    limit: PageLimit = 50,
    cursor: str | None = None,
) -> MessagePage:
    """The chat's messages, oldest first (reading them marks the chat read)."""
    conversation = await load(service.store, chat_id, scope)
    if conversation.unread:
        await update_conversation(
            service.store,
            chat_id,
            scope,
            lambda c: c.model_copy(update={"unread": False}),
            feed=service.feed,
        )
    try:
        items, next_cursor = await service.store.list_messages(chat_id, limit=limit, cursor=cursor)
    except InvalidCursor as exc:
        raise HTTPException(422, f"invalid cursor: {exc}") from exc
    return MessagePage(
        items=[MessageView.of(item, service.media_links) for item in items], next_cursor=next_cursor
    )


@router.post("/messages/{chat_id}", status_code=202, response_model=ReplyAccepted)
async def send_chat_message(
    service: ConversationDep,
    scope: Replier,
    chat_id: ChatId,
    body: ChatReply,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128)
    ] = None,
) -> ReplyAccepted:
    """An agent's text, quick reply, file, sticker or template to the customer (409
    outside WhatsApp's 24-hour window for anything but a template)."""
    conversation = await load(service.store, chat_id, scope)
    composed = await compose(service, conversation, body)
    return await _send(service, conversation, composed, scope.caller.subject, idempotency_key)


async def _send(
    service: ConversationDep,
    conversation: Conversation,
    composed: Composed,
    author: str,
    idempotency_key: str | None,
) -> ReplyAccepted:
    return await send_reply(
        service,
        conversation,
        composed.content,
        author,
        idempotency_key,
        shown=composed.shown,
        media=composed.media,
    )


class ChatReplies(_Body):
    messages: list[ChatReply] = Field(min_length=1, max_length=10)


@router.post("/messages/{chat_id}/bulk", status_code=202, response_model=list[ReplyAccepted])
async def send_chat_messages(
    service: ConversationDep,
    scope: Replier,
    chat_id: ChatId,
    body: ChatReplies,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=96)
    ] = None,
) -> list[ReplyAccepted]:
    """Several messages to the customer in this order (a text and its photos). All are
    checked before the first is sent; with an ``Idempotency-Key`` a retried request
    sends none twice (each message's key is the request's and its position)."""
    conversation = await load(service.store, chat_id, scope)
    composed = [await compose(service, conversation, message) for message in body.messages]
    accepted = []
    for position, message in enumerate(composed):
        key = f"{idempotency_key}:{position}" if idempotency_key else None
        accepted.append(await _send(service, conversation, message, scope.caller.subject, key))
    return accepted


@router.get(
    "/stream",
    response_model=None,
    response_class=EventSourceResponse,
    responses={200: EVENT_STREAM},
)
async def chat_stream(
    service: ConversationDep,
    scope: Reader,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventSourceResponse:
    """The chats the caller sees as they change (Server-Sent Events, one ``chat`` event
    per change: id, change, status, assignee, team, version; fetch the chat for the
    rest; ``gone`` when a chat the stream showed left the caller's scope).
    Resumable for an hour: send the last event's id as ``Last-Event-ID``."""
    return EventSourceResponse(
        live_changes(service.bus, scope, resume_after(last_event_id)), ping=15
    )


@router.get("/{chat_id}", response_model=ChatView)
async def get_chat(service: ConversationDep, scope: Reader, chat_id: ChatId) -> ChatView:
    return ChatView.seen_by(await load(service.store, chat_id, scope), scope.caller)


async def _apply(
    service: ConversationDep, scope: ChatScope, chat_id: str, change: Change, kind: ChatChange
) -> ChatView:
    saved = await update_conversation(
        service.store, chat_id, scope, change, feed=service.feed, kind=kind
    )
    return ChatView.seen_by(saved, scope.caller)


@router.post("/assign", response_model=ChatView)
async def assign_chat(service: ConversationDep, scope: Assigner, body: AssignChat) -> ChatView:
    """Give the chat to an agent (the bot goes silent), or unassign it (null)."""
    return await _apply(service, scope, body.chat_id, _assign(body.assignee), "assignment")


@router.post("/team", response_model=ChatView)
async def move_to_team(service: ConversationDep, scope: Assigner, body: TeamChange) -> ChatView:
    """Move the chat to a team's queue (its agents get it if it waits for one)."""

    def change(conversation: Conversation) -> Conversation:
        return conversation.model_copy(update={"team": body.team})

    return await _apply(service, scope, body.chat_id, change, "assignment")


@router.post("/status", response_model=ChatView)
async def set_chat_status(
    service: ConversationDep, scope: Manager, body: ChatStatusChange
) -> ChatView:
    change = _status(body.status, body.priority)
    return await _apply(service, scope, body.chat_id, change, "status")


@router.post("/pin", response_model=ChatView)
async def pin_chat(service: ConversationDep, scope: Reader, body: ChatRef) -> ChatView:
    """Pin the chat for the caller (nobody else sees their pin)."""
    return await _apply(service, scope, body.chat_id, _pin(scope.caller.subject, True), "pin")


@router.post("/unpin", response_model=ChatView)
async def unpin_chat(service: ConversationDep, scope: Reader, body: ChatRef) -> ChatView:
    return await _apply(service, scope, body.chat_id, _pin(scope.caller.subject, False), "pin")


@router.post("/snooze", response_model=ChatView)
async def snooze_chat(service: ConversationDep, scope: Manager, body: Snooze) -> ChatView:
    """Snooze until a time, until the customer replies, or both (whichever first)."""
    change = _snooze(body.until, body.unsnooze_on_customer_reply)
    return await _apply(service, scope, body.chat_id, change, "snooze")


@router.post("/unsnooze", response_model=ChatView)
async def unsnooze_chat(service: ConversationDep, scope: Manager, body: ChatRef) -> ChatView:
    return await _apply(service, scope, body.chat_id, _unsnooze, "snooze")


@router.post("/labels", response_model=ChatView)
async def label_chat(service: ConversationDep, scope: Manager, body: LabelChange) -> ChatView:
    """Add and remove the company's tags on the chat (filter the list with ``label``)."""
    return await _apply(service, scope, body.chat_id, _labels(body.add, body.remove), "labels")


def _labels(add: list[str], remove: list[str]) -> Change:
    def change(conversation: Conversation) -> Conversation:
        kept = [label for label in conversation.labels if label not in remove]
        added = [label for label in dict.fromkeys(add) if label not in kept]
        return conversation.model_copy(update={"labels": [*kept, *added]})

    return change


@router.post("/notes", status_code=201, response_model=MessageView)
async def add_note(service: ConversationDep, scope: Replier, body: Note) -> MessageView:
    """A private note in the chat's history, for the company's agents: never sent."""
    conversation = await load(service.store, body.chat_id, scope)
    note = MessageRecord(
        id=f"note:{uuid.uuid4()}",
        conversation_id=conversation.id,
        tenant_id=conversation.tenant_id,
        direction="note",
        author=scope.caller.subject,
        type="note",
        text=body.text,
    )
    await service.store.add_message(note)
    await service.feed.changed(conversation, "note", note.id)
    return MessageView.of(note)


@router.post("/bulk", response_model=BulkResult)
async def bulk_change(service: ConversationDep, scope: Manager, body: BulkChange) -> BulkResult:
    """One change to many chats; each is written on its own (one failing leaves the rest
    done), and the answer says which were not found."""
    if body.action == "assign" and not scope.caller.may(Permission.CHATS_ASSIGN):
        raise HTTPException(403, f"requires permission {Permission.CHATS_ASSIGN}")
    change = _bulk_change(body, scope.caller)
    kind = _BULK_KINDS[body.action]
    updated, missing = [], []
    for chat_id in dict.fromkeys(body.chat_ids):
        try:
            await update_conversation(
                service.store, chat_id, scope, change, feed=service.feed, kind=kind
            )
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            missing.append(chat_id)
        else:
            updated.append(chat_id)
    return BulkResult(updated=updated, not_found=missing)


_BULK_KINDS: dict[str, ChatChange] = {
    "assign": "assignment",
    "status": "status",
    "snooze": "snooze",
    "unsnooze": "snooze",
    "pin": "pin",
    "unpin": "pin",
    "labels": "labels",
}


def _bulk_change(body: BulkChange, caller: Caller) -> Change:
    match body.action:
        case "assign":
            return _assign(body.assignee)
        case "status":
            if body.status is None:
                raise HTTPException(422, "status is required for the status action")
            return _status(body.status, None)
        case "snooze":
            if body.unsnooze_on_customer_reply is None:
                raise HTTPException(422, "unsnooze_on_customer_reply is required to snooze")
            return _snooze(body.until, body.unsnooze_on_customer_reply)
        case "unsnooze":
            return _unsnooze
        case "pin" | "unpin":
            return _pin(caller.subject, body.action == "pin")
        case "labels":
            if not body.add and not body.remove:
                raise HTTPException(422, "labels needs a label to add or remove")
            return _labels(body.add, body.remove)
