"""What the notifier announces about a requested message once its outcome is known:
``outbound.message.sent`` or ``outbound.message.failed``, each with the matching step on
``outbound.message.status_changed``.

Both the send path (:mod:`cauce_notifier.delivery`) and the status tracker (a status
webhook that names a request whose send was never recorded, :mod:`cauce_notifier.statuses`)
announce a send; the message ids make the two announcements one (JetStream keeps the
first of ``sent:<request>`` and ``status:<request>:sent``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cauce_contracts.outbound import (
    OutboundMessageFailed,
    OutboundMessageRequested,
    OutboundMessageSent,
    OutboundStatusChanged,
)
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel
from cauce_notifier.store.messages import RecordedSend
from cauce_runtime import Publication, Publisher


@dataclass(frozen=True)
class Request:
    """The request an outcome is about: the envelope and routing fields every outcome
    event of it carries."""

    request_id: uuid.UUID
    tenant_id: str
    correlation_id: str
    channel: Channel
    contact_key: str
    channel_account_id: str
    campaign_id: str | None

    @classmethod
    def of_event(cls, event: OutboundMessageRequested) -> Request:
        return cls(
            request_id=event.event_id,
            tenant_id=event.tenant_id,
            correlation_id=event.correlation_id,
            channel=event.channel,
            contact_key=event.contact_key,
            channel_account_id=event.channel_account_id,
            campaign_id=event.campaign_id,
        )

    @classmethod
    def of_record(cls, record: RecordedSend) -> Request:
        return cls(
            request_id=record.request_event_id,
            tenant_id=record.tenant_id,
            correlation_id=record.correlation_id or str(record.request_event_id),
            channel=Channel(record.channel),
            contact_key=record.contact_key,
            channel_account_id=record.channel_account_id,
            campaign_id=record.campaign_id,
        )

    def envelope(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "correlation_id": self.correlation_id,
            "causation_id": str(self.request_id),
            "channel": self.channel,
            "contact_key": self.contact_key,
            "channel_account_id": self.channel_account_id,
            "request_id": self.request_id,
        }


@dataclass(frozen=True)
class Failure:
    """Why a message will not be delivered, as published on ``outbound.message.failed``."""

    title: str
    code: str | None = None
    detail: str | None = None
    retryable: bool = False


async def announce_sent(bus: Publisher, request: Request, provider_message_id: str) -> None:
    """The provider has the message as ``provider_message_id``."""
    sent = OutboundMessageSent(
        **request.envelope(),
        campaign_id=request.campaign_id,
        provider_message_id=provider_message_id,
    )
    status = _status(request, "sent", datetime.now(UTC), None, provider_message_id)
    await bus.publish_batch(
        [Publication(sent, subject_of(sent), f"sent:{request.request_id}"), status]
    )


async def announce_failed(bus: Publisher, request: Request, failure: Failure, at: datetime) -> None:
    """The message will not be delivered, for ``failure``."""
    failed = OutboundMessageFailed(
        **request.envelope(),
        campaign_id=request.campaign_id,
        provider_code=failure.code,
        title=failure.title[:256],
        detail=failure.detail,
        retryable=failure.retryable,
    )
    await bus.publish_batch(
        [
            Publication(failed, subject_of(failed), f"failed:{request.request_id}"),
            _status(request, "failed", at, failure),
        ]
    )


def _status(
    request: Request,
    status: str,
    at: datetime,
    failure: Failure | None,
    provider_message_id: str | None = None,
) -> Publication:
    """The step on ``outbound.message.status_changed`` that goes with an outcome (published
    in one batch with it: both land, or the caller's retry publishes both again)."""
    changed = OutboundStatusChanged(
        **request.envelope(),
        provider_message_id=provider_message_id or f"request:{request.request_id}",
        status=status,
        status_at=at,
        error_code=failure.code if failure else None,
        error_title=failure.title[:256] if failure else None,
    )
    return Publication(changed, subject_of(changed), f"status:{request.request_id}:{status}")
