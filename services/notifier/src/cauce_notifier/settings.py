"""Notifier configuration (``CAUCE_*``; secrets may be files in the secrets dir).

The ``dev-`` defaults let ``make run`` work out of the box; outside dev/test the runtime
refuses to start with them. ``credentials_keys`` is the key ring that encrypts channel
credentials at rest: JSON ``{"key-id": "<base64 of 32 random bytes>"}``; add a key, make
it active, restart, and stored credentials are re-encrypted with it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from cauce_contracts.media import WHATSAPP_MEDIA_TYPES
from cauce_notifier.accounts_model import SendingChannel
from cauce_notifier.rate_limit import DEFAULT_HEADROOM
from cauce_runtime.credentials import KeyRingSettings

#: A kind of send a replica makes (``CAUCE_SEND_LANES``).
SendLane = Literal["replies", "campaigns"]


class DeclaredAccount(BaseModel):
    """A channel account created at start if missing (never overwritten): lets a
    platform team declare accounts in a Secret instead of calling the admin API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    channel: SendingChannel
    account_id: str = Field(min_length=1)
    display_name: str | None = None
    rate_per_second: float = Field(default=80.0, gt=0)
    #: The WhatsApp Business Account of a WhatsApp Cloud API number (its templates).
    business_account_id: str | None = Field(default=None, pattern=r"^[0-9]{1,32}$")
    credentials: dict[str, SecretStr]


