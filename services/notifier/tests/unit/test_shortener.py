"""Short link codes: stable for what they were made for, distinct otherwise, and only
whole http(s) URLs are shortened."""

from __future__ import annotations

from typing import Any

from cauce_notifier.links.shortener import CODE_CHARS, Shortener, is_url


def shortener(secret: bytes = b"s1") -> Shortener:
    store: Any = None  # code() and url() never touch it
    return Shortener("https://l.example.com/", secret, store)


def test_a_code_is_stable_and_depends_on_what_it_was_made_for_and_the_secret() -> None:
    one = shortener().code("campaign", "c1", "7", "1")
    assert one == shortener().code("campaign", "c1", "7", "1")
    assert len(one) == CODE_CHARS and one.replace("-", "").replace("_", "").isalnum()
    assert one != shortener().code("campaign", "c1", "8", "1")
    assert one != shortener(b"s2").code("campaign", "c1", "7", "1")
    assert shortener().url(one) == f"https://l.example.com/l/{one}"


def test_only_whole_web_urls_are_shortened() -> None:
    assert is_url("https://pagos.example.com/f/1?x=2")
    assert is_url("http://a.co")
    assert not is_url("pay/123")  # a URL button's suffix
    assert not is_url("see https://a.co")
    assert not is_url("https://")
    assert not is_url("ftp://a.co/x")
