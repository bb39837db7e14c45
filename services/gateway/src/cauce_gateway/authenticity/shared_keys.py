"""Shared keys: ManyChat's ``X-API-KEY`` and the unguessable token in a Chattigo URL."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


def matching_key(offered: str | None, keys: Mapping[str, T]) -> T | None:
    """The value registered under ``offered``, compared in constant time against every key.

    Every key is compared (no early exit) so timing does not reveal which keys exist.
    """
    if not offered:
        return None
    found: T | None = None
    offered_bytes = offered.encode()
    for key, value in keys.items():
        if hmac.compare_digest(key.encode(), offered_bytes):
            found = value
    return found