class LateTemplateSetting(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")


class RateCard(BaseModel):
    """What Meta charges for a billed message, by the recipient's country and the
    template's category (lower case: marketing, utility, authentication), in
    ``currency``. The defaults are Meta's 2025 list prices for Colombia, for an estimate
    only: set the tenant's own (the seed's ``COST_PER_MESSAGE`` is a ``default`` with
    one price for every category)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    default: dict[str, float] = Field(
        default_factory=lambda: {"marketing": 0.0125, "utility": 0.0008, "authentication": 0.0008}
    )
    countries: dict[str, dict[str, float]] = Field(default_factory=dict)

    def price(self, country: str | None, category: str) -> float:
        prices = self.countries.get(country or "", self.default)
        return prices.get(category.lower(), self.default.get(category.lower(), 0.0))


class NotifierSettings(KeyRingSettings):
    service_name: str = "notifier"
    port: int = 8084

    postgres_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:55432/cauce")
    #: Connections per replica; each message in flight holds one for a few milliseconds.
    postgres_pool_size: int = Field(default=20, ge=2, le=500)
    accounts: list[DeclaredAccount] = Field(default_factory=list)
    #: Seconds between full passes writing every account's route for the gateway (a
    #: change through the admin API is published at once).
    channel_routes_reconcile_s: float = Field(default=300.0, gt=0)
    #: Seconds a replica reuses an account it looked up for sending (0: every send reads
    #: it); a change made through another replica's admin API shows within this time.
    account_cache_s: float = Field(default=5.0, ge=0)

    graph_base_url: str = "https://graph.facebook.com"
    graph_api_version: str = "v23.0"
    chattigo_base_url: str = "https://channels.chattigo.com/bsp-cloud-chattigo-isv"
    ycloud_base_url: str = "https://api.ycloud.com"
    provider_timeout_s: float = Field(default=10.0, gt=0)
    #: How long a worker holds a message while sending it, and how long a delivery may
    #: go unacknowledged: a crashed worker's messages go to another after this long.
    #: Longer than a send ever takes (slot wait + provider timeout).
    delivery_claim_s: float = Field(default=30.0, gt=0, le=600)
    #: How long a message whose provider call lost its answer (the notifier died
    #: mid-call, PostgreSQL went away, a read timeout) waits for the status webhook
    #: naming it before it is sent again (WhatsApp Cloud and YCloud; Chattigo names
    #: nothing, so there it goes again at once). Meta reports ``sent`` within seconds.
    send_outcome_wait_s: float = Field(default=60.0, ge=0, le=3600)

    #: Customers' files larger than this are not kept (WhatsApp's own limit for audio
    #: and video; documents may reach 100 MB there and are refused above this).
    media_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    #: The file types kept (WhatsApp's supported media types; never HTML or SVG).
    media_content_types: frozenset[str] = WHATSAPP_MEDIA_TYPES
    #: Fetch media URLs that resolve to loopback or private addresses (dev and tests,
    #: where the sandbox is local; never in production: it opens the cluster to SSRF).
    media_allow_private_hosts: bool = False

    #: Failed provider calls (5xx, timeouts) before a message is failed and dead-lettered.
    max_provider_attempts: int = Field(default=8, ge=1)
    #: Seconds before retrying the messages of an account whose credentials were refused.
    credentials_retry_s: float = Field(default=60.0, gt=0)
    #: Longest a delivery waits in-process for its send slot before retrying later.
    send_max_wait_s: float = Field(default=2.0, gt=0)
    #: Fraction of each account's rate the notifier uses: a slot is when a send *starts*,
    #: and jitter on the way bunches sends at the provider, whose 1 s window must hold.
    #: 0.97 absorbs about 30 ms of bunching (1 / 0.97 - 1 of a second).
    send_rate_headroom: float = Field(default=DEFAULT_HEADROOM, gt=0, le=1)
    #: Requests fetched and handled concurrently (one contact's still go in order).
    delivery_batch_size: int = Field(default=64, ge=1, le=1000)
    #: Which sends this replica makes: ``replies`` (one-off requests: the bot's and the
    #: agents' messages) and/or ``campaigns`` (campaign sends, and releasing them). Both
    #: by default; a deployment that runs campaigns on replicas of their own gives the
    #: replies an event loop, a database pool and a CPU share no campaign can fill.
    send_lanes: frozenset[SendLane] = Field(
        default=frozenset({"replies", "campaigns"}), min_length=1
    )
    #: Campaign sends handled concurrently per replica. Fewer than the requests': a
    #: campaign keeps the cores busy anyway, and every campaign send in flight is one
    #: more the bot's replies queue behind on the event loop and the database pool.
    campaign_delivery_batch_size: int = Field(default=32, ge=1, le=1000)

    #: An approved template with one body parameter, sent instead of a free-form
    #: message whose 24-hour window closed (a late payment confirmation, an agent's
    #: reply the next day) with the message's text as its parameter; None: such a
    #: message fails (131047). Dev: the sandbox's ``mensaje_fuera_de_ventana``.
    out_of_window_template: LateTemplateSetting | None = None

    # --- campaigns ----------------------------------------------------------------------
    #: Region a recipient's number is read in when it has no country code (ISO 3166).
    campaign_default_region: str = Field(default="CO", pattern=r"^[A-Z]{2}$")
    #: Read an upload's phone numbers in a worker process, on another core: for
    #: replicas with two cores or more (off by default: the worker is a second
    #: interpreter, started on the first upload, which a one-core replica cannot use).
    campaign_phone_worker: bool = False
    #: Largest recipients CSV accepted (100,000 rows of the seed's format: about 5 MB).
    campaign_csv_max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    #: Share of a number's rate campaigns release at. Below the send limiter's headroom
    #: (0.97 of the rate), so a running campaign leaves the number's limiter a little
    #: room for the conversation's replies.
    campaign_rate_share: float = Field(default=0.95, gt=0, le=1)
    #: How far ahead a campaign send may reserve its slot. A conversation reply goes
    #: ahead of a queue this short (see CAUCE_REPLY_RATE_SHARE); where replies may not
    #: go ahead (numbers below about 130/s) a campaign send reserves at most 0.02 s
    #: ahead, the wait it puts before a reply. A send whose slot is further off waits
    #: for it in its worker while its campaign runs.
    campaign_slot_wait_s: float = Field(default=0.1, gt=0)
    #: Share of a number's rate the conversation's replies (the bot's, the agents') may
    #: send ahead of the sends queued for it (a campaign's): such a reply starts at once,
    #: and the queue's last slot is left empty for it. Within any second the provider
    #: sees at most this share x rate x CAMPAIGN_SLOT_WAIT_S + 2 more than the limiter's
    #: rate, kept within half of what the headroom leaves (numbers below about 130/s
    #: have too little: their replies queue). 0: replies always queue like any send.
    reply_rate_share: float = Field(default=0.03, ge=0, le=0.1)
    #: Seconds between the dispatcher's rounds (a pause holds within about this).
    campaign_tick_s: float = Field(default=0.2, gt=0, le=5)
    #: A campaign pauses itself when this share of its last CAMPAIGN_FAILURE_WINDOW
    #: sends failed.
    campaign_failure_window: int = Field(default=50, ge=2)
    campaign_failure_threshold: float = Field(default=0.5, gt=0, le=1)
    #: Customers who write one of these (alone, any case or accents) stop marketing
    #: campaigns; the opt-in words put them back.
    opt_out_keywords: list[str] = Field(
        default_factory=lambda: ["BAJA", "STOP", "NO MAS", "CANCELAR SUSCRIPCION", "DETENER"]
    )
    opt_in_keywords: list[str] = Field(default_factory=lambda: ["ALTA", "START", "SUSCRIBIR"])
    #: Prices of billed messages, for campaigns' cost estimates.
    rate_card: RateCard = Field(default_factory=RateCard)
    #: crm-sync's base URL and the service token of its lead exports, for campaigns whose
    #: audience is a segment of its leads (unset: such campaigns cannot be started).
    crm_sync_url: str | None = None
    crm_sync_lead_export_token: SecretStr | None = None
    #: Public base URL of short links (``https://l.example.com``: routed to the
    #: notifier's ``/l/``); unset: no short links.
    short_link_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    #: URL buttons of one-off messages (the bot's payment link) go out as short links too.
    short_links_in_replies: bool = False
    #: Seconds between template syncs from Meta (0: on demand only).
    template_sync_interval_s: float = Field(default=3600.0, ge=0)

    @model_validator(mode="after")
    def _claims_outlast_a_send(self) -> NotifierSettings:
        if self.delivery_claim_s <= self.provider_timeout_s:
            raise ValueError("delivery_claim_s must be longer than provider_timeout_s")
        return self
