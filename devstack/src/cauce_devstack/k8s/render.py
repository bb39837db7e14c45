"""Render every deployable form of cauce into plain manifests, offline.

- each kustomize overlay under ``deploy/k8s/overlays`` with ``kubectl kustomize``;
- the helm chart ``deploy/helm/cauce`` with helm-python-sdk (the Helm v4 SDK in-process,
  no ``helm`` binary), once per values file ``values-<env>.yaml`` next to the chart's
  ``values.yaml``, after ``helm lint`` of the same values.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

Manifest = dict[str, Any]

#: The environments rendered for both tools.
ENVIRONMENTS = ("dev", "prod")
#: The namespace each environment deploys to (as the overlays set it).
NAMESPACES = {"dev": "cauce-dev", "prod": "cauce"}
RELEASE_NAME = "cauce"
KUBE_VERSION = "1.32.0"


@dataclass
class Rendering:
    """The manifests one tool produced for one environment."""

    #: ``kustomize/dev``, ``helm/prod``...
    source: str
    environment: str
    manifests: list[Manifest] = field(default_factory=list)
    #: Findings of the tool itself (helm lint), as readable lines.
    lint: list[str] = field(default_factory=list)


class RenderError(RuntimeError):
    """A tool could not render (kubectl missing, a bad kustomization, a template error)."""


def parse_documents(text: str) -> list[Manifest]:
    """The non-empty YAML documents of a multi-document stream."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def kustomize(overlay: Path) -> list[Manifest]:
    """``kubectl kustomize <overlay>``: the manifests ``kubectl apply -k`` would send."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise RenderError("kubectl not found on PATH (it bundles kustomize)")
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {overlay}: {result.stderr.strip()}")
    return parse_documents(result.stdout)


def helm_values(chart: Path, environment: str) -> dict[str, Any]:
    """The chart's ``values-<environment>.yaml`` (layered over ``values.yaml`` by helm)."""
    path = chart / f"values-{environment}.yaml"
    loaded = yaml.safe_load(path.read_text()) or {}
    if not isinstance(loaded, dict):
        raise RenderError(f"{path}: not a mapping")
    return loaded


def helm_lint(chart: Path, values: dict[str, Any], namespace: str) -> list[str]:
    """``helm lint --strict`` findings (warnings count), as lines; empty when clean."""
    report = helm.lint(
        chart, values, strict=True, namespace=namespace, kube_version=f"v{KUBE_VERSION}"
    )
    severities = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}
    findings = [
        f"{severities.get(m.get('severity', 0), '?')} {m.get('path', '')}: {m.get('error', '')}"
        for m in report.get("messages", [])
        if m.get("severity", 0) >= 2
    ]
    return findings + [str(error) for error in report.get("errors", [])]


def helm_template(chart: Path, values: dict[str, Any], namespace: str) -> list[Manifest]:
    """``helm template``: the chart rendered offline with ``values`` (schema enforced)."""
    with helm.Chart.load(chart) as loaded:
        loaded.validate_schema(loaded.merge_values(values))
        rendered = loaded.render(values, name=RELEASE_NAME, namespace=namespace, is_install=True)
    manifests: list[Manifest] = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        manifests.extend(parse_documents(rendered[path]))
    return manifests


def render_kustomize(root: Path, environment: str) -> Rendering:
    overlay = root / "deploy" / "k8s" / "overlays" / environment
    return Rendering(f"kustomize/{environment}", environment, kustomize(overlay))


def render_helm(root: Path, environment: str) -> Rendering:
    chart = root / "deploy" / "helm" / "cauce"
    namespace = NAMESPACES[environment]
    values = helm_values(chart, environment)
    try:
        lint = helm_lint(chart, values, namespace)
        manifests = helm_template(chart, values, namespace)
    except helm.HelmError as exc:
        raise RenderError(f"helm {environment}: {exc}") from exc
    return Rendering(f"helm/{environment}", environment, manifests, lint)


def render_all(root: Path) -> Iterator[Rendering]:
    """Every overlay and the chart with every environment's values."""
    for environment in ENVIRONMENTS:
        yield render_kustomize(root, environment)
    for environment in ENVIRONMENTS:
        yield render_helm(root, environment)
