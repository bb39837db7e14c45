"""``/messages``: an outbound message with its status timeline, and a filtered list.

Requires the bearer admin token (same as ``/admin/channels``): responses hold recipients'
phone numbers. ``GET /messages`` is newest first and keyset-paginated: pass the
``next_cursor`` of a page as ``cursor`` to get the next one (absent on the last page).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime, BaseModel

from cauce_contracts.identity import Permission
from cauce_notifier.bootstrap import NotifierDep
from cauce_notifier.store.messages import (
    MAX_PAGE,
    MessageRecord,
    MessageStatus,
    StatusEntry,
)
from cauce_runtime import InvalidCursor, problem_response
from cauce_runtime.identity import Caller, company_for, require


class StatusView(BaseModel):
    status: MessageStatus
    occurred_at: datetime
    recorded_at: datetime
    source: str
    detail: dict[str, Any] | None

    @classmethod
    def of(cls, entry: StatusEntry) -> StatusView:
        return cls(
            status=entry.status,
            occurred_at=entry.occurred_at,
            recorded_at=entry.recorded_at,
            source=entry.source,
            detail=entry.detail,
        )


class MessageView(BaseModel):
    id: uuid.UUID
    tenant_id: str
    channel: str
    channel_account_id: str
    contact_key: str
    to: str
    content_type: str
    content: dict[str, Any]
    degradation: str | None
    status: MessageStatus
    provider_message_id: str | None
    error_code: str | None
    error_title: str | None
    retryable: bool | None
    #: Failed provider calls so far (5xx, timeouts); waits for limits do not count.
    provider_attempts: int
    campaign_id: str | None
    correlation_id: str
    requested_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, record: MessageRecord) -> MessageView:
        return cls(
            id=record.request_event_id,
            to=record.recipient,
            **{
                name: getattr(record, name) for name in cls.model_fields if name not in ("id", "to")
            },
        )


class MessageDetail(MessageView):
    history: list[StatusView]


class MessagePageView(BaseModel):
    items: list[MessageView]
    next_cursor: str | None


#: A caller holding ``messages.read``; its company comes from its access token.
Reader = Annotated[Caller, Depends(require(Permission.MESSAGES_READ))]

router = APIRouter(prefix="/messages", tags=["messages"])


@router.get("/{message_id}", response_model=MessageDetail)
async def get_message(
    notifier: NotifierDep, caller: Reader, message_id: uuid.UUID
) -> MessageDetail | Response:
    """A message by its request ``event_id``, with its status history."""
    store = notifier.messages
    record = await store.get(message_id)
    if record is None or not caller.sees(record.tenant_id):
        return problem_response(404, detail="no such message")
    history = [StatusView.of(entry) for entry in await store.history(message_id)]
    return MessageDetail(**MessageView.of(record).model_dump(), history=history)


@router.get("", response_model=MessagePageView)
async def list_messages(
    notifier: NotifierDep,
    caller: Reader,
    tenant: str | None = None,
    status: MessageStatus | None = None,
    to: Annotated[str | None, Query(pattern=r"^\+?[0-9]{6,20}$")] = None,
    since: AwareDatetime | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> MessagePageView | Response:
    try:
        page = await notifier.messages.list(
            tenant_id=company_for(caller, tenant),
            status=status,
            recipient=to,
            since=since,
            cursor=cursor,
            limit=limit,
        )
    except InvalidCursor:
        return problem_response(400, detail="invalid cursor")
    return MessagePageView(
        items=[MessageView.of(record) for record in page.items], next_cursor=page.next_cursor
    )
