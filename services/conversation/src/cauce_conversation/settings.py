"""Conversation service configuration (``CAUCE_*``; secrets may be files in the secrets dir).

The ``dev-`` defaults let ``make run`` work out of the box; outside dev/test the runtime
refuses to start with them.
"""

from pydantic import Field

from cauce_conversation.flows import VehicleTaxCopy
from cauce_runtime import ServiceSettings


class ConversationSettings(ServiceSettings):
    service_name: str = "conversation"
    port: int = 8081
    mongodb_url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongodb_database: str = "cauce"
    #: A conversation whose customer has been silent this long starts over (greets
    #: again) at their next message; a human-held conversation never expires.
    idle_expiry_minutes: float = Field(default=120.0, gt=0)
    #: Seconds between checks for snoozed chats whose time has come (each replica
    #: checks; one wakes each chat).
    snooze_poll_s: float = Field(default=1.0, gt=0)
    #: Seconds between the assigner's passes over waiting chats (one replica at a time
    #: per company).
    assign_poll_s: float = Field(default=1.0, gt=0)
    #: The vehicle-tax assistant's texts (es-CO defaults); override any of them as JSON,
    #: e.g. ``CAUCE_BOT_COPY='{"greeting": "..."}'`` (see ``VehicleTaxCopy``).
    bot_copy: VehicleTaxCopy = Field(default_factory=VehicleTaxCopy)
