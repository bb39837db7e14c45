"""The Grafana dashboards and the alerts in ``deploy/observability`` read only metrics the
services really expose, every alert has its runbook section, and the kustomization
ships every file.

The exposed names come from the code (``exposed_metrics.py`` imports every module and
records each instrument it creates), so renaming a metric without updating the
dashboards and alerts fails here.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from .exposed_metrics import exposed
from .promql_names import metric_names, parser_in_use

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
DASHBOARDS = sorted((OBSERVABILITY / "dashboards").glob("*.json"))
RULES = OBSERVABILITY / "prometheus-rules.yaml"
RUNBOOK = ROOT / "docs" / "runbook.md"
RUNBOOK_URL = "https://github.com/cauce/cauce/blob/main/docs/runbook.md"

_LABEL_VALUES = re.compile(r"label_values\(\s*([A-Za-z_:][\w:]*)\s*,")


@cache
def exposed_names() -> frozenset[str]:
    return frozenset(exposed()[1])


def dashboard(path: Path) -> dict[str, Any]:
    board: dict[str, Any] = json.loads(path.read_text())
    return board


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    found = []
    for panel in board.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def dashboard_queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    """``(where, PromQL)`` of every panel target."""
    return [
        (f"{board['uid']}/{panel['title']}/{target['refId']}", target["expr"])
        for panel in panels(board)
        for target in panel.get("targets", [])
    ]


def variable_metrics(board: dict[str, Any]) -> list[tuple[str, str]]:
    """``(where, metric)`` of every ``label_values(metric, label)`` variable query."""
    found = []
    for variable in board.get("templating", {}).get("list", []):
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        found += [(f"{board['uid']}/${variable['name']}", m) for m in _LABEL_VALUES.findall(text)]
    return found


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    assert document["apiVersion"] == "monitoring.coreos.com/v1"
    assert document["kind"] == "PrometheusRule"
    return [rule for group in document["spec"]["groups"] for rule in group["rules"]]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def runbook_anchors() -> set[str]:
    return {
        github_anchor(line.lstrip("#"))
        for line in RUNBOOK.read_text().splitlines()
        if re.match(r"#{1,6} ", line)
    }


#: Series Prometheus makes itself for every target (not exposed by the services).
PROMETHEUS_OWN = frozenset({"up"})


def allowed(name: str) -> bool:
    return name in exposed_names() or name in PROMETHEUS_OWN


def test_dashboards_are_grafana_json_with_queries() -> None:
    assert {p.name for p in DASHBOARDS} >= {"cauce-flows.json", "cauce-bus.json"}
    uids = set()
    for path in DASHBOARDS:
        board = dashboard(path)
        assert board["uid"] not in uids, path
        uids.add(board["uid"])
        assert board["title"] and board["schemaVersion"] >= 36
        ids = [panel["id"] for panel in panels(board)]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for panel in panels(board):
            assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
            if panel["type"] != "row":
                assert panel["targets"], f"{path.name}: {panel['title']} has no query"
                assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert dashboard_queries(board)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_queries_use_only_exposed_metrics(path: Path) -> None:
    board = dashboard(path)
    unknown = []
    for where, expr in dashboard_queries(board):
        names = metric_names(expr)
        assert names, f"{where}: no metric in {expr!r}"
        unknown += [(where, name) for name in sorted(names) if not allowed(name)]
    unknown += [(where, m) for where, m in variable_metrics(board) if not allowed(m)]
    assert not unknown, f"metrics the services do not expose ({parser_in_use()}): {unknown}"


def test_alerts_use_only_exposed_metrics_and_have_runbook_sections() -> None:
    anchors = runbook_anchors()
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names)), "duplicate alert names"
    assert {
        "CauceDeadLettersGrowing",
        "CauceDLQStreamGrowing",
        "CauceConsumerLagging",
        "CauceConsumerStalled",
        "CauceWebhook5xx",
        "CauceWebhookBusUnavailable",
        "CauceProviderRateLimited",
        "CauceProviderAuthErrors",
        "CauceCredentialsFailing",
        "CauceCrmSyncLagging",
        "CauceCrmSyncDeadLetters",
        "CauceJetStreamStorageFilling",
        "CauceJetStreamStorageFull",
        "CauceTargetDown",
        "CauceTargetsAbsent",
    } <= set(names)
    for rule in rules():
        alert = rule["alert"]
        unknown = [n for n in sorted(metric_names(rule["expr"])) if not allowed(n)]
        assert not unknown, f"{alert} reads metrics nobody exposes: {unknown}"
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, alert
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], alert
        url = annotations["runbook_url"]
        base, _, anchor = url.partition("#")
        assert base == RUNBOOK_URL, alert
        assert anchor == github_anchor(alert), f"{alert}: link its own section, not {anchor}"
        assert anchor in anchors, f"{alert}: docs/runbook.md has no section #{anchor}"


def test_a_renamed_metric_is_caught() -> None:
    """The check above has teeth: a name the code does not define is refused, whichever
    PromQL reader is in use."""
    expr = (
        "sum by (consumer) (rate(cauce_consumer_processed_total"
        '{namespace=~"$namespace"}[$__rate_interval]))'
    )
    assert metric_names(expr) == {"cauce_consumer_processed_total"}
    assert allowed("cauce_consumer_processed_total")
    renamed = expr.replace("cauce_consumer_processed_total", "cauce_consumer_handled_total")
    assert not all(allowed(n) for n in metric_names(renamed))
    with pytest.raises(ValueError, match="unclosed"):
        metric_names("sum(rate(cauce_consumer_processed_total[5m])")


def test_the_kustomization_ships_every_dashboard_and_the_rules() -> None:
    kustomization = yaml.safe_load((OBSERVABILITY / "kustomization.yaml").read_text())
    resources = set(kustomization["resources"])
    assert {"prometheus-rules.yaml", "podmonitor.yaml"} <= resources
    for resource in resources:
        assert (OBSERVABILITY / resource).is_file(), resource
    shipped = {f for generator in kustomization["configMapGenerator"] for f in generator["files"]}
    assert shipped == {f"dashboards/{p.name}" for p in DASHBOARDS}
    assert kustomization["generatorOptions"]["labels"] == {"grafana_dashboard": "1"}
