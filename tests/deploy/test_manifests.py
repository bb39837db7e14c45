"""Every rendering (kustomize dev/prod, helm dev/prod) is schema-valid for Kubernetes
1.32 (strict), passes cauce's policy and helm lint, and the two tools agree."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from cauce_devstack.k8s import policy, schemas
from cauce_devstack.k8s.render import KUBE_VERSION, Manifest, Rendering

from .conftest import find, make_context

SOURCES = ("kustomize/dev", "kustomize/prod", "helm/dev", "helm/prod")
SERVICES = ("gateway", "conversation", "payments", "crm-sync", "notifier", "identity", "console")


@pytest.mark.parametrize("source", SOURCES)
def test_schema_valid_strict(renderings: dict[str, Rendering], source: str) -> None:
    report = schemas.validate(renderings[source].manifests, KUBE_VERSION, strict=True)
    assert report.problems == []
    assert report.validated == len(renderings[source].manifests)


@pytest.mark.parametrize("source", SOURCES)
def test_policy_clean(renderings: dict[str, Rendering], source: str) -> None:
    problems = policy.check_all(make_context(renderings[source].manifests))
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize("source", ["helm/dev", "helm/prod"])
def test_helm_lint_strict_is_clean(renderings: dict[str, Rendering], source: str) -> None:
    assert renderings[source].lint == []


def _objects(manifests: list[Manifest]) -> set[tuple[str, str]]:
    """(kind, name) with kustomize's generated-name hash removed."""
    return {
        (m["kind"], re.sub(r"-[a-z0-9]{10}$", "", m["metadata"]["name"]))
        if m["kind"] in ("ConfigMap", "Secret")
        else (m["kind"], m["metadata"]["name"])
        for m in manifests
    }


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_helm_and_kustomize_produce_the_same_objects(
    renderings: dict[str, Rendering], environment: str
) -> None:
    kustomize = _objects(renderings[f"kustomize/{environment}"].manifests)
    helm = _objects(renderings[f"helm/{environment}"].manifests)
    # helm installs into a namespace it is given; it folds the dev overlay's two extra
    # sandbox policies into the services' own.
    only_kustomize = {
        ("Namespace", "cauce" if environment == "prod" else "cauce-dev"),
        *(
            [("NetworkPolicy", "sandbox-clients"), ("NetworkPolicy", "gateway-from-sandbox")]
            if environment == "dev"
            else []
        ),
    }
    assert kustomize - helm == only_kustomize
    assert helm - kustomize == set()


def _decoded(manifest: Manifest) -> dict[str, str]:
    if "stringData" in manifest:
        return dict(manifest["stringData"])
    return {k: base64.b64decode(v).decode() for k, v in (manifest.get("data") or {}).items()}


def _authorization(manifest: Manifest) -> object:
    conf = "\n".join(_without_comments(_decoded(manifest)["auth.conf"]))
    return json.loads(conf.removeprefix("authorization:"))


def _without_comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_helm_and_kustomize_configure_the_same_settings_and_secrets(
    renderings: dict[str, Rendering], environment: str
) -> None:
    kustomize = renderings[f"kustomize/{environment}"].manifests
    helm = renderings[f"helm/{environment}"].manifests
    for kind, name in sorted(_objects(helm)):
        if kind == "ConfigMap":
            ours, theirs = find(kustomize, kind, name)["data"], find(helm, kind, name)["data"]
            assert {k: _without_comments(v) for k, v in ours.items()} == {
                k: _without_comments(v) for k, v in theirs.items()
            }, name
        elif kind == "Secret" and name == "nats-auth":  # the same users, as JSON
            assert _authorization(find(kustomize, kind, name)) == _authorization(
                find(helm, kind, name)
            )
        elif kind == "Secret":
            assert _decoded(find(kustomize, kind, name)) == _decoded(find(helm, kind, name))


