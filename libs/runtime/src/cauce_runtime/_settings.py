"""The pydantic-settings base every service's configuration extends.

Values come from (highest first) constructor arguments, ``CAUCE_*`` environment
variables, a ``.env`` file, and secret files: one file per field named like its
environment variable (``cauce_contact_key_secret``), in ``CAUCE_SECRETS_DIR`` or
``/run/secrets`` (where Kubernetes and Docker mount them).

Outside ``dev``/``test`` every ``SecretStr`` field must hold a real secret: the
placeholders shipped in ``.env.example`` and the defaults are refused at start, with
the environment variable to set named in the error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, Field, SecretBytes, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "CAUCE_"
DEFAULT_SECRETS_DIR = Path("/run/secrets")

#: Values that mean "nobody set this": refused for secrets outside dev/test.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "password", "test"})
PLACEHOLDER_PREFIXES = ("dev-", "change-me")

Environment = Literal["dev", "test", "prod"]


def is_placeholder_secret(value: str) -> bool:
    """True for an empty, well-known, ``dev-*`` or ``change-me*`` secret value."""
    normalized = value.strip().lower()
    return normalized in PLACEHOLDER_SECRETS or normalized.startswith(PLACEHOLDER_PREFIXES)


def _secrets_dir_from_env() -> Path | None:
    configured = os.environ.get(f"{ENV_PREFIX}SECRETS_DIR")
    if configured:
        return Path(configured)
    return DEFAULT_SECRETS_DIR if DEFAULT_SECRETS_DIR.is_dir() else None


class ServiceSettings(BaseSettings):
    """Settings shared by every cauce service; subclass it to add a service's own."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # ``KEY=`` (as in a copy of .env.example) means "the default", not "".
        env_ignore_empty=True,
    )

    environment: Environment = "dev"
    service_name: str = "cauce"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)

    nats_url: str = "nats://127.0.0.1:4222"
    #: This service's NKEY seed (``SU...``): the server knows its public key and what
    #: it may publish and read (``cauce_contracts.bus_access``). Required outside
    #: dev/test unless a credentials file or ``user:password@`` in the URL is given.
    nats_nkey_seed: SecretStr | None = None
    #: A ``.creds`` file (user JWT and seed) for a server in operator (JWT) mode.
    nats_credentials_file: Path | None = None
    #: CA bundle that signed the server's certificate: TLS with verification (also on
    #: for a ``tls://`` URL, then against the system's CAs).
    nats_ca_file: Path | None = None
    #: Client certificate and key, for a server that asks for them (mutual TLS).
    nats_tls_cert_file: Path | None = None
    nats_tls_key_file: Path | None = None
    #: Seconds to wait for the first connection before giving up on this attempt.
    nats_connect_timeout: float = Field(default=2.0, gt=0)
    #: Seconds a publish may wait for JetStream's PubAck before BusUnavailable.
    publish_timeout_s: float = Field(default=2.0, gt=0)
    #: Seconds SIGTERM waits for in-flight requests and handlers before exiting.
    shutdown_timeout_s: float = Field(default=10.0, gt=0)

    #: OTLP/HTTP endpoint (e.g. http://otel-collector:4318); None writes ``span_file``.
    otel_exporter_otlp_endpoint: str | None = None
    span_file: Path = Path(".cauce/traces/spans.jsonl")
    #: A CLIENT span for every PostgreSQL/MongoDB call made inside a trace. Off trades
    #: that detail for throughput at a service's CPU ceiling.
    trace_database_calls: bool = True
    log_level: str = "INFO"

    #: Key of the HMAC that turns a phone number into the contact key in subjects.
    #: JetStream replicas of every stream: 1 on a single nats-server, 3 on a 3-node
    #: cluster. Every service must use the same value (each start applies it).
    stream_replicas: int = Field(default=1, ge=1, le=5)
    #: The nats-server's ``max_file_store`` in bytes (JetStream does not tell clients of
    #: an account without limits of its own): the denominator of the storage alert.
    #: None: only an account limit, when JetStream reports one, is published.
    jetstream_max_storage_bytes: int | None = Field(default=None, gt=0)
    contact_key_secret: SecretStr = SecretStr("dev-contact-key-secret")

    #: Public keys (a JSON list of Ed25519 JWKs, each with its ``kid``) whose access
    #: tokens are accepted besides those the identity service publishes in JetStream KV:
    #: pinned keys for a deployment that does not want to trust the bucket alone.
    identity_public_keys: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # A secrets dir given as ``_secrets_dir=`` wins; otherwise CAUCE_SECRETS_DIR or
        # /run/secrets when it exists (pydantic-settings warns about a missing dir).
        if isinstance(file_secret_settings, SecretsSettingsSource) and (
            file_secret_settings.secrets_dir is None
        ):
            secrets_dir = _secrets_dir_from_env()
            if secrets_dir is not None:
                file_secret_settings = SecretsSettingsSource(settings_cls, secrets_dir=secrets_dir)
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Self:
        if self.environment in ("dev", "test"):
            return self
        offending = [
            f"{ENV_PREFIX}{name.upper()}"
            for name in type(self).model_fields
            if holds_placeholder_secret(getattr(self, name))
        ]
        if offending:
            raise ValueError(
                f"placeholder or empty secret in environment {self.environment!r}: set "
                + ", ".join(offending)
                + " (an environment variable or a file in the secrets dir)"
            )
        return self

    @model_validator(mode="after")
    def _nats_signs_in_outside_dev(self) -> Self:
        if self.nats_nkey_seed is not None and self.nats_credentials_file is not None:
            raise ValueError("set CAUCE_NATS_NKEY_SEED or CAUCE_NATS_CREDENTIALS_FILE, not both")
        if (self.nats_tls_cert_file is None) != (self.nats_tls_key_file is None):
            raise ValueError("set both CAUCE_NATS_TLS_CERT_FILE and CAUCE_NATS_TLS_KEY_FILE")
        if self.environment in ("dev", "test"):
            return self
        signed_in = (
            self.nats_nkey_seed is not None
            or self.nats_credentials_file is not None
            or "@" in self.nats_url
        )
        if not signed_in:
            raise ValueError(
                f"NATS without credentials in environment {self.environment!r}: set "
                "CAUCE_NATS_NKEY_SEED (or CAUCE_NATS_CREDENTIALS_FILE)"
            )
        return self

    def env_var(self, field: str) -> str:
        """The environment variable that sets ``field``."""
        return f"{ENV_PREFIX}{field.upper()}"


def holds_placeholder_secret(value: Any) -> bool:
    """True when ``value`` is, or holds (in a list, dict or nested model), a placeholder
    secret: account lists carry their own tokens and keys."""
    if isinstance(value, SecretStr):
        return is_placeholder_secret(value.get_secret_value())
    if isinstance(value, SecretBytes):
        return is_placeholder_secret(value.get_secret_value().decode("utf-8", "replace"))
    if isinstance(value, list | tuple | set | frozenset):
        return any(holds_placeholder_secret(item) for item in value)
    if isinstance(value, dict):
        return any(holds_placeholder_secret(item) for item in value.values())
    if isinstance(value, BaseModel):
        return any(
            holds_placeholder_secret(getattr(value, name)) for name in type(value).model_fields
        )
    return False
