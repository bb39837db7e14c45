"""The inbox routes: list and read conversations, assign, set status, reply, release.

Handover rules (who answers the customer):

- ``POST /assign`` with an agent sets ``handed_over``: the bot goes silent. Unassigning
  (``null``) leaves the conversation with the humans, in the unassigned queue.
- ``POST /reply`` only sends: it never takes the conversation from the bot (an agent
  chiming in once should not silence it by accident); assign first to take over.
- ``POST /release`` hands the conversation back: no assignee, flow restarted at its
  initial step, status open; the bot answers the next message.
- ``POST /status`` is the inbox label only (open, pending, snoozed, closed).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from pydantic import AwareDatetime, StringConstraints

from cauce_contracts.envelope import TOKEN_PATTERN
from cauce_contracts.outbound import TextContent
from cauce_conversation.bootstrap import ConversationDep
from cauce_conversation.flows.vocabulary import FlowState
from cauce_conversation.inbox.replies import send_reply
from cauce_conversation.inbox.scope import Assigner, Manager, Reader, Replier
from cauce_conversation.inbox.unavailable import unavailable_as_503
from cauce_conversation.inbox.views import (
    AssignBody,
    ConversationDetail,
    ConversationPage,
    ConversationSummary,
    MessagePage,
    MessageView,
    PageLimit,
    ReplyAccepted,
    ReplyBody,
    StatusBody,
)
from cauce_conversation.inbox.writes import load, update_conversation
from cauce_conversation.model import Conversation, ConversationStatus
from cauce_runtime import InvalidCursor
from cauce_runtime.identity import company_for

TenantId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=TOKEN_PATTERN)]

_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "unknown conversation"},
    409: {"description": "concurrent writes kept winning; retry"},
}


def _invalid_cursor(exc: InvalidCursor) -> HTTPException:
    return HTTPException(status_code=422, detail=f"invalid cursor: {exc}")


#: The inbox API; every route needs an access token (``Authorization: Bearer ...``).
router = APIRouter(
    prefix="/conversations",
    tags=["inbox"],
    dependencies=[Depends(unavailable_as_503)],
    responses={
        401: {"description": "missing, invalid or expired access token"},
        403: {"description": "the caller's role lacks the permission"},
        503: {"description": "MongoDB or NATS unavailable; retry"},
    },
)


@router.get("", summary="List a tenant's conversations, most recently updated first")
async def list_conversations(
    service: ConversationDep,
    scope: Reader,
    tenant: Annotated[
        TenantId | None, Query(description="another company (platform admins)")
    ] = None,
    conversation_status: Annotated[ConversationStatus | None, Query(alias="status")] = None,
    assignee: str | None = None,
    updated_since: AwareDatetime | None = None,
    limit: PageLimit = 50,
    cursor: str | None = None,
) -> ConversationPage:
    try:
        items, next_cursor = await service.store.list_conversations(
            company_for(scope.caller, tenant),
            status=conversation_status,
            assignee=assignee,
            updated_since=updated_since,
            within=scope.query(),
            limit=limit,
            cursor=cursor,
        )
    except InvalidCursor as exc:
        raise _invalid_cursor(exc) from exc
    return ConversationPage(
        items=[ConversationSummary.of(item) for item in items], next_cursor=next_cursor
    )


@router.get(
    "/{conversation_id}",
    summary="One conversation",
    responses={404: {"description": "unknown conversation"}},
)
async def get_conversation(
    service: ConversationDep, scope: Reader, conversation_id: str
) -> ConversationDetail:
    return ConversationDetail.of(await load(service.store, conversation_id, scope))


@router.get(
    "/{conversation_id}/messages",
    summary="A conversation's messages, oldest first",
    responses={404: {"description": "unknown conversation"}},
)
async def list_messages(
    service: ConversationDep,
    scope: Reader,
    conversation_id: str,
    limit: PageLimit = 50,
    cursor: str | None = None,
) -> MessagePage:
    await load(service.store, conversation_id, scope)
    try:
        items, next_cursor = await service.store.list_messages(
            conversation_id, limit=limit, cursor=cursor
        )
    except InvalidCursor as exc:
        raise _invalid_cursor(exc) from exc
    return MessagePage(
        items=[MessageView.of(item, service.media_links) for item in items], next_cursor=next_cursor
    )


@router.post(
    "/{conversation_id}/assign",
    summary="Give the conversation to an agent (the bot goes silent), or unassign",
    responses=_WRITE_RESPONSES,
)
async def assign(
    service: ConversationDep, scope: Assigner, conversation_id: str, body: AssignBody
) -> ConversationDetail:
    def change(conversation: Conversation) -> Conversation:
        update: dict[str, Any] = {"assignee": body.assignee}
        if body.assignee is not None:
            update.update(handed_over=True, queued_at=None)
        return conversation.model_copy(update=update)

    return ConversationDetail.of(
        await update_conversation(service.store, conversation_id, scope, change, feed=service.feed)
    )


@router.post(
    "/{conversation_id}/status",
    summary="Set the inbox status: open, pending, snoozed or closed",
    responses=_WRITE_RESPONSES,
)
async def set_status(
    service: ConversationDep, scope: Manager, conversation_id: str, body: StatusBody
) -> ConversationDetail:
    def change(conversation: Conversation) -> Conversation:
        return conversation.model_copy(update={"status": body.status})

    return ConversationDetail.of(
        await update_conversation(service.store, conversation_id, scope, change, feed=service.feed)
    )


@router.post(
    "/{conversation_id}/release",
    summary="Hand the conversation back to the bot, restarting its flow",
    responses=_WRITE_RESPONSES,
)
async def release(
    service: ConversationDep, scope: Manager, conversation_id: str
) -> ConversationDetail:
    flow = service.flow

    def change(conversation: Conversation) -> Conversation:
        state = flow.restart(FlowState(conversation.step, conversation.slots))
        return conversation.model_copy(
            update={
                "handed_over": False,
                "assignee": None,
                "queued_at": None,
                "status": ConversationStatus.OPEN,
                "flow": flow.name,
                "step": state.step,
                "slots": dict(state.slots),
            }
        )

    return ConversationDetail.of(
        await update_conversation(service.store, conversation_id, scope, change, feed=service.feed)
    )


@router.post(
    "/{conversation_id}/reply",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send an agent's text message to the customer",
    responses={
        404: {"description": "unknown conversation"},
        409: {"description": "outside WhatsApp's 24-hour customer service window"},
    },
)
async def reply(
    service: ConversationDep,
    scope: Replier,
    conversation_id: str,
    body: ReplyBody,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128)
    ] = None,
) -> ReplyAccepted:
    """Publishes ``outbound.message.requested`` and records the message.

    With an ``Idempotency-Key`` header a retried request reuses the same event id:
    JetStream drops the repeated publish and the message is recorded once.
    """
    conversation = await load(service.store, conversation_id, scope)
    return await send_reply(
        service,
        conversation,
        TextContent(body=body.text),
        f"agent:{body.agent}",
        idempotency_key,
        shown=body.text,
    )
