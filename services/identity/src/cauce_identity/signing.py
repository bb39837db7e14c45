"""The keys access tokens are signed with, and their public halves as JWKs.

A key's id (``kid``) is its RFC 7638 JWK thumbprint: the same key has the same id on
every replica and after every restart, with nothing to configure.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from cauce_contracts.identity import TOKEN_ALGORITHM
from cauce_identity.settings import IdentitySettings

logger = logging.getLogger(__name__)


def public_jwk(key: Ed25519PublicKey) -> dict[str, Any]:
    """``key`` as a JWK with its ``kid``, ``alg`` and ``use``."""
    jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(key))
    return {**jwk, "kid": thumbprint(jwk), "alg": TOKEN_ALGORITHM, "use": "sig"}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members (``crv``, ``kty``, ``x``), sorted."""
    canonical = json.dumps(
        {name: jwk[name] for name in ("crv", "kty", "x")}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKeys:
    """The current signing key and every public key still honoured."""

    current: Ed25519PrivateKey
    retired: tuple[Ed25519PublicKey, ...] = ()

    @classmethod
    def from_settings(cls, settings: IdentitySettings) -> SigningKeys:
        pem = settings.signing_key.get_secret_value().strip()
        if pem:
            current = serialization.load_pem_private_key(pem.encode(), password=None)
            if not isinstance(current, Ed25519PrivateKey):
                raise ValueError(f"{settings.env_var('signing_key')} is not an Ed25519 key")
        else:
            # only reachable in dev/test: elsewhere the empty secret is refused at start
            logger.warning("no signing key configured: using a new one for this process")
            current = Ed25519PrivateKey.generate()
        retired = tuple(_public_key(text) for text in settings.retired_public_keys)
        return cls(current, retired)

    @property
    def kid(self) -> str:
        return str(public_jwk(self.current.public_key())["kid"])

    def jwks(self) -> list[dict[str, Any]]:
        """Every public key a verifier should accept, the current one first."""
        return [public_jwk(self.current.public_key()), *(public_jwk(k) for k in self.retired)]

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self.current, algorithm=TOKEN_ALGORITHM, headers={"kid": self.kid}
        )


def _public_key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.strip().encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("a retired public key is not an Ed25519 key")
    return key
