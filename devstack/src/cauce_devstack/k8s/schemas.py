"""Kubernetes OpenAPI schema validation of rendered manifests (kubernetes-validate).

Built-in kinds are validated strictly (an unknown field is an error) against the
Kubernetes 1.32 schemas kubernetes-validate ships. Custom resources (cert-manager,
Prometheus Operator) have no schema there: their API groups are listed in
:data:`SKIPPED_GROUPS` and reported as skipped, never silently passed; any other kind
without a schema is a problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kubernetes_validate import utils as kv

#: API groups of custom resources whose schemas are not Kubernetes' own.
SKIPPED_GROUPS = frozenset({"cert-manager.io", "acme.cert-manager.io", "monitoring.coreos.com"})


@dataclass
class SchemaReport:
    validated: int = 0
    #: ``Kind/name (apiVersion)`` of custom resources not schema-validated.
    skipped: list[str] = field(default_factory=list)
    #: ``(Kind/name, message)``.
    problems: list[tuple[str, str]] = field(default_factory=list)


def resource_id(manifest: dict[str, Any]) -> str:
    return f"{manifest.get('kind', '?')}/{manifest.get('metadata', {}).get('name', '?')}"


def api_group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def validate(
    manifests: Iterable[dict[str, Any]], kube_version: str = "1.32.0", strict: bool = True
) -> SchemaReport:
    """Validate each manifest against the ``kube_version`` schemas."""
    report = SchemaReport()
    for manifest in manifests:
        rid = resource_id(manifest)
        api_version = str(manifest.get("apiVersion", ""))
        if api_group(api_version) in SKIPPED_GROUPS:
            report.skipped.append(f"{rid} ({api_version})")
            continue
        try:
            kv.validate(manifest, kube_version, strict)
        except kv.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            report.problems.append((rid, f"{path}: {exc.message}"))
        except kv.SchemaNotFoundError as exc:
            report.problems.append((rid, exc.message))
        else:
            report.validated += 1
    return report
