"""Identity configuration (``CAUCE_*``; secrets may be files in the secrets dir).

The signing key is an Ed25519 private key in PEM (``openssl genpkey -algorithm
ed25519``). Left empty in dev/test, the service makes one at start (tokens die with
the process); anywhere else an empty key is refused at start.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from cauce_runtime import ServiceSettings
from cauce_runtime.identity import MAX_ACCESS_TOKEN_TTL_S


class IdentitySettings(ServiceSettings):
    service_name: str = "identity"
    port: int = 8085

    postgres_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:55432/cauce")
    postgres_pool_size: int = Field(default=10, ge=2, le=200)

    #: The Ed25519 private key (PEM) access tokens are signed with.
    signing_key: SecretStr = SecretStr("")
    #: Public keys (PEM) of retired signing keys whose tokens are still honoured while
    #: they live: a rotation moves the old key here for one access-token lifetime.
    retired_public_keys: list[str] = Field(default_factory=list)

    #: Seconds an access token lives (verifiers cannot ask anyone before it expires,
    #: so short; revoked sessions are refused sooner through JetStream KV).
    access_token_ttl_s: int = Field(default=900, ge=30, le=MAX_ACCESS_TOKEN_TTL_S)
    #: Seconds a refresh token lives unused (each use rotates it).
    refresh_token_ttl_s: int = Field(default=14 * 24 * 3600, ge=300)

    #: Failed logins in a row before an account is locked; each further failure
    #: doubles the lock, from ``login_lockout_s`` up to ``login_lockout_max_s``.
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_s: float = Field(default=60.0, gt=0)
    login_lockout_max_s: float = Field(default=3600.0, gt=0)
    #: Shortest password accepted (NIST SP 800-63B: at least 8; long passphrases welcome).
    password_min_length: int = Field(default=10, ge=8)
