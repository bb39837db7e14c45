"""CRM events: ManyChat leads, their campaign assignments and lead states.

Field names follow ManyChat's webhook bodies (``nombre_lead``, ``datetime_actual``,
``ultimo_estado``...) because crm-sync writes them unchanged to Odoo's
``manychat.contact`` / ``manychat.state`` models and to PostgreSQL.
Subjects: ``crm.<event>.{tenant_id}.{manychat_id}``, so one lead's events stay in order.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from cauce_contracts import subjects
from cauce_contracts.envelope import Event
from cauce_contracts.fields import PhoneAddress, ShortText, SubjectToken

#: A deliberately loose e-mail check (one ``@``, a dot in the domain): ManyChat already
#: validated it, and rejecting a lead over an exotic address would lose the lead.
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class ContactUpserted(Event):
    """A ManyChat contact was created or updated."""

    EVENT_TYPE = subjects.CRM_CONTACT_UPSERTED

    manychat_id: SubjectToken
    nombre_lead: ShortText
    #: When ManyChat recorded the interaction (the seed's ``datetime_actual``).
    datetime_actual: AwareDatetime
    ultimo_estado: ShortText | None = None
    #: ManyChat's ``id`` field (page-scoped id), when sent.
    contact_id: ShortText | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    phone: PhoneAddress | None = None
    email: Email | None = None


class CampaignAssigned(Event):
    """A lead was assigned to a campaign and a sales agent (comercial)."""

    EVENT_TYPE = subjects.CRM_CAMPAIGN_ASSIGNED

    manychat_id: SubjectToken
    campaign_id: ShortText
    comercial_id: ShortText
    datetime_actual: AwareDatetime
    ultimo_estado: ShortText
    #: How the assignment was made, e.g. ``"Automatica"`` or ``"Manual"``.
    tipo_asignacion: ShortText


class LeadStateChanged(Event):
    """A lead moved to another state (``manychat.state`` in Odoo).

    A lead the bot met first (``source="conversation"``) has no ManyChat id: its
    ``manychat_id`` is then the conversation's ``contact_key`` (never the phone number).
    """

    EVENT_TYPE = subjects.CRM_LEAD_STATE_CHANGED

    manychat_id: SubjectToken
    previous_state: ShortText | None = None
    new_state: ShortText
    changed_at: AwareDatetime
    #: Who changed it: the ManyChat flow, Odoo, the bot (conversation) or a human agent.
    source: Literal["manychat", "odoo", "conversation", "agent"]


#: A value of an Odoo field as its webhook sends it: scalars, a many2one ``[id, name]``,
#: or the ids of an x2many.
OdooValue = str | int | float | bool | None | list[int | str]
OdooFieldName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]


class OdooRecordChanged(Event):
    """A record changed in Odoo, as Odoo's automation rule ("Send Webhook Notification")
    posted it: the model, the record's id and the fields the rule sends (Odoo's names),
    with ``write_date`` when the rule includes it. crm-sync applies it by field owner.

    Subject: ``crm.odoo.record_changed.{tenant_id}``.
    """

    EVENT_TYPE = subjects.CRM_ODOO_RECORD_CHANGED

    model: Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_.]{0,127}$")]
    odoo_id: Annotated[int, Field(gt=0)]
    values: Annotated[dict[OdooFieldName, OdooValue], Field(max_length=200)]
    #: Odoo's ``write_date`` of the record (None: the rule did not send it).
    write_date: AwareDatetime | None = None
