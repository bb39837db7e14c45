"""Appointments on a chat (the seed's ``Appointment``): an agent books one, and the
customer gets a reminder template before it (``CAUCE_APPOINTMENT_REMINDER_TEMPLATE``,
``CAUCE_APPOINTMENT_REMINDER_LEAD_S`` ahead).

The reminder goes once however many replicas run: its request's event id is derived
from the appointment's id, so two replicas that both send it publish the same request,
which JetStream and the notifier's idempotency turn into one message; the appointment
is then marked reminded.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.collection import AsyncCollection

from cauce_contracts.envelope import stable_event_id, utc_now
from cauce_contracts.outbound import (
    OutboundMessageRequested,
    TemplateComponent,
    TemplateContent,
    TextParameter,
)
from cauce_contracts.registry import subject_of
from cauce_conversation.model import Conversation
from cauce_conversation.store import ConversationStore
from cauce_conversation.store.documents import (
    Document,
    from_document,
    server_now,
    stored_form,
    to_document,
)
from cauce_conversation.store.errors import unavailable_as_transient
from cauce_runtime import BackgroundTask, Publisher, every

logger = logging.getLogger(__name__)


class ReminderTemplate(BaseModel):
    """An approved template taking the customer's name, the date and the time (the
    sandbox's ``recordatorio_cita``: header ``{{1}}`` date; body name, date, time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")


class Appointment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    chat_id: str
    at: datetime
    note: str | None = None
    created_by: str
    remind_at: datetime
    reminder: Literal["pending", "sent", "none"] = "pending"
    cancelled: bool = False
    created_at: datetime = Field(default_factory=utc_now)


class Appointments:
    def __init__(self, store: ConversationStore) -> None:
        self._db = store.database
        self._appointments: AsyncCollection[Document] = store.database.get_collection(
            "appointments"
        )

    async def book(self, appointment: Appointment) -> Appointment:
        stored = stored_form(appointment)
        with unavailable_as_transient("book appointment"):
            await self._appointments.insert_one(to_document(stored))
        return stored

    async def of_chat(self, tenant_id: str, chat_id: str) -> list[Appointment]:
        with unavailable_as_transient("list appointments"):
            documents = await self._appointments.find(
                {"tenant_id": tenant_id, "chat_id": chat_id}
            ).to_list()
        return sorted((from_document(Appointment, d) for d in documents), key=lambda a: a.at)

    async def get(self, tenant_id: str, appointment_id: str) -> Appointment | None:
        with unavailable_as_transient("get appointment"):
            document = await self._appointments.find_one(
                {"_id": appointment_id, "tenant_id": tenant_id}
            )
        return None if document is None else from_document(Appointment, document)

    async def cancel(self, tenant_id: str, appointment_id: str) -> bool:
        with unavailable_as_transient("cancel appointment"):
            result = await self._appointments.update_one(
                {"_id": appointment_id, "tenant_id": tenant_id}, {"$set": {"cancelled": True}}
            )
        return result.matched_count == 1

    async def due(self, limit: int = 100) -> list[Appointment]:
        """Reminders whose time has come by the database server's clock
        (:func:`~cauce_conversation.store.documents.server_now`)."""
        with unavailable_as_transient("due reminders"):
            now = await server_now(self._db)
            documents = (
                await self._appointments.find(
                    {"reminder": "pending", "cancelled": False, "remind_at": {"$lte": now}}
                )
                .limit(limit)
                .to_list()
            )
        return [from_document(Appointment, d) for d in documents]

    async def mark_reminded(self, appointment_id: str) -> None:
        with unavailable_as_transient("mark reminded"):
            await self._appointments.update_one(
                {"_id": appointment_id}, {"$set": {"reminder": "sent"}}
            )


def new_appointment(
    tenant_id: str, chat_id: str, at: datetime, note: str | None, by: str, lead: timedelta
) -> Appointment:
    return Appointment(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        chat_id=chat_id,
        at=at,
        note=note,
        created_by=by,
        remind_at=max(utc_now(), at - lead),
    )


def reminder_request(
    appointment: Appointment, conversation: Conversation, template: ReminderTemplate, zone: ZoneInfo
) -> OutboundMessageRequested:
    """The reminder's send request; its event id is the appointment's, so it is one."""
    local = appointment.at.astimezone(zone)
    day, time = local.strftime("%d/%m/%Y"), local.strftime("%H:%M")
    name = conversation.profile_name or "cliente"

    def texts(*values: str) -> list[TextParameter]:
        return [TextParameter(text=value) for value in values]

    return OutboundMessageRequested(
        event_id=stable_event_id("appointment.reminder", appointment.id),
        tenant_id=conversation.tenant_id,
        correlation_id=f"appointment:{appointment.id}",
        channel=conversation.channel,
        contact_key=conversation.contact_key,
        channel_account_id=conversation.channel_account_id,
        recipient=conversation.contact_address,
        content=TemplateContent(
            name=template.name,
            language=template.language,
            components=[
                TemplateComponent(type="header", parameters=texts(day)),
                TemplateComponent(type="body", parameters=texts(name, day, time)),
            ],
        ),
    )


class Reminders:
    """Sends the reminders whose time has come (every replica polls)."""

    def __init__(
        self,
        appointments: Appointments,
        store: ConversationStore,
        bus: Publisher,
        template: ReminderTemplate | None,
        zone: ZoneInfo,
        *,
        poll_s: float = 5.0,
    ) -> None:
        self.appointments = appointments
        self.store = store
        self.bus = bus
        self.template = template
        self.zone = zone
        self.poll_s = poll_s
        self._task = BackgroundTask("appointment-reminders")

    async def start(self) -> None:
        self._task.start(every(self.poll_s, self.send_due, "appointment reminders"))

    async def stop(self) -> None:
        await self._task.stop()

    async def send_due(self) -> int:
        """Send the reminders due now; how many this replica published."""
        if self.template is None:
            return 0
        sent = 0
        for appointment in await self.appointments.due():
            conversation = await self.store.get(appointment.chat_id)
            if conversation is None:
                continue
            request = reminder_request(appointment, conversation, self.template, self.zone)
            await self.bus.publish(request, subject_of(request))
            await self.appointments.mark_reminded(appointment.id)
            sent += 1
            logger.info("appointment %s reminded", appointment.id)
        return sent
