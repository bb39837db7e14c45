"""Fixtures for the flow tests (helpers live in each test module: with
``--import-mode=importlib`` test modules cannot import one another)."""

from __future__ import annotations

import pytest

from cauce_conversation.flows import VehicleTaxFlow


@pytest.fixture
def flow() -> VehicleTaxFlow:
    return VehicleTaxFlow()
