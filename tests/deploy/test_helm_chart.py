"""The chart's values.schema.json refuses what would deploy badly, its NOTES tell the
operator what to do next, and values flow through to the policy checks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest

from cauce_devstack.k8s import policy
from cauce_devstack.k8s.render import helm_template, helm_values

from .conftest import REPO_ROOT, make_context

CHART = REPO_ROOT / "deploy" / "helm" / "cauce"


def schema_error(values: dict[str, Any]) -> str:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError) as raised:
        chart.validate_schema(chart.merge_values(values))
    return str(raised.value)


@pytest.mark.parametrize(
    ("values", "mentions"),
    [
        ({"image": {"tag": "latest"}}, "tag"),
        ({"image": {"tag": ""}}, "tag"),
        ({"nats": {"image": "nats:latest"}}, "image"),
        ({"nats": {"image": "nats"}}, "image"),
        ({"nats": {"replicas": 2}}, "replicas"),
        ({"services": {"gateway": {"config": {"CAUCE_PORT": 8080}}}}, "CAUCE_PORT"),
        ({"services": {"gateway": {"config": {"PORT": "8080"}}}}, "PORT"),
        ({"services": {"gateway": {"store": "redis"}}}, "store"),
        ({"services": {"webhooks": {}}}, "webhooks"),
        ({"replicaCount": 3}, "replicaCount"),
    ],
)
def test_the_schema_refuses_bad_values(values: dict[str, Any], mentions: str) -> None:
    assert mentions in schema_error(values)


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_shipped_values_pass_the_schema(environment: str) -> None:
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(chart.merge_values(helm_values(CHART, environment)))


def notes(environment: str) -> str:
    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(
            helm_values(CHART, environment), name="cauce", namespace="ns", is_install=True
        )
    return rendered["cauce/templates/NOTES.txt"]


def test_prod_notes_say_what_to_do_next() -> None:
    text = notes("prod")
    assert "Create them before the pods can start" in text
    assert "gateway-secrets" in text and "cauce-common-secrets" in text
    assert "Point webhooks.cauce.example.com at the ingress controller" in text
    assert "kubectl -n ns rollout status deploy/gateway" in text
    assert "statefulset/nats" in text and "3 node(s)" in text
    assert "Traces go to http://otel-collector.observability" in text


def test_dev_notes_point_at_the_dev_tools() -> None:
    text = notes("dev")
    assert "CREATED them from values: DEV-ONLY" in text
    assert "port-forward svc/jaeger 16686" in text
    assert "logs job/provision-streams" in text
    assert "sandbox/customer/send" in text


def test_a_misspelt_setting_in_values_fails_the_policy() -> None:
    values = copy.deepcopy(helm_values(CHART, "prod"))
    values.setdefault("services", {}).setdefault("notifier", {}).setdefault("config", {})[
        "CAUCE_GRAPH_VERSION"
    ] = "v23.0"
    manifests = helm_template(CHART, values, "cauce")
    problems = [str(p) for p in policy.check_all(make_context(manifests))]
    assert any("CAUCE_GRAPH_VERSION (from ConfigMap/notifier-config)" in p for p in problems)


def test_the_chart_directory_is_complete() -> None:
    for name in ("Chart.yaml", "values.yaml", "values.schema.json", "templates/NOTES.txt"):
        assert (CHART / name).is_file(), name
    documented = (CHART / "values.yaml").read_text()
    assert documented.count("# --") >= 8, "values.yaml documents each section"
    assert Path(CHART / "values-dev.yaml").read_text().count("DEV-ONLY") >= 1
