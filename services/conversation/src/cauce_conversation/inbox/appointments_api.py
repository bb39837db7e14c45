"""``/api/chats/appointments``: book an appointment on a chat, list a chat's, cancel one.
The customer gets the reminder template before it (:mod:`cauce_conversation.appointments`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints

from cauce_contracts.envelope import utc_now
from cauce_conversation.appointments import Appointment, Appointments, new_appointment
from cauce_conversation.bootstrap import ConversationDep
from cauce_conversation.inbox.scope import Reader, Replier
from cauce_conversation.inbox.unavailable import UNAVAILABLE_RESPONSE, unavailable_as_503
from cauce_conversation.inbox.writes import load


class Booking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    at: AwareDatetime
    note: Annotated[str, StringConstraints(max_length=1024)] | None = None


class AppointmentView(BaseModel):
    id: str
    chat_id: str
    at: datetime
    note: str | None
    created_by: str
    remind_at: datetime
    reminder: str
    cancelled: bool

    @classmethod
    def of(cls, appointment: Appointment) -> AppointmentView:
        return cls.model_validate(appointment.model_dump(include=set(cls.model_fields)))


router = APIRouter(
    prefix="/api/chats/appointments",
    tags=["appointments"],
    dependencies=[Depends(unavailable_as_503)],
    responses=UNAVAILABLE_RESPONSE,
)


@router.post("", status_code=201, response_model=AppointmentView)
async def book(service: ConversationDep, scope: Replier, body: Booking) -> AppointmentView:
    """An appointment with the chat's customer; the reminder template goes
    ``CAUCE_APPOINTMENT_REMINDER_LEAD_S`` before it (at once when that has passed)."""
    if body.at <= utc_now():
        raise HTTPException(422, "the appointment is in the past")
    conversation = await load(service.store, body.chat_id, scope)
    lead = timedelta(seconds=service.settings.appointment_reminder_lead_s)
    appointment = new_appointment(
        conversation.tenant_id, conversation.id, body.at, body.note, scope.caller.subject, lead
    )
    return AppointmentView.of(await Appointments(service.store).book(appointment))


@router.get("/{chat_id}", response_model=list[AppointmentView])
async def of_chat(service: ConversationDep, scope: Reader, chat_id: str) -> list[AppointmentView]:
    conversation = await load(service.store, chat_id, scope)
    booked = await Appointments(service.store).of_chat(conversation.tenant_id, conversation.id)
    return [AppointmentView.of(a) for a in booked]


@router.delete("/{appointment_id}", status_code=204)
async def cancel(service: ConversationDep, scope: Replier, appointment_id: str) -> Response:
    """Cancel it (its reminder is not sent): an appointment on a chat the caller may see
    (another company's, or a chat outside an agent's scope, is a 404)."""
    appointments = Appointments(service.store)
    company = scope.caller.company_id
    appointment = await appointments.get(company, appointment_id)
    if appointment is None:
        raise HTTPException(404, "no such appointment")
    await load(service.store, appointment.chat_id, scope)
    await appointments.cancel(company, appointment_id)
    return Response(status_code=204)
