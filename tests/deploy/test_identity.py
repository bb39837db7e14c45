"""identity, deployed like payments: its settings match IdentitySettings, its signing key
is required in prod and left empty only in dev, and its network is the smallest that
works (no service calls it: they verify its tokens with the keys in JetStream KV)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from cauce_devstack.k8s import policy
from cauce_devstack.k8s.catalogue import external_secrets
from cauce_devstack.k8s.render import Manifest, Rendering

from .conftest import REPO_ROOT, find, make_context

SOURCES = ("kustomize/dev", "kustomize/prod", "helm/dev", "helm/prod")


@pytest.mark.parametrize("source", SOURCES)
def test_identity_passes_the_policy_with_its_settings_class(
    renderings: dict[str, Rendering], source: str
) -> None:
    problems = policy.check_all(make_context(renderings[source].manifests))
    assert [str(p) for p in problems] == []
    config = find(renderings[source].manifests, "ConfigMap", "identity-config")["data"]
    assert config["CAUCE_PORT"] == "8085"
    assert json.loads(config["CAUCE_RETIRED_PUBLIC_KEYS"]) == []
    assert int(config["CAUCE_ACCESS_TOKEN_TTL_S"]) <= 3600


@pytest.mark.parametrize("source", ["kustomize/prod", "helm/prod"])
def test_prod_identity_needs_its_signing_key(renderings: dict[str, Rendering], source: str) -> None:
    documented = dict(external_secrets(REPO_ROOT / "deploy" / "README.md"))
    assert documented["identity-secrets"] == {
        "cauce_nats_nkey_seed",
        "cauce_postgres_url",
        "cauce_signing_key",
    }
    documented["identity-secrets"] = documented["identity-secrets"] - {"cauce_signing_key"}
    manifests = renderings[source].manifests
    problems = [
        str(p) for p in policy.check_all(make_context(manifests, external_secrets=documented))
    ]
    assert any("prod: CAUCE_SIGNING_KEY is required there" in p for p in problems), problems


def _decoded(manifest: Manifest) -> dict[str, str]:
    if "stringData" in manifest:
        return dict(manifest["stringData"])
    return {k: base64.b64decode(v).decode() for k, v in (manifest.get("data") or {}).items()}


@pytest.mark.parametrize("source", ["kustomize/dev", "helm/dev"])
def test_dev_identity_signs_with_an_ephemeral_key(
    renderings: dict[str, Rendering], source: str
) -> None:
    """An empty key is accepted (and replaced by one made at start) only in dev/test."""
    manifests = renderings[source].manifests
    secret = _decoded(find(manifests, "Secret", "identity-secrets"))
    assert secret["cauce_signing_key"] == ""
    assert secret["cauce_postgres_url"].startswith("postgresql://")
    environment = find(manifests, "ConfigMap", "cauce-common-config")["data"]["CAUCE_ENVIRONMENT"]
    assert environment in ("dev", "test")


def _identity_labels(manifests: list[Manifest]) -> dict[str, str]:
    labels: dict[str, str] = find(manifests, "Deployment", "identity")["spec"]["template"][
        "metadata"
    ]["labels"]
    return labels


def _peer(peer: dict[str, Any]) -> str:
    return json.dumps(peer, sort_keys=True)


@pytest.mark.parametrize("source", SOURCES)
def test_identity_is_reached_only_from_the_ingress_api_clients_console_and_prometheus(
    renderings: dict[str, Rendering], source: str
) -> None:
    spec = find(renderings[source].manifests, "NetworkPolicy", "identity")["spec"]
    peers = {_peer(peer) for rule in spec["ingress"] for peer in rule["from"]}
    assert peers == {
        _peer({"podSelector": {"matchLabels": {"cauce.io/api-client": "true"}}}),
        # the console signs people in (and refreshes their tokens) there
        _peer({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "console"}}}),
        _peer(
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
                },
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
            }
        ),
        _peer(
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
        ),
    }
    assert all(rule["ports"] == [{"port": "http", "protocol": "TCP"}] for rule in spec["ingress"])


@pytest.mark.parametrize("source", SOURCES)
def test_identity_reaches_only_dns_nats_the_collector_and_postgresql(
    renderings: dict[str, Rendering], source: str
) -> None:
    spec = find(renderings[source].manifests, "NetworkPolicy", "identity")["spec"]
    ports = {(p["port"], p["protocol"]) for rule in spec["egress"] for p in rule["ports"]}
    assert ports == {(53, "UDP"), (53, "TCP"), (4222, "TCP"), (4318, "TCP"), (5432, "TCP")}
    assert not [peer for rule in spec["egress"] for peer in rule.get("to", []) if "ipBlock" in peer]


@pytest.mark.parametrize("source", SOURCES)
def test_no_workload_but_the_console_is_allowed_to_call_identity(
    renderings: dict[str, Rendering], source: str
) -> None:
    """Other services verify tokens locally: no egress rule opens identity's port to
    identity's pods (the ingress controller lives outside the namespace's policies); the
    console, which signs people in there, is the one caller."""
    manifests = renderings[source].manifests
    labels = _identity_labels(manifests)
    port = find(manifests, "Service", "identity")["spec"]["ports"][0]["port"]
    for netpol in (
        m for m in manifests if m["kind"] == "NetworkPolicy" and m["metadata"]["name"] != "console"
    ):
        for rule in netpol["spec"].get("egress") or []:
            rule_ports = [p.get("port") for p in rule.get("ports") or []]
            if rule_ports and port not in rule_ports and "http" not in rule_ports:
                continue
            peers = rule.get("to")
            assert peers, f"NetworkPolicy/{netpol['metadata']['name']} allows any egress"
            for peer in peers:
                reaches = "podSelector" in peer and policy.selector_matches(
                    peer["podSelector"], labels
                )
                assert not reaches, f"NetworkPolicy/{netpol['metadata']['name']} reaches identity"
