"""Access tokens issued: short-lived EdDSA JWTs every service verifies on its own."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from cauce_contracts.identity import TOKEN_AUDIENCE, TOKEN_ISSUER, AccessClaims, Permission
from cauce_identity.signing import SigningKeys


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    claims: AccessClaims


class AccessTokens:
    def __init__(self, keys: SigningKeys, ttl_s: int) -> None:
        self.keys = keys
        self.ttl_s = ttl_s

    def issue(
        self,
        *,
        subject: str,
        company_id: str,
        role: str,
        permissions: frozenset[Permission],
        session_id: str,
        platform_admin: bool = False,
    ) -> IssuedToken:
        now = int(time.time())
        claims = AccessClaims(
            iss=TOKEN_ISSUER,
            aud=TOKEN_AUDIENCE,
            sub=subject,
            cid=company_id,
            role=role,
            perms=sorted(permissions),
            pla=platform_admin,
            sid=session_id,
            jti=uuid.uuid4().hex,
            iat=now,
            exp=now + self.ttl_s,
        )
        token = self.keys.sign(claims.model_dump(mode="json"))
        return IssuedToken(token, self.ttl_s, claims)
