"""The envelope every cauce event carries.

An event is a pydantic model whose class names its ``event_type`` (the subject prefix
it travels on, in the past tense: ``inbound.message.received``) and whose fields are
the envelope plus the event's own payload. Unknown fields are rejected so a producer
that drifts from the contract fails loudly instead of being half-read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

#: Namespace for deterministic event ids (uuid5) derived from provider ids, so the
#: same webhook delivered twice yields the same ``event_id``.
EVENT_ID_NAMESPACE = uuid.UUID("6f1d2c8e-3a55-4c1e-9a62-0c4a7f1d2b10")


def stable_event_id(*parts: str) -> uuid.UUID:
    """A uuid5 over ``parts``: stable across retries of the same source fact."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join(parts))


#: ``tenant_id`` of events that belong to no tenant yet: a payload from an unknown
#: channel account, or a dead letter whose original could not be decoded.
SYSTEM_TENANT_ID = "_system"

#: The token pattern every subject token and ``tenant_id`` obeys (no dots, no wildcards).
TOKEN_PATTERN = r"^[A-Za-z0-9_-]+$"  # noqa: S105 (a regex, not a password)


def utc_now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


class Contract(BaseModel):
    """Base for every payload model: strict about unknown fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Event(Contract):
    """Envelope fields shared by all events; subclasses pin ``event_type``."""

    #: The event's type, e.g. ``"inbound.message.received"``; set by each subclass.
    EVENT_TYPE: ClassVar[str] = ""
    #: Bumped on a breaking change of the payload; consumers may accept several.
    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    event_type: str = ""
    schema_version: int = 0
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
    tenant_id: str = Field(min_length=1, max_length=64, pattern=TOKEN_PATTERN)
    correlation_id: str = Field(min_length=1, max_length=128)
    causation_id: str | None = Field(default=None, max_length=128)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.EVENT_TYPE:
            # Pin the discriminating fields: default, and a ``const`` in the JSON schema
            # (AsyncAPI readers see exactly which type and version a message carries).
            event_type = cls.model_fields["event_type"]
            event_type.default = cls.EVENT_TYPE
            event_type.json_schema_extra = {"const": cls.EVENT_TYPE}
            schema_version = cls.model_fields["schema_version"]
            schema_version.default = cls.SCHEMA_VERSION
            schema_version.json_schema_extra = {"const": cls.SCHEMA_VERSION}
            cls.model_rebuild(force=True)

    @field_validator("event_type")
    @classmethod
    def _event_type_matches_class(cls, value: str) -> str:
        if cls.EVENT_TYPE and value != cls.EVENT_TYPE:
            raise ValueError(f"event_type must be {cls.EVENT_TYPE!r}, got {value!r}")
        return value

    @field_validator("schema_version")
    @classmethod
    def _schema_version_known(cls, value: int) -> int:
        if cls.EVENT_TYPE and value != cls.SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {value} is not supported (expected {cls.SCHEMA_VERSION})"
            )
        return value

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)
