import hmac
import json

import pytest

from cauce_gateway.authenticity import NotAuthentic, verify_meta_signature
from cauce_gateway.authenticity.meta_signature import meta_signature

SECRET = b"app-secret-for-tests"
BODY = json.dumps(
    {"object": "whatsapp_business_account", "entry": []}, separators=(",", ":")
).encode()


def test_valid_signature_passes() -> None:
    verify_meta_signature(BODY, meta_signature(BODY, SECRET), [SECRET])


def test_uppercase_hex_is_accepted() -> None:
    header = "sha256=" + meta_signature(BODY, SECRET).removeprefix("sha256=").upper()
    verify_meta_signature(BODY, header, [SECRET])


def test_rotated_secret_is_accepted() -> None:
    verify_meta_signature(BODY, meta_signature(BODY, SECRET), [b"new-secret", SECRET])


def test_wrong_secret_is_rejected() -> None:
    with pytest.raises(NotAuthentic, match="does not match"):
        verify_meta_signature(BODY, meta_signature(BODY, b"other"), [SECRET])


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header_is_rejected(header: str | None) -> None:
    with pytest.raises(NotAuthentic, match="missing"):
        verify_meta_signature(BODY, header, [SECRET])


@pytest.mark.parametrize("prefix", ["sha1=", "SHA256=", "", "sha256 "])
def test_wrong_prefix_is_rejected(prefix: str) -> None:
    digest = meta_signature(BODY, SECRET).removeprefix("sha256=")
    with pytest.raises(NotAuthentic):
        verify_meta_signature(BODY, prefix + digest, [SECRET])


def test_reserialised_body_is_rejected() -> None:
    """Meta signs the exact bytes; the same JSON with other whitespace is another body."""
    signature = meta_signature(BODY, SECRET)
    reserialised = json.dumps(json.loads(BODY), indent=1).encode()
    assert json.loads(reserialised) == json.loads(BODY)
    with pytest.raises(NotAuthentic):
        verify_meta_signature(reserialised, signature, [SECRET])


def test_tampered_body_is_rejected() -> None:
    signature = meta_signature(BODY, SECRET)
    with pytest.raises(NotAuthentic):
        verify_meta_signature(BODY.replace(b"[]", b"[1]"), signature, [SECRET])


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    with pytest.raises(NotAuthentic):
        verify_meta_signature(BODY, meta_signature(BODY, b"other"), [SECRET, b"second"])
    # every configured secret is compared, through compare_digest, with no early exit
    assert len(calls) == 2
