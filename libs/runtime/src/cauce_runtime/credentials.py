"""Secrets encrypted at rest (channel credentials, companies' model keys): an
AES-256-GCM key ring with rotation.

A blob is self-describing so keys can rotate without a flag day::

    version (1 byte = 1) | key id length (1 byte) | key id (utf-8)
    | nonce (12 bytes) | ciphertext + GCM tag (16 bytes)

:meth:`CredentialsCipher.decrypt` picks the key named inside the blob; new blobs are
always written with the active key, and :meth:`CredentialsCipher.needs_rotation` tells
which stored blobs still use an older one. The associated data (AAD) binds a blob to
its row (``f"{channel}:{account_id}"``), so a blob copied onto another account's row
fails to decrypt instead of handing that account someone else's token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from cauce_runtime._settings import ServiceSettings

#: The placeholder key ring: replaced by a fixed, published key in dev/test only.
DEV_CREDENTIALS_KEYS = "dev-credentials-keys"
BLOB_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
_MAX_KEY_ID = 255


class CredentialsError(Exception):
    """A blob could not be decrypted: unknown key id, wrong key or AAD, or tampering."""


class KeyConfigError(ValueError):
    """The configured key ring is unusable (bad base64, wrong size, unknown active id)."""


class CredentialsCipher:
    """Encrypts and decrypts credential blobs with a ring of AES-256 keys."""

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if not keys:
            raise KeyConfigError("the credentials key ring is empty")
        for key_id, key in keys.items():
            if not key_id or len(key_id.encode()) > _MAX_KEY_ID:
                raise KeyConfigError(f"key id must be 1..{_MAX_KEY_ID} bytes")
            if len(key) != KEY_BYTES:
                raise KeyConfigError(f"key {key_id!r} must be {KEY_BYTES} bytes, got {len(key)}")
        if active_key_id not in keys:
            raise KeyConfigError(f"active key id {active_key_id!r} is not in the key ring")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.active_key_id = active_key_id
        self._fingerprint_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"cauce credentials fingerprint"
        ).derive(keys[active_key_id])

    @classmethod
    def from_settings(
        cls, keys: str | Mapping[str, str | bytes], active_key_id: str
    ) -> CredentialsCipher:
        """Build from configuration: a JSON object (or mapping) of key id -> base64 key.

        ``bytes`` values in a mapping are taken as raw keys. Keys that do not decode
        to exactly 32 bytes are refused.
        """
        if isinstance(keys, str):
            try:
                parsed = json.loads(keys)
            except json.JSONDecodeError as exc:
                raise KeyConfigError("credentials keys must be a JSON object") from exc
            if not isinstance(parsed, dict):
                raise KeyConfigError("credentials keys must be a JSON object")
            keys = parsed
        raw: dict[str, bytes] = {}
        for key_id, value in keys.items():
            if isinstance(value, bytes):
                raw[key_id] = value
                continue
            if not isinstance(value, str):
                raise KeyConfigError(f"key {key_id!r} must be a base64 string")
            try:
                raw[key_id] = base64.b64decode(value, validate=True)
            except binascii.Error as exc:
                raise KeyConfigError(f"key {key_id!r} is not valid base64") from exc
        return cls(raw, active_key_id)

    @staticmethod
    def generate_key() -> str:
        """A fresh random key, base64-encoded as configuration expects it."""
        return base64.b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode()

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt with the active key and a random nonce."""
        key_id = self.active_key_id.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[self.active_key_id].encrypt(nonce, plaintext, aad)
        return bytes([BLOB_VERSION, len(key_id)]) + key_id + nonce + sealed

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        """Decrypt with the key named in the blob; :class:`CredentialsError` if it fails."""
        key_id, nonce, sealed = self._split(blob)
        aead = self._aead.get(key_id)
        if aead is None:
            raise CredentialsError(f"blob was encrypted with unknown key id {key_id!r}")
        try:
            return aead.decrypt(nonce, sealed, aad)
        except InvalidTag as exc:
            raise CredentialsError(
                "blob failed authentication (wrong key, AAD or tampered)"
            ) from exc

    def fingerprint(self, plaintext: bytes) -> str:
        """A short keyed digest telling two credentials apart without revealing them.

        Keyed (HMAC with a key derived from the active key) so a short or guessable
        secret such as a password cannot be confirmed offline from the fingerprint.
        Store it with the blob: it changes when the active key does.
        """
        mac = hmac.HMAC(self._fingerprint_key, hashes.SHA256())
        mac.update(plaintext)
        return mac.finalize()[:8].hex()

    def key_id_of(self, blob: bytes) -> str:
        """The id of the key a blob was encrypted with."""
        return self._split(blob)[0]

    def needs_rotation(self, blob: bytes) -> bool:
        """True when the blob was not encrypted with the active key."""
        return self.key_id_of(blob) != self.active_key_id

    def reencrypt(self, blob: bytes, aad: bytes) -> bytes:
        """The same plaintext, encrypted again with the active key."""
        return self.encrypt(self.decrypt(blob, aad), aad)

    @staticmethod
    def _split(blob: bytes) -> tuple[str, bytes, bytes]:
        if len(blob) < 2 or blob[0] != BLOB_VERSION:
            raise CredentialsError("not a credentials blob (unknown version)")
        id_len = blob[1]
        nonce_at = 2 + id_len
        sealed_at = nonce_at + NONCE_BYTES
        if len(blob) < sealed_at + 16:
            raise CredentialsError("credentials blob is truncated")
        try:
            key_id = blob[2:nonce_at].decode()
        except UnicodeDecodeError as exc:
            raise CredentialsError("credentials blob has a malformed key id") from exc
        return key_id, blob[nonce_at:sealed_at], blob[sealed_at:]


class KeyRingSettings(ServiceSettings):
    """Settings of a service that keeps secrets at rest (channel credentials, model
    keys): ``CAUCE_CREDENTIALS_KEYS``, a JSON object of key id -> base64 of 32 random
    bytes, and the id of the key new blobs are written with. Every such service reads
    the same ring."""

    credentials_keys: SecretStr = SecretStr(DEV_CREDENTIALS_KEYS)
    credentials_active_key_id: str = "dev"

    def credentials_key_ring(self) -> str:
        """The key ring JSON; in dev/test the placeholder becomes a fixed published key."""
        value = self.credentials_keys.get_secret_value()
        if value == DEV_CREDENTIALS_KEYS and self.environment in ("dev", "test"):
            key = hashlib.sha256(b"cauce dev credentials key - not secret").digest()
            return json.dumps({self.credentials_active_key_id: base64.b64encode(key).decode()})
        return value

    def credentials_cipher(self) -> CredentialsCipher:
        return CredentialsCipher.from_settings(
            self.credentials_key_ring(), self.credentials_active_key_id
        )