@pytest.mark.parametrize("source", ["kustomize/prod", "helm/prod"])
def test_prod_holds_no_secret_and_runs_a_three_node_jetstream_cluster(
    renderings: dict[str, Rendering], source: str
) -> None:
    manifests = renderings[source].manifests
    assert [m for m in manifests if m["kind"] == "Secret"] == []
    nats = find(manifests, "StatefulSet", "nats")
    assert nats["spec"]["replicas"] == 3
    assert nats["spec"]["template"]["spec"]["topologySpreadConstraints"]
    conf = find(manifests, "ConfigMap", "nats-config")["data"]["nats.conf"]
    routes = re.findall(r"nats://nats-(\d)\.nats-headless:6222", conf)
    assert routes == ["0", "1", "2"]
    assert "sync_interval: 2m" in conf
    common = find(manifests, "ConfigMap", "cauce-common-config")["data"]
    assert common["CAUCE_ENVIRONMENT"] == "prod"
    assert common["CAUCE_OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http")
    for service in SERVICES:
        hpa = find(manifests, "HorizontalPodAutoscaler", service)
        assert hpa["spec"]["minReplicas"] >= 2
        deployment = find(manifests, "Deployment", service)
        assert deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert not [m for m in manifests if m["kind"] == "StatefulSet" and m is not nats]


@pytest.mark.parametrize("source", ["kustomize/dev", "helm/dev"])
def test_dev_runs_everything_in_the_cluster(renderings: dict[str, Rendering], source: str) -> None:
    manifests = renderings[source].manifests
    assert find(manifests, "StatefulSet", "nats")["spec"]["replicas"] == 1
    assert "cluster {" not in find(manifests, "ConfigMap", "nats-config")["data"]["nats.conf"]
    for kind, name in [
        ("StatefulSet", "mongodb"),
        ("StatefulSet", "postgresql"),
        ("Deployment", "otel-collector"),
        ("Deployment", "jaeger"),
        ("Deployment", "sandbox"),
        ("Job", "provision-streams"),
    ]:
        find(manifests, kind, name)
    job = find(manifests, "Job", "provision-streams")
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:3] == ["python", "-m", "cauce_runtime.bus.provision"]
    for statefulset in ("nats", "mongodb", "postgresql"):
        claims = find(manifests, "StatefulSet", statefulset)["spec"]["volumeClaimTemplates"]
        assert claims[0]["spec"]["resources"]["requests"]["storage"]
    assert find(manifests, "ConfigMap", "cauce-common-config")["data"]["CAUCE_ENVIRONMENT"] == "dev"


@pytest.mark.parametrize("source", SOURCES)
def test_only_webhooks_short_links_media_and_identity_are_public_and_behind_tls(
    renderings: dict[str, Rendering], source: str
) -> None:
    ingress = find(renderings[source].manifests, "Ingress", "gateway")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    paths = {
        (p["path"], p["pathType"]): p["backend"]["service"]["name"]
        for p in ingress["spec"]["rules"][0]["http"]["paths"]
    }
    identity_api = ("auth", "users", "roles", "companies", "api-keys")
    assert paths == {
        ("/webhooks", "Prefix"): "gateway",
        ("/l", "Prefix"): "notifier",
        ("/api/media", "Prefix"): "conversation",  # signed links only (media_files.py)
        ("/", "Prefix"): "console",  # everything else: people sign in and work there
        **{(f"/api/{name}", "Prefix"): "identity" for name in identity_api},
        ("/.well-known/jwks.json", "Exact"): "identity",
    }


def _pod(manifests: list[Manifest], name: str) -> dict[str, Any]:
    return dict(find(manifests, "Deployment", name)["spec"]["template"]["spec"])


@pytest.mark.parametrize("source", SOURCES)
def test_services_mount_their_secrets_where_the_settings_read_them(
    renderings: dict[str, Rendering], source: str
) -> None:
    manifests = renderings[source].manifests
    secrets_dir = find(manifests, "ConfigMap", "cauce-common-config")["data"]["CAUCE_SECRETS_DIR"]
    for service in SERVICES:
        pod = _pod(manifests, service)
        mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
        volume = next(v for v in pod["volumes"] if v["name"] == mounts[secrets_dir])
        names = [s["secret"]["name"] for s in volume["projected"]["sources"]]
        assert [re.sub(r"-[a-z0-9]{10}$", "", n) for n in names] == [
            "cauce-common-secrets",
            f"{service}-secrets",
        ]
        assert mounts["/tmp"] == "tmp"
