"""The conversation service's records: conversations, their messages, reports.

One :class:`Conversation` per (tenant, channel, contact), with the flow's state and
slots and a ``version`` for optimistic concurrency (every write is a compare-and-set on
it). Messages are one :class:`MessageRecord` each, so history never grows a document
without bound. :class:`Report` keeps what the seed's ``Report`` kept: debt lookups and
transactions, for audit and for finding a conversation by its SCI transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cauce_contracts.envelope import utc_now
from cauce_contracts.subjects import Channel

#: Namespace of conversation ids (uuid5 of tenant, channel and contact key).
_CONVERSATION_NAMESPACE = uuid.UUID("0b6c3f1e-5d2a-4f7e-9c11-3a8e2d4b6f70")


def conversation_id(tenant_id: str, channel: Channel | str, contact_key: str) -> str:
    """The stable id of the conversation of one contact on one channel of a tenant."""
    return str(uuid.uuid5(_CONVERSATION_NAMESPACE, f"{tenant_id}\x1f{channel}\x1f{contact_key}"))


class ConversationStatus(StrEnum):
    """The inbox status an agent sees (Chatwoot-style)."""

    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    CLOSED = "closed"


#: Chatwoot's priorities.
Priority = Literal["urgent", "high", "medium", "low"]


class Conversation(BaseModel):
    """One contact's conversation on one channel account of a tenant."""

    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    channel: Channel
    contact_key: str
    #: The sending account replies go out from (Meta phone_number_id, Chattigo DID...).
    channel_account_id: str
    #: The customer's phone address: personal data, needed to reply; never logged.
    contact_address: str
    profile_name: str | None = None

    flow: str
    step: str
    slots: dict[str, Any] = Field(default_factory=dict)

    status: ConversationStatus = ConversationStatus.OPEN
    assignee: str | None = None
    #: A human has the conversation: the bot stays silent until it is released.
    handed_over: bool = False
    #: Snoozed: back to open at this time (None: only by a reply or an agent), and/or
    #: when the customer writes (Help Scout's ``unsnoozeOnCustomerReply``).
    snoozed_until: datetime | None = None
    unsnooze_on_reply: bool = False
    #: Who pinned it (pins are per user: the access token's subject).
    pinned_by: list[str] = Field(default_factory=list)
    priority: Priority | None = None
    #: The company's own tags (``vip``, ``reclamo``...).
    labels: list[str] = Field(default_factory=list)
    #: The team whose queue the chat waits in (None: the default team, ``general``).
    team: str | None = None
    #: Since when the chat waits for an agent (None: it does not wait): the queue's order.
    queued_at: datetime | None = None
    #: The customer wrote since an agent last opened the chat's messages.
    unread: bool = False
    #: The lead's state as last published on ``crm.lead.state_changed``.
    lead_state: str | None = None

    last_inbound_at: datetime | None = None
    last_inbound_message_id: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    #: Optimistic concurrency: a write succeeds only if nobody wrote since we read.
    version: int = 0
    #: Ids of the last events applied (bounded), so a redelivered event changes nothing.
    applied_event_ids: list[str] = Field(default_factory=list)
    #: Publications decided by a turn but not yet acknowledged by JetStream (outbox):
    #: written with the state, published after, cleared once acknowledged.
    outbox: list[dict[str, Any]] = Field(default_factory=list)


class DeliveryStatus(BaseModel):
    """How far an outbound message got, as the notifier's timeline last said."""

    status: Literal["sent", "delivered", "read", "failed"]
    at: datetime
    error_code: str | None = None
    error_title: str | None = None


class MessageMedia(BaseModel):
    """A customer's file on their message: kept in the ``media`` object store (agents
    get it by a signed, expiring link), or refused with the reason."""

    status: Literal["stored", "refused"]
    object_name: str | None = None
    content_type: str | None = None
    size: int | None = None
    filename: str | None = None
    reason: str | None = None
    detail: str | None = None


#: A status never moves back (a late "delivered" after "read" changes nothing).
DELIVERY_RANK: dict[str, int] = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


class MessageRecord(BaseModel):
    """One message of a conversation, inbound or outbound."""

    model_config = ConfigDict(extra="ignore")

    #: Inbound: ``{channel}:{provider_message_id}`` (unique per channel).
    #: Outbound: the ``outbound.message.requested`` event id.
    id: str
    conversation_id: str
    tenant_id: str
    #: ``note``: an agent's private note, never sent to the customer.
    direction: Literal["inbound", "outbound", "note"]
    #: Who wrote it: the customer, the bot or an agent (``agent:<name>``).
    author: str
    #: Inbound message type (``text``, ``image``...) or outbound content type.
    type: str
    #: What an inbox shows: the text, a button's title, "[image]"...
    text: str | None = None
    #: The message as received / requested (contract JSON), for the inbox's detail view.
    payload: dict[str, Any] = Field(default_factory=dict)
    provider_message_id: str | None = None
    at: datetime = Field(default_factory=utc_now)
    #: Outbound messages: their delivery status (None until the notifier reports).
    delivery: DeliveryStatus | None = None
    #: Messages with a file: where it is kept (None until the notifier reports).
    media: MessageMedia | None = None


class Report(BaseModel):
    """A debt lookup or a payment transaction, as the seed's ``Report`` kept them."""

    model_config = ConfigDict(extra="ignore")

    #: ``lookup:<request event id>`` or ``transaction:<SCI transaction id>``.
    id: str
    conversation_id: str
    tenant_id: str
    kind: Literal["debt_lookup", "transaction"]
    placa: str | None = None
    transaction_id: str | None = None
    report: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=utc_now)
