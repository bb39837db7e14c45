"""AES-GCM key ring: round trip, tampering, AAD binding, rotation."""

from __future__ import annotations

import base64
import json

import pytest

from cauce_runtime.credentials import CredentialsCipher, CredentialsError, KeyConfigError

OLD = base64.b64encode(b"o" * 32).decode()
NEW = base64.b64encode(b"n" * 32).decode()
SECRET = b'{"access_token":"EAAG-super-secret-token-123"}'
AAD = b"whatsapp:734053143122597"


def test_round_trip_and_no_plaintext_in_blob() -> None:
    cipher = CredentialsCipher.from_settings(json.dumps({"k1": OLD}), "k1")
    blob = cipher.encrypt(SECRET, AAD)
    assert b"super-secret" not in blob
    assert SECRET not in blob
    assert cipher.decrypt(blob, AAD) == SECRET
    assert cipher.key_id_of(blob) == "k1"
    # a fresh nonce each time
    assert cipher.encrypt(SECRET, AAD) != blob


def test_tampered_blob_is_refused() -> None:
    cipher = CredentialsCipher.from_settings({"k1": OLD}, "k1")
    blob = bytearray(cipher.encrypt(SECRET, AAD))
    blob[-5] ^= 0x01
    with pytest.raises(CredentialsError):
        cipher.decrypt(bytes(blob), AAD)


def test_blob_moved_to_another_row_is_refused() -> None:
    cipher = CredentialsCipher.from_settings({"k1": OLD}, "k1")
    blob = cipher.encrypt(SECRET, AAD)
    with pytest.raises(CredentialsError):
        cipher.decrypt(blob, b"whatsapp:999")


def test_wrong_key_and_unknown_key_are_refused() -> None:
    blob = CredentialsCipher.from_settings({"k1": OLD}, "k1").encrypt(SECRET, AAD)
    with pytest.raises(CredentialsError):
        CredentialsCipher.from_settings({"k1": NEW}, "k1").decrypt(blob, AAD)
    with pytest.raises(CredentialsError, match="unknown key id"):
        CredentialsCipher.from_settings({"k2": NEW}, "k2").decrypt(blob, AAD)
    with pytest.raises(CredentialsError):
        CredentialsCipher.from_settings({"k1": OLD}, "k1").decrypt(b"\x01\x02k1", AAD)


def test_rotation_keeps_old_blobs_readable_and_rewrites_them() -> None:
    old_blob = CredentialsCipher.from_settings({"k1": OLD}, "k1").encrypt(SECRET, AAD)
    ring = CredentialsCipher.from_settings({"k1": OLD, "k2": NEW}, "k2")
    assert ring.needs_rotation(old_blob)
    assert ring.decrypt(old_blob, AAD) == SECRET
    new_blob = ring.reencrypt(old_blob, AAD)
    assert not ring.needs_rotation(new_blob)
    assert ring.key_id_of(new_blob) == "k2"
    assert CredentialsCipher.from_settings({"k2": NEW}, "k2").decrypt(new_blob, AAD) == SECRET


@pytest.mark.parametrize(
    ("keys", "active"),
    [
        ({"k1": base64.b64encode(b"short").decode()}, "k1"),
        ({"k1": "not base64!!"}, "k1"),
        ({"k1": OLD}, "k2"),
        ({}, "k1"),
        ("[1, 2]", "k1"),
        ("{not json", "k1"),
    ],
)
def test_bad_key_configuration_is_refused(keys: object, active: str) -> None:
    with pytest.raises(KeyConfigError):
        CredentialsCipher.from_settings(keys, active)  # type: ignore[arg-type]


def test_fingerprint_is_keyed_and_stable() -> None:
    cipher = CredentialsCipher.from_settings({"k1": OLD}, "k1")
    other = CredentialsCipher.from_settings({"k1": NEW}, "k1")
    assert cipher.fingerprint(SECRET) == cipher.fingerprint(SECRET)
    assert cipher.fingerprint(SECRET) != cipher.fingerprint(b"other")
    assert cipher.fingerprint(SECRET) != other.fingerprint(SECRET)
