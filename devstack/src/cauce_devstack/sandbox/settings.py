"""Sandbox configuration: ``CAUCE_SANDBOX_*`` environment variables.

Every default here is a DEV-ONLY value, published in this file on purpose: the sandbox
fakes providers on a developer machine and must never hold a real credential.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cauce_devstack.sandbox.meta.messaging_limits import check_tier
from cauce_devstack.sandbox.meta.templates import DEFAULT_TEMPLATES, KnownTemplate
from cauce_devstack.sandbox.odoo.records import OdooField, default_models

DEV_PHONE_NUMBER_ID = "100000000000001"
"""Dev-only Meta phone_number_id of the sandbox's one business number."""
DEV_DISPLAY_PHONE_NUMBER = "15550000001"
"""Dev-only display number of that business number."""
DEV_WABA_ID = "200000000000001"
"""Dev-only WhatsApp Business Account id (``entry[].id`` in webhooks)."""
DEV_BUSINESS_ID = "300000000000001"
"""Dev-only business portfolio id (owns the WABAs; messaging limits are per portfolio)."""
DEV_GRAPH_TOKEN = "dev-only-graph-token"  # noqa: S105 - published dev-only value
DEV_APP_SECRET = "dev-meta-app-secret"  # the gateway's dev default  # noqa: S105 - published dev-only value
DEV_CHATTIGO_USERNAME = "dev-bot@chattigo.local"
"""Dev-only Chattigo login the fake accepts."""
DEV_CHATTIGO_PASSWORD = "dev-only-chattigo-password"  # noqa: S105 - published dev-only value
DEV_YCLOUD_API_KEY = "dev-only-ycloud-api-key"
DEV_GEMINI_API_KEY = "dev-only-gemini-api-key"
DEV_OPENAI_API_KEY = "dev-only-openai-api-key"
"""Dev-only YCloud ``X-API-Key`` the fake accepts."""
DEV_SCI_USERNAME = "dev-sci-user"
"""Dev-only SCI TOTAL ``Username`` the fake accepts."""
DEV_SCI_PASSWORD = "dev-only-sci-password"  # noqa: S105 - published dev-only value
DEV_SCI_ID_PARAMETRO = "1"
"""Dev-only SCI ``idParametro`` (the collecting entity's configuration)."""
DEV_SCI_ID_CLIENTE = "127"
"""Dev-only SCI ``idCliente`` (prefix of payment references: ``127-...``)."""
DEV_SCI_WEBHOOK_SECRET = "dev-only-sci-webhook-secret"  # noqa: S105 - published dev-only value
DEV_ODOO_DB = "cauce"
"""Dev-only Odoo database name the fake serves."""
DEV_ODOO_LOGIN = "dev-odoo-bot"
"""Dev-only Odoo login (JSON-RPC ``common.authenticate``) the fake accepts."""
DEV_ODOO_PASSWORD = "dev-only-odoo-password"  # noqa: S105 - published dev-only value
DEV_ODOO_API_KEY = "dev-only-odoo-api-key"
"""Dev-only Odoo API key: JSON-2 bearer, and accepted as the JSON-RPC password."""
DEV_ODOO_UID = 2
"""The uid the fake's one user has (``common.authenticate``'s answer)."""


