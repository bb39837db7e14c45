"""Conversation service bootstrap: one place that wires store, bus, flow and consumers.

Customer messages and payments' answers drive the bot (:mod:`cauce_conversation.turns`);
the inbox API (:mod:`cauce_conversation.inbox`) lets agents read, assign and answer.
What they share is built once, in :class:`~cauce_conversation.bootstrap.ConversationService`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import FastAPI

from cauce_contracts.identity import COMPANY_SETTINGS_BUCKET
from cauce_conversation import inbox
from cauce_conversation.appointments import Appointments, Reminders
from cauce_conversation.assignment import routes as assignment_routes
from cauce_conversation.assignment.assigner import Assigner
from cauce_conversation.assist import routes as assist_routes
from cauce_conversation.assist import settings_routes as assist_settings_routes
from cauce_conversation.assist.after_resolve import ResolvedChats
from cauce_conversation.bootstrap import ConversationService
from cauce_conversation.consumers import register_consumers
from cauce_conversation.customer_files import CustomerFiles
from cauce_conversation.deliveries import Deliveries
from cauce_conversation.flows.vocabulary import Flow
from cauce_conversation.settings import ConversationSettings
from cauce_conversation.snoozes import SnoozeWaker
from cauce_runtime import create_service_app
from cauce_runtime.bus import BucketFollower
from cauce_runtime.identity import TokenVerifier


def create_app(
    settings: ConversationSettings | None = None, *, flow: Flow | None = None
) -> FastAPI:
    settings = settings or ConversationSettings()
    service = ConversationService.build(settings, flow=flow)
    register_consumers(
        service.bus,
        service.turns,
        deliveries=Deliveries(service.store, service.feed),
        files=CustomerFiles(service.store, service.feed),
        resolved=ResolvedChats(service.assist),
    )
    # each company's bot, as its admins set it in the identity service (live)
    bots = BucketFollower(service.bus, COMPANY_SETTINGS_BUCKET, service.turns.bots.apply)
    waker = SnoozeWaker(service.store, poll_s=settings.snooze_poll_s, feed=service.feed)
    reminders = Reminders(
        Appointments(service.store),
        service.store,
        service.bus,
        settings.appointment_reminder_template,
        ZoneInfo(settings.appointment_timezone),
        poll_s=settings.appointment_poll_s,
    )
    assigner = Assigner.for_replica(service.store, poll_s=settings.assign_poll_s, feed=service.feed)
    return create_service_app(
        settings,
        bus=service.bus,
        wiring=service,
        verifier=TokenVerifier.for_service(settings),
        readiness={"mongodb": service.store.ping},
        routers=[
            inbox.router,
            inbox.chats_router,
            inbox.quick_replies_router,
            inbox.appointments_router,
            inbox.media_router,
            inbox.uploads_router,
            assist_settings_routes.router,
            assist_routes.router,
            assignment_routes.router,
        ],
        on_prepare=[service.open],
        on_startup=[bots.start, waker.start, assigner.start, reminders.start],
        on_shutdown=[reminders.stop, assigner.stop, waker.stop, bots.stop],
        on_closed=[service.close],
        title="cauce conversation",
        description="Conversation state, bot flows (MongoDB) and the agents' inbox API.",
    )
