"""Permission names as PostgreSQL stores them (``text[]``), read back as a set."""

from __future__ import annotations

from collections.abc import Iterable

from cauce_contracts.identity import Permission


def permission_set(names: Iterable[str]) -> frozenset[Permission]:
    return frozenset(Permission(name) for name in names)
