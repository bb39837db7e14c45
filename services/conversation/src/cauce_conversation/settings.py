"""Conversation service configuration (``CAUCE_*``; secrets may be files in the secrets dir).

The ``dev-`` defaults let ``make run`` work out of the box; outside dev/test the runtime
refuses to start with them.
"""

from pydantic import Field, SecretStr

from cauce_conversation.appointments import ReminderTemplate
from cauce_conversation.assist.endpoints import DEFAULT_ENDPOINTS, AiEndpoint, ModelPrice
from cauce_conversation.flows import VehicleTaxCopy
from cauce_runtime.credentials import KeyRingSettings


class ConversationSettings(KeyRingSettings):
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
    #: The template reminding a customer of an appointment (name, language; it takes
    #: the date in its header and name, date, time in its body); None: no reminders.
    appointment_reminder_template: ReminderTemplate | None = None
    #: How long before an appointment its reminder goes.
    appointment_reminder_lead_s: float = Field(default=7200.0, gt=0)
    #: The zone an appointment's date and time are written in for the customer.
    appointment_timezone: str = "America/Bogota"
    #: Seconds between checks for reminders whose time has come.
    appointment_poll_s: float = Field(default=5.0, gt=0)
    #: An agent's reply after WhatsApp's 24-hour window is sent, for the notifier to
    #: deliver as its out-of-window template (set when the notifier has
    #: ``CAUCE_OUT_OF_WINDOW_TEMPLATE``); False refuses it with 409 instead.
    late_replies_as_template: bool = False
    #: Signs agents' links to customers' files (HMAC-SHA256; any long random string).
    media_link_key: SecretStr = SecretStr("dev-media-link-key")
    #: How long a link to a file works after the messages were read.
    media_link_ttl_s: int = Field(default=900, ge=10, le=7 * 24 * 3600)
    #: Agents' uploads larger than this are refused (413).
    media_upload_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    #: This service's address as WhatsApp and the BSPs reach it: they fetch the files
    #: agents send from ``{base}/api/media/...`` (None: media replies answer 409).
    media_public_base_url: str | None = None
    #: How long a provider may take to fetch a file an agent sent (retries included).
    media_provider_link_ttl_s: int = Field(default=24 * 3600, ge=60, le=7 * 24 * 3600)
    #: The model APIs companies may choose for AI assist, by name (JSON: ``{"gemini":
    #: {"kind": "gemini", "base_url": "...", "models": [...]}, "local": {"kind":
    #: "openai", "base_url": "http://llm:8000/v1", "key_required": false}}``).
    #: Companies pick a name, a model and their key; they never give a URL.
    ai_endpoints: dict[str, AiEndpoint] = Field(default_factory=lambda: dict(DEFAULT_ENDPOINTS))
    #: US dollars per million tokens by model name (JSON: ``{"gemini-2.5-flash":
    #: {"input_per_mtok": 0.3, "output_per_mtok": 2.5}}``); a model without a price
    #: records its tokens and an unknown cost.
    ai_prices: dict[str, ModelPrice] = Field(default_factory=dict)
    #: Seconds one call to a model may take.
    ai_timeout_s: float = Field(default=30.0, gt=0, le=300)
    #: Tries per generation when the model is busy or down (an agent is waiting).
    ai_attempts: int = Field(default=3, ge=1, le=5)
    #: The vehicle-tax assistant's texts (es-CO defaults); override any of them as JSON,
    #: e.g. ``CAUCE_BOT_COPY='{"greeting": "..."}'`` (see ``VehicleTaxCopy``).
    bot_copy: VehicleTaxCopy = Field(default_factory=VehicleTaxCopy)
