import pytest

from cauce_gateway.authenticity import NotAuthentic, verify_ycloud_signature
from cauce_gateway.authenticity.ycloud_signature import ycloud_signature

SECRET = b"whsec_test"
BODY = b'{"id":"evt_1","type":"whatsapp.inbound_message.received"}'
NOW = 1_767_030_562


def test_valid_signature_passes() -> None:
    verify_ycloud_signature(BODY, ycloud_signature(BODY, SECRET, NOW), [SECRET], now=NOW + 10)


def test_wrong_secret_is_rejected() -> None:
    with pytest.raises(NotAuthentic, match="does not match"):
        verify_ycloud_signature(BODY, ycloud_signature(BODY, b"x", NOW), [SECRET], now=NOW)


def test_old_timestamp_is_rejected_even_with_a_valid_signature() -> None:
    header = ycloud_signature(BODY, SECRET, NOW)
    with pytest.raises(NotAuthentic, match="tolerance"):
        verify_ycloud_signature(BODY, header, [SECRET], now=NOW + 301)


def test_signature_binds_the_timestamp() -> None:
    good = ycloud_signature(BODY, SECRET, NOW)
    forged = good.replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(NotAuthentic):
        verify_ycloud_signature(BODY, forged, [SECRET], now=NOW)


@pytest.mark.parametrize("header", [None, "", "s=abc", "t=abc,s=def", "garbage"])
def test_malformed_header_is_rejected(header: str | None) -> None:
    with pytest.raises(NotAuthentic):
        verify_ycloud_signature(BODY, header, [SECRET], now=NOW)
