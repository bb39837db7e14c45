"""Dead letters: messages a consumer gave up on, with why.

A message that fails for good (bad data) or runs out of deliveries is terminated and
a :class:`DeadLettered` record is published on ``dlq.{stream}.{durable_name}``. The
record carries the original subject, headers and bytes, so an operator can inspect
it and republish it unchanged. The same facts are repeated in the ``Cauce-Dlq-*``
headers below so tools can filter without decoding the body.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Final, Self

from pydantic import Field, StringConstraints, field_validator

from cauce_contracts import subjects
from cauce_contracts.envelope import SYSTEM_TENANT_ID, Event, stable_event_id
from cauce_contracts.fields import LongText, ShortText, SubjectToken

#: Header names set on a DLQ copy.
HEADER_REASON: Final = "Cauce-Dlq-Reason"
HEADER_ERROR_TYPE: Final = "Cauce-Dlq-Error-Type"
HEADER_ORIGINAL_SUBJECT: Final = "Cauce-Dlq-Original-Subject"
HEADER_ORIGINAL_STREAM: Final = "Cauce-Dlq-Original-Stream"
HEADER_CONSUMER: Final = "Cauce-Dlq-Consumer"
HEADER_DELIVERY_COUNT: Final = "Cauce-Dlq-Delivery-Count"
HEADER_STREAM_SEQUENCE: Final = "Cauce-Dlq-Stream-Sequence"

DLQ_HEADERS: Final = (
    HEADER_REASON,
    HEADER_ERROR_TYPE,
    HEADER_ORIGINAL_SUBJECT,
    HEADER_ORIGINAL_STREAM,
    HEADER_CONSUMER,
    HEADER_DELIVERY_COUNT,
    HEADER_STREAM_SEQUENCE,
)

#: ``reason`` of a message whose deliveries ran out (from the max-deliveries advisory).
REASON_MAX_DELIVERIES: Final = "max_deliveries_exceeded"

#: At most this many bytes of the original are kept (JetStream's default max payload
#: is 1 MiB; base64 grows it by a third).
MAX_ORIGINAL_PAYLOAD: Final = 700_000

HeaderName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
HeaderValue = Annotated[str, StringConstraints(max_length=8192)]


class DeadLettered(Event):
    """A message was terminated by a consumer and set aside."""

    EVENT_TYPE = subjects.DLQ_DEAD_LETTERED

    original_subject: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    stream: SubjectToken
    consumer: SubjectToken
    stream_sequence: int = Field(ge=1)
    delivery_count: int = Field(ge=1)
    #: Why it was given up on, human-readable (or :data:`REASON_MAX_DELIVERIES`).
    reason: LongText
    #: The exception class name, e.g. ``ValidationError``.
    error_type: ShortText
    original_headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    #: The original message bytes, standard base64.
    original_payload_b64: str
    #: True when the original was longer than :data:`MAX_ORIGINAL_PAYLOAD` and cut.
    original_truncated: bool = False
    #: Envelope of the original, when it could be decoded.
    original_event_id: uuid.UUID | None = None
    original_event_type: ShortText | None = None

    @field_validator("original_payload_b64")
    @classmethod
    def _valid_base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"original_payload_b64 is not base64: {error}") from None
        return value

    @property
    def original_payload(self) -> bytes:
        """The original message bytes."""
        return base64.b64decode(self.original_payload_b64)

    @classmethod
    def for_message(
        cls,
        *,
        payload: bytes,
        original_subject: str,
        stream: str,
        consumer: str,
        stream_sequence: int,
        delivery_count: int,
        reason: str,
        error_type: str,
        headers: dict[str, str] | None = None,
        tenant_id: str = SYSTEM_TENANT_ID,
        correlation_id: str | None = None,
        original_event_id: uuid.UUID | None = None,
        original_event_type: str | None = None,
    ) -> Self:
        """Build a record from a raw message, truncating an oversized payload.

        The record's ``event_id`` is stable for (stream, sequence, consumer), so
        dead-lettering the same delivery twice yields one DLQ entry.
        """
        truncated = len(payload) > MAX_ORIGINAL_PAYLOAD
        kept = payload[:MAX_ORIGINAL_PAYLOAD]
        return cls(
            event_id=stable_event_id("dlq", stream, str(stream_sequence), consumer),
            tenant_id=tenant_id,
            correlation_id=correlation_id or str(original_event_id or uuid.uuid4()),
            causation_id=str(original_event_id) if original_event_id else None,
            original_subject=original_subject,
            stream=stream,
            consumer=consumer,
            stream_sequence=stream_sequence,
            delivery_count=delivery_count,
            reason=reason[:4096] or "unknown",
            error_type=error_type[:256] or "unknown",
            original_headers=dict(headers or {}),
            original_payload_b64=base64.b64encode(kept).decode("ascii"),
            original_truncated=truncated,
            original_event_id=original_event_id,
            original_event_type=original_event_type,
        )

    def dlq_headers(self) -> dict[str, str]:
        """The ``Cauce-Dlq-*`` headers for publishing this record.

        Header values cannot hold line breaks, so the reason is flattened and cut.
        """
        return {
            HEADER_REASON: " ".join(self.reason.split())[:512],
            HEADER_ERROR_TYPE: self.error_type,
            HEADER_ORIGINAL_SUBJECT: self.original_subject,
            HEADER_ORIGINAL_STREAM: self.stream,
            HEADER_CONSUMER: self.consumer,
            HEADER_DELIVERY_COUNT: str(self.delivery_count),
            HEADER_STREAM_SEQUENCE: str(self.stream_sequence),
        }

    def subject(self) -> str:
        """``dlq.{stream}.{consumer}``."""
        return subjects.dlq(self.stream, self.consumer)
