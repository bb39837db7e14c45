"""Unit tests of the crm-sync pusher: in-memory fakes, no servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cauce_devstack.testing import no_network


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    with no_network():
        yield
