"""Every SCI TOTAL failure a caller sees is counted by code on the shared provider
metrics (what the SRE dashboards and alerts read), once per failed call."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cauce_payments.sci_total import SciAuthFailed, SciUnavailable
from cauce_runtime import ServiceSettings
from cauce_runtime.telemetry import install_meter_provider

from .test_sci_client import make_client, sandbox_post


def counter(metric: str, **labels: str) -> float:
    """The current value of a counter sample in this process's /metrics (0 if absent)."""
    text = generate_latest(REGISTRY).decode()
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == metric and labels.items() <= found.labels.items():
                return float(found.value)
    return 0.0


@pytest.fixture(autouse=True)
def meter_provider() -> None:
    install_meter_provider(ServiceSettings(environment="test", _env_file=None))  # type: ignore[call-arg]


async def test_sci_errors_are_counted_by_code(sandbox_url: str) -> None:
    errors = "cauce_provider_errors_total"
    before_500 = counter(errors, provider="sci_total", code="http_500")
    before_429 = counter(errors, provider="sci_total", code="http_429")
    sci = make_client(sandbox_url)
    try:
        assert len(await sci.debts("HHO137")) == 1  # a success counts nothing
        with pytest.raises(SciUnavailable):
            await sci.debts("ERR500")
        await sandbox_post(sandbox_url, "/sandbox/faults", json={"target": "sci", "kind": "429"})
        with pytest.raises(SciUnavailable):
            await sci.debts("HHO137")
    finally:
        await sci.aclose()
    assert counter(errors, provider="sci_total", code="http_500") - before_500 == 1
    assert counter(errors, provider="sci_total", code="http_429") - before_429 == 1


async def test_refused_credentials_are_counted(sandbox_url: str) -> None:
    failing = "cauce_provider_credentials_failing_total"
    before = counter(failing, provider="sci_total")
    before_401 = counter("cauce_provider_errors_total", provider="sci_total", code="http_401")
    sci = make_client(sandbox_url, password="wrong")
    try:
        with pytest.raises(SciAuthFailed):
            await sci.debts("HHO137")
    finally:
        await sci.aclose()
    assert counter(failing, provider="sci_total") - before == 1
    after_401 = counter("cauce_provider_errors_total", provider="sci_total", code="http_401")
    assert after_401 - before_401 == 1
