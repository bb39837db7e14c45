"""Every event type, its model and its subject pattern; decoding by ``event_type``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from pydantic import BaseModel, ConfigDict

from cauce_contracts import (
    business_account,
    crm,
    dlq,
    inbound,
    inbox,
    media,
    outbound,
    payments,
    subjects,
)
from cauce_contracts.envelope import Event

_MODELS: tuple[type[Event], ...] = (
    inbound.InboundMessageReceived,
    inbound.InboundStatusUpdated,
    inbound.InboundPayloadUnrecognized,
    crm.ContactUpserted,
    crm.CampaignAssigned,
    crm.LeadStateChanged,
    crm.OdooRecordChanged,
    payments.DebtLookupRequested,
    payments.DebtLookedUp,
    payments.DebtLookupFailed,
    payments.PaymentLinkRequested,
    payments.PaymentLinkCreated,
    payments.PaymentLinkFailed,
    payments.PaymentTransactionStatusChanged,
    outbound.OutboundMessageRequested,
    outbound.OutboundMessageSent,
    outbound.OutboundMessageFailed,
    outbound.OutboundStatusChanged,
    outbound.CampaignMessageRequested,
    dlq.DeadLettered,
    business_account.TemplateStatusChanged,
    business_account.TemplateQualityChanged,
    business_account.TemplateCategoryChanged,
    business_account.TemplateComponentsChanged,
    business_account.MessagingLimitChanged,
    business_account.MarketingPreferenceChanged,
    inbox.ChatChanged,
    media.InboundMediaStored,
    media.InboundMediaRefused,
)

#: event_type -> model class, for every event on the bus.
ALL_EVENTS: Final[Mapping[str, type[Event]]] = MappingProxyType(
    {model.EVENT_TYPE: model for model in _MODELS}
)


def _check_consistency() -> None:
    # A model without a subject (or a subject without a model) is a contract bug;
    # fail at import rather than at the first publish.
    if len(ALL_EVENTS) != len(_MODELS):
        raise RuntimeError("two event models share an event_type")
    if set(ALL_EVENTS) != set(subjects.SUBJECT_PATTERNS):
        missing = set(ALL_EVENTS) ^ set(subjects.SUBJECT_PATTERNS)
        raise RuntimeError(f"event types without both a model and a subject: {sorted(missing)}")


_check_consistency()


def subject_pattern(event: type[Event] | str) -> str:
    """The subject pattern of an event class or type, e.g.
    ``inbound.message.received.{tenant_id}.{channel}.{contact_key}``."""
    event_type = event if isinstance(event, str) else event.EVENT_TYPE
    return subjects.subject_pattern(event_type)


#: Pattern tokens that an event holds under another field name.
_TOKEN_FIELDS: Final[Mapping[str, str]] = MappingProxyType({"durable_name": "consumer"})


def subject_of(event: Event) -> str:
    """The subject ``event`` is published on, from its own fields.

    Raises :class:`ValueError` when a token field is empty (e.g. a status update
    whose recipient, hence ``contact_key``, a provider did not send).
    """
    tokens: dict[str, str] = {}
    for name in subjects.pattern_params(subject_pattern(type(event))):
        value = getattr(event, _TOKEN_FIELDS.get(name, name), None)
        if value is None:
            raise ValueError(f"{event.event_type} event has no {name} for its subject")
        tokens[name] = str(value)
    return subjects.subject(event.event_type, **tokens)


def model_for(event_type: str) -> type[Event]:
    """The model of ``event_type``; :class:`UnknownEventType` when there is none."""
    try:
        return ALL_EVENTS[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


class UnknownEventType(ValueError):
    """A message names an ``event_type`` no contract defines."""

    def __init__(self, event_type: object) -> None:
        super().__init__(f"unknown event_type {event_type!r}")
        self.event_type = event_type


class _TypeProbe(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event_type: str


def parse_event(data: bytes | str) -> Event:
    """Decode a JSON message into the model its ``event_type`` names.

    Raises :class:`pydantic.ValidationError` for malformed JSON or a payload that
    breaks its contract, :class:`UnknownEventType` for a type nobody defined. Both
    are permanent failures: the consumer should dead-letter the message.
    """
    probe = _TypeProbe.model_validate_json(data)
    return model_for(probe.event_type).model_validate_json(data)
