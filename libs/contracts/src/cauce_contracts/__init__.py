"""cauce's event contracts: the only place events, subjects and streams are defined.

Services import from here and never format a subject or a payload by hand:

- envelope: :class:`Event` (``event_id``, ``event_type``, ``schema_version``,
  ``occurred_at``, ``tenant_id``, ``correlation_id``, ``causation_id``),
  :class:`Contract`, :func:`stable_event_id`;
- the events, by domain: :mod:`~cauce_contracts.inbound`,
  :mod:`~cauce_contracts.business_account` (templates, messaging limits, marketing
  preferences), :mod:`~cauce_contracts.crm`, :mod:`~cauce_contracts.payments`,
  :mod:`~cauce_contracts.outbound`, :mod:`~cauce_contracts.dlq`;
- :mod:`~cauce_contracts.subjects`: :class:`Channel`, :func:`contact_key`, each event's
  subject pattern (:func:`~cauce_contracts.subjects.subject`; code publishing an event
  uses :func:`subject_of`) and consumer filters
  (:func:`~cauce_contracts.subjects.all_of`, :func:`~cauce_contracts.subjects.filter_for`);
- :mod:`~cauce_contracts.streams`: JetStream streams and who subscribes to them;
- :mod:`~cauce_contracts.registry`: :data:`ALL_EVENTS`, :func:`parse_event`, :func:`subject_of`;
- ``python -m cauce_contracts.asyncapi``: the AsyncAPI 3 document of all of it.
"""

from __future__ import annotations

from cauce_contracts import subjects
from cauce_contracts.crm import CampaignAssigned, ContactUpserted, LeadStateChanged
from cauce_contracts.dlq import DeadLettered
from cauce_contracts.envelope import SYSTEM_TENANT_ID, Contract, Event, stable_event_id
from cauce_contracts.inbound import (
    InboundMessageReceived,
    InboundPayloadUnrecognized,
    InboundStatusUpdated,
)
from cauce_contracts.outbound import (
    CtaUrlContent,
    ListContent,
    MarkReadContent,
    MediaContent,
    OutboundContent,
    OutboundMessageFailed,
    OutboundMessageRequested,
    OutboundMessageSent,
    OutboundStatusChanged,
    ReplyButtonsContent,
    TemplateContent,
    TextContent,
)
from cauce_contracts.payments import (
    DebtLookedUp,
    DebtLookupFailed,
    DebtLookupRequested,
    PaymentLinkCreated,
    PaymentLinkFailed,
    PaymentLinkRequested,
    PaymentTransactionStatusChanged,
    TransactionStatus,
    VehicleDebt,
)
from cauce_contracts.registry import ALL_EVENTS, UnknownEventType, parse_event, subject_of
from cauce_contracts.streams import STREAMS, StreamSpec, Subscription
from cauce_contracts.subjects import Channel, contact_key

__all__ = [
    "ALL_EVENTS",
    "STREAMS",
    "SYSTEM_TENANT_ID",
    "CampaignAssigned",
    "Channel",
    "ContactUpserted",
    "Contract",
    "CtaUrlContent",
    "DeadLettered",
    "DebtLookedUp",
    "DebtLookupFailed",
    "DebtLookupRequested",
    "Event",
    "InboundMessageReceived",
    "InboundPayloadUnrecognized",
    "InboundStatusUpdated",
    "LeadStateChanged",
    "ListContent",
    "MarkReadContent",
    "MediaContent",
    "OutboundContent",
    "OutboundMessageFailed",
    "OutboundMessageRequested",
    "OutboundMessageSent",
    "OutboundStatusChanged",
    "PaymentLinkCreated",
    "PaymentLinkFailed",
    "PaymentLinkRequested",
    "PaymentTransactionStatusChanged",
    "ReplyButtonsContent",
    "StreamSpec",
    "Subscription",
    "TemplateContent",
    "TextContent",
    "TransactionStatus",
    "UnknownEventType",
    "VehicleDebt",
    "contact_key",
    "parse_event",
    "stable_event_id",
    "subject_of",
    "subjects",
]
