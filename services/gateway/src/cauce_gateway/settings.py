"""Gateway configuration: which channel accounts belong to which tenant, and their secrets.

Everything comes from ``CAUCE_*`` environment variables or, for secrets, files in the
secrets directory (a mounted Kubernetes Secret). Lists of accounts are JSON, e.g.::

    CAUCE_WHATSAPP_ACCOUNTS='[{"account_id": "734053143122597", "tenant_id": "acme",
                               "business_account_id": "1318067943193449"}]'
    CAUCE_CHATTIGO_ACCOUNTS='[{"account_id": "5492644710400", "tenant_id": "acme",
                               "url_token": "<32+ random chars>"}]'

The ``dev-`` defaults only exist so ``make run`` works out of the box; outside the dev and
test environments the runtime's settings base refuses to start with them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from cauce_runtime import ServiceSettings

#: Meta documents webhook payloads of up to 3 MB; anything larger is refused with 413.
META_MAX_PAYLOAD_BYTES = 3 * 1024 * 1024


class ChannelAccount(BaseModel):
    """A sending/receiving account of a channel (Meta phone_number_id, Chattigo DID, YCloud
    number) and the tenant it belongs to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: str = Field(min_length=1)
    tenant_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    business_account_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]{1,32}$",
        description="WhatsApp accounts only: the WhatsApp Business Account (WABA) the "
        "number belongs to. Template and business-capability webhooks name only the "
        "WABA; through it they reach this tenant.",
    )


class ChattigoAccount(ChannelAccount):
    """Chattigo signs nothing: its webhook URL carries this unguessable token instead."""

    url_token: SecretStr = Field(min_length=32)


class KeyedTenant(BaseModel):
    """A caller that authenticates with a shared API key (ManyChat)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    api_key: SecretStr = Field(min_length=16)


class OdooWebhookTenant(BaseModel):
    """A company's Odoo, whose automation rules post to ``/webhooks/odoo/{url_token}``:
    Odoo's webhooks carry no signature, so the unguessable URL token authenticates them
    and names the company."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    url_token: SecretStr = Field(min_length=32)


class SciTenant(BaseModel):
    """A tenant whose SCI TOTAL payment-status callbacks are signed with ``webhook_secret``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    webhook_secret: SecretStr = Field(min_length=16)


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    port: int = 8080

    meta_app_secrets: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr("dev-meta-app-secret")],
        description="Meta app secrets; several allow rotation without downtime",
    )
    meta_verify_token: SecretStr = SecretStr("dev-meta-verify-token")
    ycloud_webhook_secrets: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr("dev-ycloud-webhook-secret")]
    )
    ycloud_signature_tolerance_s: float = 300.0

    whatsapp_accounts: list[ChannelAccount] = Field(default_factory=list)
    chattigo_accounts: list[ChattigoAccount] = Field(default_factory=list)
    ycloud_accounts: list[ChannelAccount] = Field(default_factory=list)
    manychat_tenants: list[KeyedTenant] = Field(default_factory=list)
    sci_tenants: list[SciTenant] = Field(default_factory=list)
    odoo_webhook_tenants: list[OdooWebhookTenant] = Field(default_factory=list)
    sci_signature_tolerance_s: float = 300.0

    #: Zone for ManyChat ``datetime_actual`` values sent without an offset.
    manychat_timezone: str = "America/Bogota"

    max_body_bytes: int = META_MAX_PAYLOAD_BYTES
    #: Seconds a channel is told to wait (Retry-After) when the bus cannot take the event.
    retry_after_s: int = 5

    @model_validator(mode="after")
    def _business_accounts_are_unambiguous(self) -> GatewaySettings:
        for name, accounts in (
            ("chattigo_accounts", self.chattigo_accounts),
            ("ycloud_accounts", self.ycloud_accounts),
        ):
            if any(a.business_account_id is not None for a in accounts):
                raise ValueError(f"business_account_id applies to whatsapp_accounts, not {name}")
        tenants: dict[str, str] = {}
        for account in self.whatsapp_accounts:
            waba = account.business_account_id
            if waba is None:
                continue
            if tenants.setdefault(waba, account.tenant_id) != account.tenant_id:
                raise ValueError(
                    f"business account {waba} is named by accounts of two tenants "
                    f"({tenants[waba]}, {account.tenant_id}): its webhooks would have no tenant"
                )
        return self
