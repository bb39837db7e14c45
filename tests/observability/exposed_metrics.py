"""Every Prometheus sample name the services can expose at ``/metrics``, derived from
the code itself.

Run as a script (in a fresh interpreter, so the global meter provider is ours): a
recording meter provider is installed *before* any service module is imported, every
module of the runtime and of each service is imported, and each instrument they
create is recorded with its name, unit and kind. Each one is then re-created on a
private SDK meter provider exporting through ``opentelemetry-exporter-prometheus`` (the
exporter ``/metrics`` uses), given one data point, and collected: the sample names come
out exactly as Prometheus scrapes them (``_total``, ``_seconds``, ``_bucket``...). The
process and platform collectors ``prometheus_client`` registers by default are added.

A metric renamed in the code changes this set, so a dashboard or an alert still using
the old name fails ``test_dashboards.py``.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: The packages whose modules may create instruments.
PACKAGES = (
    "cauce_runtime",
    "cauce_gateway",
    "cauce_conversation",
    "cauce_payments",
    "cauce_crm_sync",
    "cauce_notifier",
)


@dataclass(frozen=True)
class Instrument:
    kind: str  # the Meter method that created it: create_counter, create_histogram...
    name: str
    unit: str


def _recording_provider(seen: list[Instrument]) -> Any:
    from opentelemetry.metrics import NoOpMeter, NoOpMeterProvider

    def recorder(kind: str, unit_position: int) -> Callable[..., Any]:
        def create(self: NoOpMeter, name: str, *args: Any, **kwargs: Any) -> Any:
            unit = kwargs.get("unit")
            if unit is None and len(args) > unit_position:
                unit = args[unit_position]
            seen.append(Instrument(kind, name, unit or ""))
            return getattr(NoOpMeter, kind)(self, name, *args, **kwargs)

        return create

    synchronous = ("create_counter", "create_up_down_counter", "create_histogram", "create_gauge")
    observable = (
        "create_observable_counter",
        "create_observable_up_down_counter",
        "create_observable_gauge",
    )
    methods = {kind: recorder(kind, 0) for kind in synchronous}
    # create_observable_*(name, callbacks, unit, description)
    methods |= {kind: recorder(kind, 1) for kind in observable}
    meter_class = type("RecordingMeter", (NoOpMeter,), methods)

    class RecordingMeterProvider(NoOpMeterProvider):
        def get_meter(self, name: str, *args: Any, **kwargs: Any) -> Any:
            return meter_class(name)

    return RecordingMeterProvider()


def _import_everything(packages: Sequence[str]) -> None:
    for package_name in packages:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if module.name.rsplit(".", 1)[-1] == "__main__":
                continue  # importing it would start the service
            importlib.import_module(module.name)


def _sample_names(instruments: Sequence[Instrument]) -> set[str]:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.metrics import CallbackOptions, Observation
    from opentelemetry.sdk.metrics import MeterProvider
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=registry)])
    meter = provider.get_meter("exposed-metrics")

    def one(_: CallbackOptions) -> list[Observation]:
        return [Observation(1)]

    for instrument in instruments:
        if instrument.kind.startswith("create_observable_"):
            getattr(meter, instrument.kind)(instrument.name, [one], unit=instrument.unit)
            continue
        created = getattr(meter, instrument.kind)(instrument.name, unit=instrument.unit)
        for method in ("add", "record", "set"):
            if hasattr(created, method):
                getattr(created, method)(1)
                break
    names = {sample.name for family in registry.collect() for sample in family.samples}
    provider.shutdown()
    return names


def _default_collector_names() -> set[str]:
    from prometheus_client import REGISTRY

    return {sample.name for family in REGISTRY.collect() for sample in family.samples}


def main() -> None:
    from opentelemetry import metrics

    seen: list[Instrument] = []
    metrics.set_meter_provider(_recording_provider(seen))
    defaults = _default_collector_names()  # before any reader registers on REGISTRY
    _import_everything(PACKAGES)
    print(
        json.dumps(
            {
                "instruments": [vars(i) for i in seen],
                "samples": sorted(_sample_names(seen) | defaults),
            }
        )
    )


def exposed() -> tuple[list[Instrument], set[str]]:
    """The instruments the code creates and every sample name ``/metrics`` can show."""
    result = subprocess.run(  # noqa: S603 - this very file, fixed argv
        [sys.executable, __file__], capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"exposed_metrics failed:\n{result.stderr}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    instruments = [Instrument(**i) for i in data["instruments"]]
    return instruments, set(data["samples"])


if __name__ == "__main__":
    main()
