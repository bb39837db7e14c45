"""crm-sync configuration (``CAUCE_*``; secrets may be files in the secrets dir).

The Odoo defaults point at the provider sandbox's fake (``make run``) with its published
dev credentials; outside dev/test the runtime refuses to start with a ``dev-`` secret.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from cauce_runtime import ServiceSettings

#: The sandbox's published dev-only Odoo credentials (cauce_devstack.sandbox.settings).
DEV_ODOO_LOGIN = "dev-odoo-bot"
DEV_ODOO_PASSWORD = "dev-only-odoo-password"  # noqa: S105 - published dev-only value
DEV_ODOO_API_KEY = "dev-only-odoo-api-key"


class CrmSyncSettings(ServiceSettings):
    service_name: str = "crm-sync"
    port: int = 8083

    #: PostgreSQL DSN; the password, if any, belongs in the secrets dir.
    postgres_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:55432/cauce")
    postgres_pool_size: int = Field(default=10, ge=2, le=200)

    # --- Odoo -------------------------------------------------------------------------
    #: ``jsonrpc``: ``/jsonrpc`` with ``common.authenticate`` + ``object.execute_kw``
    #: (Odoo 16-18, still served by 19-21); ``json2``: ``/json/2/<model>/<method>`` with a
    #: bearer API key (Odoo 19+).
    odoo_api: Literal["jsonrpc", "json2"] = "jsonrpc"
    #: Base URL of the Odoo server (``https://mycompany.odoo.com``); the default is the
    #: sandbox's fake.
    odoo_url: str = "http://127.0.0.1:8090/odoo"
    odoo_db: str = "cauce"
    #: JSON-RPC login and password (an API key works as the password too).
    odoo_login: str = DEV_ODOO_LOGIN
    odoo_password: SecretStr = SecretStr(DEV_ODOO_PASSWORD)
    #: JSON-2 bearer API key (Preferences -> Account Security -> New API Key).
    odoo_api_key: SecretStr = SecretStr(DEV_ODOO_API_KEY)
    #: Seconds per Odoo request (connect + read).
    odoo_timeout_s: float = Field(default=20.0, gt=0)
    #: Requests per second to Odoo, shared by every crm-sync replica (Odoo SaaS allows 1).
    odoo_rate_limit_per_s: float = Field(default=1.0, gt=0)
    #: Fraction of the limit actually used: a slot is when a request *starts*, and
    #: network jitter must not bunch two of them into one second at Odoo.
    odoo_rate_headroom: float = Field(default=0.9, gt=0, le=1)
    #: Odoo models (custom ``x_`` models work as well).
    odoo_contact_model: str = "manychat.contact"
    odoo_state_model: str = "manychat.state"
    #: Field renames, cauce name -> Odoo field, JSON: ``{"phone": "x_studio_phone"}``.
    #: Unlisted fields keep their cauce name (see ``cauce_crm_sync.mapping``).
    odoo_contact_fields: dict[str, str] = Field(default_factory=dict)
    odoo_state_fields: dict[str, str] = Field(default_factory=dict)
    #: Contact fields both sides set (the newer change wins, cauce's timestamp against
    #: Odoo's ``write_date``): any of ``ultimo_estado``, ``comercial_id``; ``[]``: cauce
    #: owns them (an edit in Odoo is repaired).
    odoo_contact_shared_fields: list[str] = Field(
        default_factory=lambda: ["ultimo_estado", "comercial_id"]
    )
    #: Contact fields sales people own, by their Odoo name (a stage, notes, tags,
    #: ``x_`` fields): read from Odoo into cauce, never written.
    odoo_contact_odoo_fields: list[str] = Field(default_factory=list, max_length=50)

    #: Seconds a CRM event may take to apply before it is delivered again (a replica
    #: that died mid-batch hands its events over after this long).
    crm_events_ack_wait_s: float = Field(default=120.0, ge=1, le=3600)

    # --- the sync to Odoo ---------------------------------------------------------------
    #: Records per ``create`` call (Odoo takes a list of vals and returns a list of ids).
    sync_batch_size: int = Field(default=200, ge=1, le=5000)
    #: Attempts of a record before it is dead-lettered with Odoo's error.
    sync_max_attempts: int = Field(default=8, ge=1, le=100)
    #: Exponential backoff between attempts: base * 2^(attempt-1), capped, with jitter.
    sync_backoff_base_s: float = Field(default=2.0, gt=0)
    sync_backoff_max_s: float = Field(default=300.0, gt=0)
    #: Wait before retrying a ``create`` whose answer never came (it may still commit):
    #: longer than Odoo's own request limit (``limit_time_real``, 120 s by default), so
    #: by then the first create has committed or died, and the lookup by key that
    #: precedes the retry sees which.
    sync_uncertain_retry_s: float = Field(default=130.0, ge=0)
    #: How long a replica may hold claimed records before another may take them over.
    sync_lease_s: float = Field(default=120.0, gt=0)
    #: Seconds between looks for pending changes when there were none.
    sync_idle_poll_s: float = Field(default=0.5, gt=0)
    #: Seconds between reconciliation runs (PostgreSQL vs Odoo by ``write_date``);
    #: 0 runs it only on demand (``POST /reconciliations``).
    reconcile_interval_s: float = Field(default=900.0, ge=0)

    # --- service to service ------------------------------------------------------------
    #: Bearer token of ``/internal/lead-exports`` (the notifier's lead audiences; the
    #: operator APIs take users' access tokens instead).
    lead_export_token: SecretStr = SecretStr("dev-lead-export-token")
