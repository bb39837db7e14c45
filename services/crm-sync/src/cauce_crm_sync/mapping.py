"""Which Odoo model and fields each cauce record becomes.

A lead is one record of the contact model (default ``manychat.contact``), each lead
state change one record of the state model (default ``manychat.state``), with the
seed's field names. Both models and any field name can be changed by configuration
(``CAUCE_ODOO_CONTACT_MODEL``, ``CAUCE_ODOO_CONTACT_FIELDS='{"phone": "x_studio_phone"}'``...),
so custom ``x_`` models and Odoo Studio fields work; mapping a field to ``""`` leaves it
out. Values become what Odoo's ORM accepts: datetimes as ``"YYYY-MM-DD HH:MM:SS"`` UTC.

One Odoo database serves every tenant of a deployment: records are keyed in Odoo by
``manychat_id`` (map ``tenant_id`` to a field to keep tenants apart there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from cauce_crm_sync.odoo import Vals

#: Odoo's datetime wire format (always UTC, no offset).
ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"

Kind = Literal["contact", "state"]

CONTACT_FIELDS: tuple[str, ...] = (
    "manychat_id",
    "nombre_lead",
    "first_name",
    "last_name",
    "phone",
    "email",
    "contact_id",
    "ultimo_estado",
    "datetime_actual",
    "campaign_id",
    "comercial_id",
    "tipo_asignacion",
    "assigned_at",
    "state_changed_at",
)
STATE_FIELDS: tuple[str, ...] = (
    "manychat_id",
    "event_id",
    "state",
    "previous_state",
    "changed_at",
    "source",
)
#: Fields crm-sync knows but sends only when mapped explicitly.
OPTIONAL_FIELDS: tuple[str, ...] = ("tenant_id",)
#: The field identifying a record in Odoo, per kind (looked up before a retried create).
KEY_FIELD: dict[Kind, str] = {"contact": "manychat_id", "state": "event_id"}


def to_odoo_value(value: Any) -> Any:
    """A Python value as Odoo's ORM takes it (datetimes as UTC strings)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(ODOO_DATETIME)
    return value


@dataclass(frozen=True)
class ModelMapping:
    """One cauce record kind -> one Odoo model."""

    model: str
    #: cauce field -> Odoo field, for every field sent.
    fields: Mapping[str, str]

    @classmethod
    def build(cls, model: str, known: tuple[str, ...], renames: Mapping[str, str]) -> ModelMapping:
        unknown = sorted(set(renames) - set(known) - set(OPTIONAL_FIELDS))
        if unknown:
            raise ValueError(f"unknown cauce field(s) in the {model} mapping: {unknown}")
        names = {name: renames.get(name, name) for name in known}
        names.update({name: renames[name] for name in OPTIONAL_FIELDS if name in renames})
        return cls(model, {ours: theirs for ours, theirs in names.items() if theirs})

    def vals(self, record: Mapping[str, Any]) -> Vals:
        """Odoo vals of ``record`` (cauce names); unset values are left out."""
        return {
            theirs: to_odoo_value(record[ours])
            for ours, theirs in self.fields.items()
            if record.get(ours) is not None
        }

    def odoo_field(self, cauce_field: str) -> str:
        return self.fields[cauce_field]


@dataclass(frozen=True)
class OdooMapping:
    contact: ModelMapping
    state: ModelMapping
    by_kind: dict[Kind, ModelMapping] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_kind", {"contact": self.contact, "state": self.state})

    @classmethod
    def from_settings(
        cls,
        contact_model: str,
        state_model: str,
        contact_fields: Mapping[str, str],
        state_fields: Mapping[str, str],
    ) -> OdooMapping:
        return cls(
            ModelMapping.build(contact_model, CONTACT_FIELDS, contact_fields),
            ModelMapping.build(state_model, STATE_FIELDS, state_fields),
        )

    def key_field(self, kind: Kind) -> str:
        """The Odoo field holding the record's cauce key (``manychat_id``/``event_id``)."""
        return self.by_kind[kind].odoo_field(KEY_FIELD[kind])


Owner = Literal["cauce", "shared", "odoo"]
#: The contact fields both sides may set, each with cauce's own timestamp of its value:
#: the newer change wins, that timestamp against Odoo's ``write_date``.
SHAREABLE: dict[str, str] = {"ultimo_estado": "state_changed_at", "comercial_id": "assigned_at"}


@dataclass(frozen=True)
class ContactOwnership:
    """Who owns each field of the contact model.

    - **cauce**: what ManyChat and the bot know (name, phone, e-mail, campaign, the
      timestamps): an edit in Odoo is repaired;
    - **shared** (by default ``ultimo_estado`` and the advisor ``comercial_id``): set
      by both sides, the newer change wins;
    - **odoo**: what sales people decide, fields cauce does not send (a stage, notes,
      tags, any ``x_`` field the operator lists by its Odoo name): taken from Odoo and
      kept beside the lead, never written back.
    """

    #: Shared cauce fields -> their cauce timestamp field.
    shared: Mapping[str, str]
    #: Odoo field names owned by Odoo.
    odoo_fields: tuple[str, ...] = ()

    @classmethod
    def build(cls, shared: list[str], odoo_fields: list[str]) -> ContactOwnership:
        unknown = sorted(set(shared) - set(SHAREABLE))
        if unknown:
            allowed = ", ".join(sorted(SHAREABLE))
            raise ValueError(f"only {allowed} can be shared, not {unknown}")
        return cls({name: SHAREABLE[name] for name in shared}, tuple(dict.fromkeys(odoo_fields)))

    def owner(self, cauce_field: str) -> Owner:
        return "shared" if cauce_field in self.shared else "cauce"


def changed_vals(current: Vals, synced: Mapping[str, Any] | None) -> Vals:
    """The part of ``current`` that differs from what Odoo was last sent.

    A field set before and unset now is sent as ``False`` (Odoo's empty value).
    """
    if synced is None:
        return dict(current)
    diff = {name: value for name, value in current.items() if synced.get(name) != value}
    diff.update({name: False for name in synced if name not in current})
    return diff
