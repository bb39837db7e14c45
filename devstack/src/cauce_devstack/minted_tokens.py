"""Access tokens for tests that run a service without the identity service: signed with
a throwaway Ed25519 key exactly as identity signs them, and accepted by a service whose
settings pin that key (``identity_public_keys=minter.jwks``).

Identity's own tests prove the tokens it issues; these let every other service's tests
say "a supervisor of acme calls" in one line.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from cauce_contracts.identity import TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER, Permission


class TokenMinter:
    def __init__(self, kid: str | None = None) -> None:
        self._key = Ed25519PrivateKey.generate()
        self.kid = kid or f"test-{uuid.uuid4().hex[:8]}"

    @property
    def jwks(self) -> list[dict[str, Any]]:
        """The public key, for ``identity_public_keys`` of the service under test."""
        jwk = json.loads(OKPAlgorithm.to_jwk(self._key.public_key()))
        return [{**jwk, "kid": self.kid, "alg": TOKEN_ALGORITHM, "use": "sig"}]

    def token(
        self,
        company_id: str,
        *permissions: Permission,
        platform_admin: bool = False,
        subject: str | None = None,
        role: str = "test",
        ttl_s: int = 600,
    ) -> str:
        """A token of ``company_id`` holding ``permissions`` (every one when none given)."""
        now = int(time.time())
        claims = {
            "iss": TOKEN_ISSUER,
            "aud": TOKEN_AUDIENCE,
            "sub": subject or f"user:{uuid.uuid4()}",
            "cid": company_id,
            "role": role,
            "perms": sorted(p.value for p in (permissions or tuple(Permission))),
            "pla": platform_admin,
            "sid": str(uuid.uuid4()),
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + ttl_s,
        }
        return jwt.encode(claims, self._key, TOKEN_ALGORITHM, headers={"kid": self.kid})

    def headers(self, company_id: str, *permissions: Permission, **kwargs: Any) -> dict[str, str]:
        """``Authorization`` headers carrying :meth:`token`."""
        return {"Authorization": f"Bearer {self.token(company_id, *permissions, **kwargs)}"}
