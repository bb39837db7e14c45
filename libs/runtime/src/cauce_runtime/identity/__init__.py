"""Access tokens verified locally in every service (DESIGN: no service calls another
to authenticate a request).

- :class:`TokenVerifier` checks a token's EdDSA signature by ``kid``, its issuer,
  audience and expiry, and that its session was not revoked;
- :class:`IdentityWatch` keeps it current from the identity service's JetStream KV
  buckets (public keys, revoked sessions);
- :data:`CallerDep` / :func:`require` are the FastAPI dependencies: the company a
  request acts for is ``Caller.company_id``, from the verified token only.
"""

from cauce_runtime.identity._buckets import (
    KEY_REPUBLISH_S,
    MAX_ACCESS_TOKEN_TTL_S,
    REVOKED_FOR_S,
    revoked_sessions_bucket,
    signing_keys_bucket,
)
from cauce_runtime.identity._caller import Caller, NotYourCompany
from cauce_runtime.identity._requests import (
    CallerDep,
    PlatformAdminDep,
    authenticated_caller,
    company_for,
    platform_admin,
    require,
    visible_company,
)
from cauce_runtime.identity._verifier import InvalidToken, TokenVerifier, public_key_from_jwk
from cauce_runtime.identity._watch import IdentityWatch

__all__ = [
    "KEY_REPUBLISH_S",
    "MAX_ACCESS_TOKEN_TTL_S",
    "REVOKED_FOR_S",
    "Caller",
    "CallerDep",
    "IdentityWatch",
    "InvalidToken",
    "NotYourCompany",
    "PlatformAdminDep",
    "TokenVerifier",
    "authenticated_caller",
    "company_for",
    "platform_admin",
    "public_key_from_jwk",
    "require",
    "revoked_sessions_bucket",
    "signing_keys_bucket",
    "visible_company",
]
