"""Models to MongoDB documents and back: ``_id`` is the model's ``id``.

BSON datetimes keep milliseconds, in UTC. Datetimes are cut to milliseconds before
they are written, so the model a write returns equals what a later read gives back
(and a keyset cursor made from either finds the same position).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase

from cauce_contracts.envelope import utc_now

M = TypeVar("M", bound=BaseModel)

Document = dict[str, Any]


def bson_time(value: datetime) -> datetime:
    """``value`` as BSON will store it: UTC (naive means UTC), whole milliseconds."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.replace(microsecond=aware.microsecond // 1000 * 1000)


def now_ms() -> datetime:
    """The current instant as BSON stores it."""
    return bson_time(utc_now())


async def server_now(db: AsyncDatabase[Document]) -> datetime:
    """The database server's clock (``hello``'s ``localTime``), as BSON stores it.

    What schedules and leases compare with: replicas then agree on "now", and one whose
    own clock jumps (a VM resumed, NTP stepping it) neither fires work early nor takes
    a lease another replica holds. (Not ``$expr`` with ``$$NOW``: the SecantusDB
    stand-in compares dates wrongly there.)"""
    hello = await db.command("hello")
    return bson_time(hello["localTime"])


def stored_form(model: M) -> M:
    """``model`` with its top-level datetimes as BSON will give them back."""
    changes = {
        name: bson_time(value)
        for name, value in model.__dict__.items()
        if isinstance(value, datetime)
    }
    return model.model_copy(update=changes) if changes else model


def to_document(model: BaseModel) -> Document:
    document = model.model_dump(mode="python")
    document["_id"] = document.pop("id")
    return document


def from_document(model: type[M], document: Document) -> M:
    fields = dict(document)
    fields["id"] = fields.pop("_id")
    return model.model_validate(fields)
