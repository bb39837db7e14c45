"""Access tokens verified locally: signature (EdDSA, by ``kid``), issuer, audience,
expiry, and the session not revoked. No call to the identity service: the public keys
and revoked sessions reach every replica through JetStream KV (:mod:`._watch`) or are
configured (``CAUCE_IDENTITY_PUBLIC_KEYS``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm
from pydantic import ValidationError

from cauce_contracts.identity import TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER, AccessClaims
from cauce_runtime._settings import ServiceSettings
from cauce_runtime.identity._caller import Caller


class InvalidToken(Exception):
    """The token is not a valid, current cauce access token (the reason is safe to show:
    it never echoes the token)."""


def public_key_from_jwk(jwk: Mapping[str, Any] | str) -> Ed25519PublicKey:
    """An Ed25519 public key from its JWK (``kty`` OKP, ``crv`` Ed25519)."""
    data = json.loads(jwk) if isinstance(jwk, str) else dict(jwk)
    if data.get("kty") != "OKP" or data.get("crv") != "Ed25519" or "d" in data:
        raise ValueError("not an Ed25519 public JWK")
    key = OKPAlgorithm.from_jwk(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public JWK")
    return key


class TokenVerifier:
    """Verifies access tokens against the keys it knows (by ``kid``)."""

    def __init__(
        self,
        keys: Mapping[str, Ed25519PublicKey] | None = None,
        *,
        leeway_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys: dict[str, Ed25519PublicKey] = dict(keys or {})
        self._static = frozenset(self._keys)
        self._revoked: dict[str, float] = {}
        self.leeway_s = leeway_s
        self._clock = clock

    @classmethod
    def from_jwks(cls, jwks: Iterable[Mapping[str, Any]], **kwargs: Any) -> TokenVerifier:
        """A verifier knowing the keys of a JWK list (each with its ``kid``)."""
        return cls({str(k["kid"]): public_key_from_jwk(k) for k in jwks}, **kwargs)

    @classmethod
    def for_service(cls, settings: ServiceSettings) -> TokenVerifier:
        """The verifier of a service: its pinned keys (``CAUCE_IDENTITY_PUBLIC_KEYS``);
        the identity service's published keys join when the app starts."""
        return cls.from_jwks(settings.identity_public_keys)

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def add_key(self, kid: str, key: Ed25519PublicKey) -> None:
        self._keys[kid] = key

    def remove_key(self, kid: str) -> None:
        """Forget a key learnt from the bus (configured keys stay)."""
        if kid not in self._static:
            self._keys.pop(kid, None)

    def revoke_session(self, session_id: str, until: float) -> None:
        """Refuse the session's tokens until ``until`` (epoch seconds; by then they have
        expired anyway)."""
        self._revoked[session_id] = max(until, self._revoked.get(session_id, 0.0))
        now = self._clock()
        if len(self._revoked) > 10_000:
            self._revoked = {s: t for s, t in self._revoked.items() if t > now}

    def is_revoked(self, session_id: str) -> bool:
        until = self._revoked.get(session_id)
        return until is not None and until > self._clock()

    def verify(self, token: str) -> Caller:
        """The caller a token stands for; :class:`InvalidToken` otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != TOKEN_ALGORITHM:
            raise InvalidToken("unexpected token algorithm")
        key = self._keys.get(str(header.get("kid", "")))
        if key is None:
            raise InvalidToken("token signed by an unknown key")
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[TOKEN_ALGORITHM],
                audience=TOKEN_AUDIENCE,
                issuer=TOKEN_ISSUER,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "sub", "jti"]},
            )
            claims = AccessClaims.model_validate(payload)
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except (jwt.PyJWTError, ValidationError) as exc:
            raise InvalidToken("invalid token") from exc
        if self.is_revoked(claims.sid):
            raise InvalidToken("session revoked")
        return Caller.of(claims)
