"""Each policy check fails on a manifest mutated to break its rule (the clean renderings
pass: test_manifests.py), so none of them passes vacuously."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import create_model

from cauce_devstack.k8s import policy, schemas
from cauce_devstack.k8s.catalogue import Component, external_secrets
from cauce_devstack.k8s.render import KUBE_VERSION, Manifest, Rendering
from cauce_gateway.settings import GatewaySettings
from cauce_runtime import ServiceSettings

from .conftest import REPO_ROOT, copy_of, find, make_context

Mutation = Callable[[list[Manifest]], object]


def container(manifests: list[Manifest], kind: str, name: str) -> dict[str, Any]:
    first: dict[str, Any] = find(manifests, kind, name)["spec"]["template"]["spec"]["containers"][0]
    return first


def pod(manifests: list[Manifest], kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = find(manifests, kind, name)["spec"]["template"]["spec"]
    return spec


def drop(manifests: list[Manifest], kind: str, name: str) -> None:
    manifests.remove(find(manifests, kind, name))


def problems_after(
    renderings: dict[str, Rendering], source: str, mutate: Mutation, **context: Any
) -> list[str]:
    manifests = copy_of(renderings, source)
    mutate(manifests)
    return [str(p) for p in policy.check_all(make_context(manifests, **context))]


CASES: dict[str, tuple[str, Mutation, str]] = {
    "no readiness probe": (
        "kustomize/prod",
        lambda m: container(m, "Deployment", "gateway").pop("readinessProbe"),
        "[probes] Deployment/gateway container gateway: no readinessProbe",
    ),
    "liveness on the wrong path": (
        "helm/dev",
        lambda m: container(m, "Deployment", "notifier")["livenessProbe"]["httpGet"].update(
            path="/readyz"
        ),
        "livenessProbe must GET /healthz",
    ),
    "no startup probe": (
        "kustomize/dev",
        lambda m: container(m, "Deployment", "payments").pop("startupProbe"),
        "needs a startupProbe",
    ),
    "an infrastructure container without liveness": (
        "kustomize/dev",
        lambda m: container(m, "StatefulSet", "postgresql").pop("livenessProbe"),
        "StatefulSet/postgresql container postgresql: no livenessProbe",
    ),
    "no memory limit": (
        "kustomize/prod",
        lambda m: container(m, "Deployment", "crm-sync")["resources"]["limits"].pop("memory"),
        "[resources] Deployment/crm-sync container crm-sync: no limits.memory",
    ),
    "a Job without requests": (
        "helm/dev",
        lambda m: container(m, "Job", "provision-streams")["resources"].pop("requests"),
        "Job/provision-streams container provision: no requests.cpu",
    ),
    "root allowed": (
        "helm/prod",
        lambda m: (
            container(m, "Deployment", "gateway")["securityContext"].pop("runAsNonRoot"),
            pod(m, "Deployment", "gateway")["securityContext"].update(runAsNonRoot=False),
        ),
        "runAsNonRoot must be true",
    ),
    "writable root filesystem": (
        "kustomize/dev",
        lambda m: container(m, "Deployment", "jaeger")["securityContext"].update(
            readOnlyRootFilesystem=False
        ),
        "Deployment/jaeger container jaeger: readOnlyRootFilesystem must be true",
    ),
    "privilege escalation": (
        "kustomize/prod",
        lambda m: container(m, "StatefulSet", "nats")["securityContext"].update(
            allowPrivilegeEscalation=True
        ),
        "allowPrivilegeEscalation must be false",
    ),
    "capabilities kept": (
        "helm/prod",
        lambda m: container(m, "Deployment", "payments")["securityContext"].pop("capabilities"),
        "capabilities must drop ALL",
    ),
    "service account token mounted": (
        "kustomize/prod",
        lambda m: pod(m, "Deployment", "notifier").pop("automountServiceAccountToken"),
        "Deployment/notifier: automountServiceAccountToken must be false",
    ),
    "a cauce image as another uid": (
        "kustomize/prod",
        lambda m: container(m, "Deployment", "conversation")["securityContext"].update(
            runAsUser=1000
        ),
        "cauce images run as 10001",
    ),
    "latest tag": (
        "kustomize/dev",
        lambda m: container(m, "Deployment", "otel-collector").update(
            image="otel/opentelemetry-collector-contrib:latest"
        ),
        "uses latest",
    ),
    "untagged image": (
        "helm/prod",
        lambda m: container(m, "Deployment", "gateway").update(image="ghcr.io/cauce/cauce-gateway"),
        "has no tag",
    ),
    "an image that is no workspace package": (
        "kustomize/prod",
        lambda m: container(m, "Deployment", "gateway").update(
            image="ghcr.io/cauce/cauce-webhooks:0.1.0"
        ),
        "cauce-webhooks is not a uv workspace package",
    ),
    "no PodDisruptionBudget": (
        "kustomize/prod",
        lambda m: drop(m, "PodDisruptionBudget", "payments"),
        "[disruption] Deployment/payments: no PodDisruptionBudget selects its pods",
    ),
    "no Service": (
        "helm/dev",
        lambda m: drop(m, "Service", "sandbox"),
        "[disruption] Deployment/sandbox: no Service selects its pods",
    ),
    "a Service selecting other pods": (
        "kustomize/prod",
        lambda m: (
            find(m, "Service", "nats")["spec"]["selector"].update(
                {"app.kubernetes.io/name": "natz"}
            )
            or find(m, "Service", "nats-headless")["spec"]["selector"].update(
                {"app.kubernetes.io/name": "natz"}
            )
        ),
        "[disruption] StatefulSet/nats: no Service selects its pods",
    ),
    "no HPA": (
        "helm/prod",
        lambda m: drop(m, "HorizontalPodAutoscaler", "crm-sync"),
        "Deployment/crm-sync: no HorizontalPodAutoscaler targets it",
    ),
    "no NetworkPolicy of its own (the default deny does not count)": (
        "kustomize/prod",
        lambda m: drop(m, "NetworkPolicy", "gateway"),
        "[network] Deployment/gateway: no NetworkPolicy of its own selects its pods",
    ),
    "a Secret nobody creates": (
        "kustomize/prod",
        lambda m: pod(m, "Deployment", "payments")["volumes"][1]["projected"]["sources"][1][
            "secret"
        ].update(name="payment-secrets"),
        "Secret payment-secrets is neither rendered nor listed as external",
    ),
    "a dev Secret missing from the rendering": (
        "helm/dev",
        lambda m: drop(m, "Secret", "sandbox-secrets"),
        "Deployment/sandbox: Secret sandbox-secrets is neither rendered",
    ),
    "a ConfigMap that does not exist": (
        "kustomize/dev",
        lambda m: container(m, "Deployment", "gateway")["envFrom"][1]["configMapRef"].update(
            name="gateway-settings"
        ),
        "ConfigMap gateway-settings does not exist",
    ),
    "a misspelt setting in a ConfigMap": (
        "kustomize/prod",
        lambda m: find(m, "ConfigMap", "payments-config")["data"].update(
            CAUCE_SCI_TIMEOUT_SECONDS="15"
        ),
        "CAUCE_SCI_TIMEOUT_SECONDS (from ConfigMap/payments-config) is not a setting of "
        "cauce_payments.settings:PaymentsSettings",
    ),
    "a setting of another service": (
        "helm/prod",
        lambda m: find(m, "ConfigMap", "gateway-config")["data"].update(
            CAUCE_MONGODB_DATABASE="cauce"
        ),
        "CAUCE_MONGODB_DATABASE (from ConfigMap/gateway-config) is not a setting",
    ),
    "a misspelt plain env var": (
        "kustomize/dev",
        lambda m: container(m, "Deployment", "notifier")["env"].append(
            {"name": "CAUCE_LOGLEVEL", "value": "DEBUG"}
        ),
        "CAUCE_LOGLEVEL (from env) is not a setting",
    ),
    "a secret in a ConfigMap": (
        "kustomize/prod",
        lambda m: find(m, "ConfigMap", "crm-sync-config")["data"].update(
            CAUCE_LEAD_EXPORT_TOKEN="s3cr3t"
        ),
        "CAUCE_LEAD_EXPORT_TOKEN is a secret but comes from ConfigMap/crm-sync-config",
    ),
    "a secret file that is no setting": (
        "kustomize/dev",
        lambda m: find(m, "Secret", "gateway-secrets")["data"].update(cauce_meta_app_secret="eA=="),
        "secret file cauce_meta_app_secret (from Secret/gateway-secrets",
    ),
    "a secret file in upper case": (
        "helm/dev",
        lambda m: find(m, "Secret", "conversation-secrets")["stringData"].update(
            CAUCE_INBOX_TOKEN="x"
        ),
        "secret file CAUCE_INBOX_TOKEN",
    ),
    "a sandbox setting misspelt": (
        "kustomize/dev",
        lambda m: find(m, "ConfigMap", "sandbox-config")["data"].update(
            CAUCE_SANDBOX_GATEWAY="http://gateway:8080"
        ),
        "CAUCE_SANDBOX_GATEWAY (from ConfigMap/sandbox-config) is not a setting of "
        "cauce_devstack.sandbox.settings:SandboxSettings",
    ),
    "a grace period shorter than the drain": (
        "kustomize/prod",
        lambda m: pod(m, "Deployment", "gateway").update(terminationGracePeriodSeconds=25),
        "terminationGracePeriodSeconds 25 must exceed the preStop sleep (5) + "
        "CAUCE_SHUTDOWN_TIMEOUT_S (20)",
    ),
    "a longer drain without a longer grace period": (
        "helm/dev",
        lambda m: find(m, "ConfigMap", "cauce-common-config")["data"].update(
            CAUCE_SHUTDOWN_TIMEOUT_S="60"
        ),
        "terminationGracePeriodSeconds 40 must exceed",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_broken_manifest_fails_its_check(renderings: dict[str, Rendering], case: str) -> None:
    source, mutate, expected = CASES[case]
    problems = problems_after(renderings, source, mutate)
    assert any(expected in p for p in problems), problems


def test_a_setting_renamed_in_code_but_not_in_deploy_fails(
    renderings: dict[str, Rendering],
) -> None:
    """GatewaySettings.retry_after_s renamed to retry_after_seconds in code: every
    rendering that sets CAUCE_RETRY_AFTER_S must now fail."""
    own = {
        name: (info.annotation, info)
        for name, info in GatewaySettings.model_fields.items()
        if name not in ServiceSettings.model_fields and name != "retry_after_s"
    }
    renamed: type[ServiceSettings] = create_model(  # type: ignore[call-overload]
        "RenamedGatewaySettings", __base__=ServiceSettings, retry_after_seconds=(int, 5), **own
    )

    def settings_for(component: Component) -> Any:
        return renamed if component.name == "gateway" else component.settings_class()

    for source in ("kustomize/dev", "kustomize/prod", "helm/dev", "helm/prod"):
        problems = problems_after(renderings, source, lambda m: None, settings_for=settings_for)
        assert [p for p in problems if "CAUCE_RETRY_AFTER_S" in p], source


def test_prod_must_be_given_every_required_secret(renderings: dict[str, Rendering]) -> None:
    """The README's list of external Secrets is what prod pods get: a required key
    missing there means a service that refuses to start."""
    documented = dict(external_secrets(REPO_ROOT / "deploy" / "README.md"))
    documented["gateway-secrets"] = documented["gateway-secrets"] - {"cauce_meta_verify_token"}
    documented["conversation-secrets"] = documented["conversation-secrets"] - {"cauce_mongodb_url"}
    problems = problems_after(
        renderings, "kustomize/prod", lambda m: None, external_secrets=documented
    )
    assert any("prod: CAUCE_META_VERIFY_TOKEN is required there" in p for p in problems)
    assert any("prod: CAUCE_MONGODB_URL is required there" in p for p in problems)
    # dev is not held to it: the services accept their dev defaults there
    tls_only = {"gateway-tls": documented["gateway-tls"]}
    assert not problems_after(
        renderings, "kustomize/dev", lambda m: None, external_secrets=tls_only
    )


def test_a_documented_key_that_is_no_setting_fails(renderings: dict[str, Rendering]) -> None:
    documented = dict(external_secrets(REPO_ROOT / "deploy" / "README.md"))
    documented["notifier-secrets"] = documented["notifier-secrets"] | {"cauce_admin_tokens"}
    problems = problems_after(renderings, "helm/prod", lambda m: None, external_secrets=documented)
    assert any(
        "secret file cauce_admin_tokens (from Secret/notifier-secrets" in p for p in problems
    )


def test_selector_semantics() -> None:
    labels = {"app": "a", "tier": "web"}
    assert policy.selector_matches({"matchLabels": {"app": "a"}}, labels)
    assert not policy.selector_matches({"matchLabels": {"app": "b"}}, labels)
    expressions: list[tuple[str, list[str], bool]] = [
        ("In", ["web", "api"], True),
        ("NotIn", ["web"], False),
        ("Exists", [], True),
        ("DoesNotExist", [], False),
    ]
    for operator, values, expected in expressions:
        selector = {"matchExpressions": [{"key": "tier", "operator": operator, "values": values}]}
        assert policy.selector_matches(selector, labels) is expected, operator
    assert not policy.selector_matches(None, labels)


def test_image_tags() -> None:
    assert policy.image_tag("nats:2.15.1-alpine") == "2.15.1-alpine"
    assert policy.image_tag("registry:5000/team/app") is None
    assert policy.image_tag("registry:5000/team/app:1.0") == "1.0"
    assert policy.image_tag("app@sha256:abc") == "sha256:abc"


def test_strict_schemas_refuse_an_unknown_field(renderings: dict[str, Rendering]) -> None:
    manifests = copy_of(renderings, "kustomize/prod")
    container(manifests, "Deployment", "gateway")["readinessProbe"]["httpGett"] = {}
    report = schemas.validate(manifests, KUBE_VERSION, strict=True)
    assert [rid for rid, _ in report.problems] == ["Deployment/gateway"]


def test_custom_resources_are_skipped_by_name_and_unknown_kinds_fail() -> None:
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "gateway"},
        "spec": {},
    }
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    report = schemas.validate([certificate, unknown], KUBE_VERSION, strict=True)
    assert report.skipped == ["Certificate/gateway (cert-manager.io/v1)"]
    assert [rid for rid, _ in report.problems] == ["Widget/w"]
