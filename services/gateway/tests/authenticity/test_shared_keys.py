from cauce_gateway.authenticity import matching_key

KEYS = {"key-for-acme-0123456789": "acme", "key-for-globex-987654321": "globex"}


def test_known_key_returns_its_value() -> None:
    assert matching_key("key-for-globex-987654321", KEYS) == "globex"


def test_unknown_prefix_or_missing_key_returns_none() -> None:
    assert matching_key("key-for-acme", KEYS) is None
    assert matching_key("", KEYS) is None
    assert matching_key(None, KEYS) is None