class SandboxSettings(BaseSettings):
    """Settings of the provider sandbox.

    ``graph_tokens`` maps a phone_number_id to the bearer token the fake Graph API
    accepts for it; set it as JSON, e.g.
    ``CAUCE_SANDBOX_GRAPH_TOKENS='{"123": "token-a", "456": "token-b"}'``.
    """

    model_config = SettingsConfigDict(env_prefix="CAUCE_SANDBOX_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8090
    #: One log line per request; benchmarks turn it off (it costs the CPU they measure).
    access_log: bool = True
    gateway_url: str = "http://127.0.0.1:8080"
    app_secret: SecretStr = SecretStr(DEV_APP_SECRET)
    graph_tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: {DEV_PHONE_NUMBER_ID: SecretStr(DEV_GRAPH_TOKEN)}
    )
    default_phone_number_id: str = DEV_PHONE_NUMBER_ID
    default_display_phone_number: str = DEV_DISPLAY_PHONE_NUMBER
    waba_id: str = DEV_WABA_ID
    """The WhatsApp Business Account of every number not in ``phone_number_wabas``."""
    phone_number_wabas: dict[str, str] = Field(default_factory=dict)
    """phone_number_id -> the WABA owning it, JSON: ``{"456": "200000000000002"}``."""
    business_id: str = DEV_BUSINESS_ID
    """The business portfolio of every WABA not in ``waba_businesses``."""
    waba_businesses: dict[str, str] = Field(default_factory=dict)
    """WABA id -> the business portfolio owning it."""
    gateway_timeout_s: float = 10.0
    drop_hold_s: float = 60.0
    """How long a ``drop`` fault holds a request before giving up on it."""

    # --- WhatsApp Graph fake: Meta's sending rules ---
    graph_latency_ms: float = Field(default=0.0, ge=0)
    """Base latency added to every Graph API request (faults add per-request latency)."""
    graph_latency_jitter_ms: float = Field(default=0.0, ge=0)
    """Extra uniformly random latency, 0..this, on top of ``graph_latency_ms``."""
    graph_rate_limit_per_second: float = Field(default=80.0, gt=0)
    """Messages/second per phone_number_id (sliding 1 s window); beyond it 130429."""
    graph_rate_limits: dict[str, float] = Field(default_factory=dict)
    """Per phone_number_id overrides of the limit, JSON: ``{"123": 500}``."""
    graph_rate_limit_enforced: bool = True
    """Off: every send is accepted (the sandbox still measures the rate)."""
    graph_templates: list[KnownTemplate] = Field(default_factory=lambda: list(DEFAULT_TEMPLATES))
    """Templates of the default WABA (``waba_id``), in Meta's shape or as name, language,
    category and parameter counts (see ``meta/templates.py``)."""
    graph_waba_templates: dict[str, list[KnownTemplate]] = Field(default_factory=dict)
    """WABA id -> its templates, for other WABAs (naming ``waba_id`` replaces
    ``graph_templates``)."""
    graph_template_check: bool = True
    """Off: any template name/language/status/parameter count is accepted."""
    service_window_enforced: bool = True
    """Non-template messages outside the customer-service window answer 131047."""
    service_window_hours: float = Field(default=24.0, gt=0)
    messaging_limit: int | None = None
    """Each business portfolio's messaging limit: unique customers reached with templates
    outside their service window in a moving 24 h; one of Meta's tiers (250, 2000,
    10000, 100000; 50, 1000) or unset for unlimited. Never refused (Meta documents no
    error): sends beyond it are recorded (``/sandbox/meta/messaging-limit``)."""
    status_callbacks_enabled: bool = True
    """Post sent/delivered/read (or failed) status webhooks to the gateway."""
    status_sent_delay_s: float = Field(default=0.1, ge=0)
    """From acceptance to ``sent``; each next delay counts from the previous status."""
    status_delivered_delay_s: float = Field(default=0.3, ge=0)
    status_read_delay_s: float = Field(default=1.0, ge=0)
    status_read_enabled: bool = True
    status_failing_recipients: dict[str, int] = Field(default_factory=dict)
    """wa_id -> Meta error code: sends to them get one ``failed`` status (e.g. 131026)."""

    @field_validator("messaging_limit", mode="before")
    @classmethod
    def _unset_is_unlimited(cls, limit: object) -> object:
        return None if limit == "" else limit

    @field_validator("messaging_limit")
    @classmethod
    def _messaging_tier(cls, limit: int | None) -> int | None:
        return check_tier(limit)

    # --- Chattigo fake ---
    chattigo_users: dict[str, SecretStr] = Field(
        default_factory=lambda: {DEV_CHATTIGO_USERNAME: SecretStr(DEV_CHATTIGO_PASSWORD)}
    )
    """Chattigo logins (username -> password), JSON like ``graph_tokens``."""
    chattigo_token_ttl_s: float = Field(default=8 * 3600, ge=0)
    """Lifetime of a Chattigo JWT (the real one lives 8 h); 0 issues dead tokens."""

    # --- YCloud fake ---
    ycloud_api_keys: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr(DEV_YCLOUD_API_KEY)]
    )
    """Accepted ``X-API-Key`` values."""

    # --- model fakes (AI assist) ---
    gemini_api_keys: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr(DEV_GEMINI_API_KEY)]
    )
    """Accepted Gemini ``x-goog-api-key`` values."""
    openai_api_keys: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr(DEV_OPENAI_API_KEY)]
    )
    """Accepted OpenAI bearer keys (``/local-llm`` takes none)."""
    ycloud_sender_numbers: list[str] = Field(default_factory=list)
    """Business numbers (E.164) allowed as ``from``; empty accepts any."""

    # --- SCI TOTAL fake ---
    sci_username: str = DEV_SCI_USERNAME
    sci_password: SecretStr = SecretStr(DEV_SCI_PASSWORD)
    sci_id_parametro: str = DEV_SCI_ID_PARAMETRO
    """The only ``idParametro`` the fake knows; others answer 404."""
    sci_token_ttl_s: float = Field(default=3600.0, ge=0)
    """Lifetime of an SCI token (``expiresIn``); 0 issues dead tokens."""
    sci_first_transaction_id: int = Field(default=40037, ge=1)
    """Id of the first transaction. ``make run`` starts each sandbox at the current Unix
    time, so ids never repeat across restarts while payments and conversation keep their
    data."""
    sci_webhook_secret: SecretStr = SecretStr(DEV_SCI_WEBHOOK_SECRET)
    """HMAC-SHA256 key of ``X-SCI-Signature`` on status webhooks to the gateway."""
    sci_public_url: str | None = None
    """Base URL of the sandbox as the customer's browser reaches it, for payment links;
    ``None`` uses the URL the payments service called."""

    # --- Odoo fake (crm-sync) ---
    odoo_db: str = DEV_ODOO_DB
    """The one database the fake serves; others answer an error."""
    odoo_login: str = DEV_ODOO_LOGIN
    odoo_password: SecretStr = SecretStr(DEV_ODOO_PASSWORD)
    odoo_api_keys: list[SecretStr] = Field(default_factory=lambda: [SecretStr(DEV_ODOO_API_KEY)])
    """Accepted API keys: JSON-2 bearer keys, and JSON-RPC passwords as well."""
    odoo_uid: int = Field(default=DEV_ODOO_UID, ge=1)
    odoo_version: str = Field(default="17.0", pattern=r"^\d+\.\d+$")
    """What ``common.version`` and ``GET /web/version`` report."""
    odoo_models: dict[str, dict[str, OdooField]] = Field(default_factory=default_models)
    """model -> field -> ``{"type", "required", "selection"}``; the default is the
    ``manychat.contact`` / ``manychat.state`` pair crm-sync writes."""
    odoo_rate_limit_per_second: float = Field(default=1.0, gt=0)
    """Requests/second over every Odoo request (both APIs, logins included; sliding 1 s
    window, as Odoo SaaS enforces); beyond it HTTP 429 with ``Retry-After``."""
    odoo_rate_limit_enforced: bool = True
    """Off: every request is accepted (the fake still measures the rate)."""
    odoo_latency_ms: float = Field(default=0.0, ge=0)
    """Latency added to every Odoo request."""
    odoo_webhook_url: str | None = None
    """Where the automation rule "Send Webhook Notification" posts (cauce's
    ``/webhooks/odoo/{token}``) after a record of ``odoo_webhook_models`` is created or
    written, by the API or a person (``PATCH /sandbox/odoo/records/...``); None: no
    rule."""
    odoo_webhook_models: list[str] = Field(default_factory=lambda: ["manychat.contact"])
    """The models the rule watches; it sends every field, ``write_date`` included."""
