"""Which tenant does a channel account belong to? The environment's accounts, built once
from settings, then the routes of accounts added through the API (:mod:`.live_routes`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cauce_contracts.channel_routes import normalized_account_id
from cauce_contracts.subjects import Channel
from cauce_gateway.authenticity import matching_key, verify_sci_signature
from cauce_gateway.live_routes import LiveRoutes
from cauce_gateway.parsing import UNASSIGNED_TENANT
from cauce_gateway.settings import ChattigoAccount, GatewaySettings

__all__ = ["UNASSIGNED_TENANT", "AccountDirectory", "account_key"]


def account_key(channel: Channel, account_id: str) -> tuple[Channel, str]:
    """Phone-number accounts configured as ``+57 310 555 0100`` or ``573105550100`` are
    the same account."""
    return channel, normalized_account_id(channel, account_id)


@dataclass(frozen=True)
class AccountDirectory:
    by_account: dict[tuple[Channel, str], str]
    chattigo_by_token: dict[str, ChattigoAccount]
    manychat_by_key: dict[str, str]
    #: Odoo automation webhooks' URL token -> tenant.
    odoo_by_token: dict[str, str]
    #: (tenant, webhook secret) per SCI tenant; the secret that verifies names the tenant.
    sci_secrets: tuple[tuple[str, bytes], ...]
    #: WhatsApp Business Account (WABA) -> tenant, from the accounts that name theirs.
    by_business_account: dict[tuple[Channel, str], str] = field(default_factory=dict)
    #: Accounts added through the API, followed live from JetStream KV.
    live: LiveRoutes = field(default_factory=LiveRoutes)

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> AccountDirectory:
        by_account: dict[tuple[Channel, str], str] = {}
        for channel, accounts in (
            (Channel.WHATSAPP, settings.whatsapp_accounts),
            (Channel.CHATTIGO, settings.chattigo_accounts),
            (Channel.YCLOUD, settings.ycloud_accounts),
        ):
            for account in accounts:
                by_account[account_key(channel, account.account_id)] = account.tenant_id
        return cls(
            by_account=by_account,
            chattigo_by_token={
                a.url_token.get_secret_value(): a for a in settings.chattigo_accounts
            },
            manychat_by_key={
                t.api_key.get_secret_value(): t.tenant_id for t in settings.manychat_tenants
            },
            odoo_by_token={
                t.url_token.get_secret_value(): t.tenant_id for t in settings.odoo_webhook_tenants
            },
            sci_secrets=tuple(
                (t.tenant_id, t.webhook_secret.get_secret_value().encode())
                for t in settings.sci_tenants
            ),
            by_business_account={
                (Channel.WHATSAPP, a.business_account_id): a.tenant_id
                for a in settings.whatsapp_accounts
                if a.business_account_id is not None
            },
        )

    def tenant_for(self, channel: Channel, account_id: str) -> str | None:
        found = self.by_account.get(account_key(channel, account_id))
        return found if found is not None else self.live.tenant_for(channel, account_id)

    def business_tenant_for(self, channel: Channel, business_account_id: str) -> str | None:
        """The tenant of a WABA (template and business-capability webhooks name only it)."""
        found = self.by_business_account.get((channel, business_account_id))
        return (
            found
            if found is not None
            else self.live.business_tenant_for(channel, business_account_id)
        )

    def chattigo_account(self, url_token: str) -> ChattigoAccount | None:
        found = matching_key(url_token, self.chattigo_by_token)
        return found if found is not None else self.live.chattigo_account(url_token)

    def manychat_tenant(self, api_key: str | None) -> str | None:
        return matching_key(api_key, self.manychat_by_key)

    def odoo_tenant(self, url_token: str) -> str | None:
        return matching_key(url_token, self.odoo_by_token)

    def sci_tenant(self, body: bytes, signature: str | None, tolerance_s: float) -> str:
        """The tenant whose secret signed ``body`` (:class:`NotAuthentic` if none did)."""
        secrets = [secret for _, secret in self.sci_secrets]
        index = verify_sci_signature(body, signature, secrets, tolerance_s=tolerance_s)
        return self.sci_secrets[index][0]
