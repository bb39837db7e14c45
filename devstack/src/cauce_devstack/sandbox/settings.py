"""Sandbox configuration: ``CAUCE_SANDBOX_*`` environment variables.

Every default here is a DEV-ONLY value, published in this file on purpose: the sandbox
fakes providers on a developer machine and must never hold a real credential.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PHONE_NUMBER_ID = "100000000000001"
"""Dev-only Meta phone_number_id of the sandbox's one business number."""
DEV_DISPLAY_PHONE_NUMBER = "15550000001"
"""Dev-only display number of that business number."""
DEV_WABA_ID = "200000000000001"
"""Dev-only WhatsApp Business Account id (``entry[].id`` in webhooks)."""
DEV_GRAPH_TOKEN = "dev-only-graph-token"  # noqa: S105 - published dev-only value
DEV_APP_SECRET = "dev-meta-app-secret"  # the gateway's dev default  # noqa: S105 - published dev-only value


class SandboxSettings(BaseSettings):
    """Settings of the provider sandbox.

    ``graph_tokens`` maps a phone_number_id to the bearer token the fake Graph API
    accepts for it; set it as JSON, e.g.
    ``CAUCE_SANDBOX_GRAPH_TOKENS='{"123": "token-a", "456": "token-b"}'``.
    """

    model_config = SettingsConfigDict(env_prefix="CAUCE_SANDBOX_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8090
    gateway_url: str = "http://127.0.0.1:8080"
    app_secret: SecretStr = SecretStr(DEV_APP_SECRET)
    graph_tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: {DEV_PHONE_NUMBER_ID: SecretStr(DEV_GRAPH_TOKEN)}
    )
    default_phone_number_id: str = DEV_PHONE_NUMBER_ID
    default_display_phone_number: str = DEV_DISPLAY_PHONE_NUMBER
    waba_id: str = DEV_WABA_ID
    gateway_timeout_s: float = 10.0
    drop_hold_s: float = 60.0
    """How long a ``drop`` fault holds a request before giving up on it."""
