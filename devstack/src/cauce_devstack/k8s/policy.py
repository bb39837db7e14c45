"""cauce's own rules for rendered manifests, beyond what the Kubernetes schemas check.

Each check takes one rendering's manifests (a :class:`Context`) and returns
:class:`Problem` s; :func:`check_all` runs every one of :data:`CHECKS`. The rules:

- ``probes``: every long-running container has liveness and readiness probes; a cauce
  service has a startup probe, liveness on ``/healthz`` and readiness on ``/readyz``.
- ``resources``: every container (init containers and Jobs too) requests and limits
  cpu and memory.
- ``security``: non-root, read-only root filesystem, no privilege escalation, all
  capabilities dropped, RuntimeDefault seccomp, no service account token; cauce images
  run as uid 10001.
- ``images``: every image has a pinned tag (or digest), never ``latest``; an image named
  ``cauce-*`` is a uv workspace package.
- ``disruption``: every Deployment/StatefulSet has a PodDisruptionBudget and a Service
  selecting its pods; every cauce service has an HPA targeting it.
- ``network``: every workload's pods are selected by a NetworkPolicy of their own.
- ``references``: every Secret and ConfigMap a pod uses exists in the rendering, or the
  Secret is listed as external in deploy/README.md.
- ``settings``: env var names in ConfigMaps, ``env`` and Secret keys match the
  container's settings class (``Settings.model_fields`` + its env prefix); secret
  settings never sit in a ConfigMap or a plain env value; a prod pod is given every
  secret whose default is a placeholder (it would refuse to start otherwise);
  ``terminationGracePeriodSeconds`` covers the preStop sleep plus
  ``CAUCE_SHUTDOWN_TIMEOUT_S``.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic_settings import BaseSettings

from cauce_devstack.k8s.catalogue import (
    COMPONENTS,
    CREDENTIAL_FIELDS,
    NON_SETTINGS_ENV,
    RUNTIME_ENV,
    Component,
    env_names,
)
from cauce_runtime import ServiceSettings, holds_placeholder_secret

Manifest = dict[str, Any]
SettingsLookup = Callable[[Component], type[BaseSettings]]

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"})
#: Workloads that run until stopped (probes, PDB, Service apply to them).
LONG_RUNNING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
CAUCE_UID = 10001


@dataclass(frozen=True)
class Problem:
    check: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.resource}: {self.message}"


@dataclass
class Workload:
    kind: str
    name: str
    manifest: Manifest
    pod_spec: Manifest
    pod_labels: dict[str, str]

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def component(self) -> Component | None:
        return COMPONENTS.get(self.pod_labels.get("app.kubernetes.io/name", ""))

    def containers(self, *, init: bool = True) -> Iterator[Manifest]:
        yield from self.pod_spec.get("containers") or []
        if init:
            yield from self.pod_spec.get("initContainers") or []


@dataclass
class Context:
    """One rendering's manifests, indexed, plus what the checks need from outside."""

    manifests: list[Manifest]
    #: Secrets a deployment needs but no manifest creates: name -> documented keys.
    external_secrets: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Names of the uv workspace packages.
    workspace_packages: frozenset[str] = frozenset()
    settings_for: SettingsLookup = field(default=lambda component: component.settings_class())

    def __post_init__(self) -> None:
        self.workloads = [w for m in self.manifests if (w := _workload(m)) is not None]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m.get("kind") == kind]

    def named(self, kind: str, name: str) -> Manifest | None:
        for manifest in self.of_kind(kind):
            if _name(manifest) == name:
                return manifest
        return None


# --- helpers --------------------------------------------------------------------------


def _name(manifest: Manifest) -> str:
    return str(manifest.get("metadata", {}).get("name", "?"))


def _workload(manifest: Manifest) -> Workload | None:
    kind = manifest.get("kind")
    if kind not in WORKLOAD_KINDS:
        return None
    spec = manifest.get("spec", {})
    if kind == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    template = spec.get("template", {})
    return Workload(
        str(kind),
        _name(manifest),
        manifest,
        template.get("spec", {}),
        dict(template.get("metadata", {}).get("labels") or {}),
    )


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _is_empty_selector(selector: Mapping[str, Any] | None) -> bool:
    return not selector or (
        not selector.get("matchLabels") and not selector.get("matchExpressions")
    )


def _settings_of(context: Context, component: Component) -> type[BaseSettings]:
    return context.settings_for(component)


def _holds_secret(annotation: Any) -> bool:
    """True when a field's type is, or contains, a SecretStr/SecretBytes."""
    if annotation in (SecretStr, SecretBytes):
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return any(_holds_secret(f.annotation) for f in annotation.model_fields.values())
    return any(_holds_secret(arg) for arg in typing.get_args(annotation))


def secret_fields(settings: type[BaseSettings]) -> set[str]:
    """Fields that hold a secret (by type) or carry credentials (DSNs)."""
    return {
        name
        for name, info in settings.model_fields.items()
        if name in CREDENTIAL_FIELDS or _holds_secret(info.annotation)
    }


def required_secret_fields(settings: type[BaseSettings]) -> set[str]:
    """Secrets a service needs outside dev/test: those whose default it refuses there
    (placeholders), and the database DSNs (their defaults point at localhost)."""
    return {
        name
        for name, info in settings.model_fields.items()
        if holds_placeholder_secret(info.get_default(call_default_factory=True))
        or name in CREDENTIAL_FIELDS
    }


@dataclass
class EnvSource:
    """One name a container's environment (or secrets dir) gets, and where from."""

    name: str
    origin: str
    value: str | None = None
    secret: bool = False


def _secret_keys(context: Context, name: str) -> frozenset[str] | None:
    secret = context.named("Secret", name)
    if secret is not None:
        return frozenset({**(secret.get("data") or {}), **(secret.get("stringData") or {})})
    return context.external_secrets.get(name)


def container_env(context: Context, container: Manifest) -> list[EnvSource]:
    """Every variable the container's environment gets, with its origin."""
    sources: list[EnvSource] = []
    for ref in container.get("envFrom") or []:
        prefix = ref.get("prefix", "")
        if "configMapRef" in ref:
            cm_name = ref["configMapRef"]["name"]
            cm = context.named("ConfigMap", cm_name)
            for key, value in ((cm or {}).get("data") or {}).items():
                sources.append(EnvSource(prefix + key, f"ConfigMap/{cm_name}", str(value)))
        if "secretRef" in ref:
            secret_name = ref["secretRef"]["name"]
            for key in sorted(_secret_keys(context, secret_name) or ()):
                sources.append(EnvSource(prefix + key, f"Secret/{secret_name}", secret=True))
    for item in container.get("env") or []:
        value_from = item.get("valueFrom") or {}
        sources.append(
            EnvSource(
                item["name"],
                "env",
                item.get("value"),
                secret="secretKeyRef" in value_from,
            )
        )
    return sources


def _env_value(sources: Iterable[EnvSource], name: str) -> str | None:
    value = None
    for source in sources:  # later sources win, as in Kubernetes
        if source.name == name and source.value is not None:
            value = source.value
    return value


def secrets_dir_files(
    context: Context, workload: Workload, container: Manifest, secrets_dir: str
) -> list[EnvSource]:
    """Files the container sees in ``secrets_dir``: keys of the Secrets mounted there."""
    volumes = {v["name"]: v for v in workload.pod_spec.get("volumes") or []}
    files: list[EnvSource] = []
    for mount in container.get("volumeMounts") or []:
        if mount.get("mountPath", "").rstrip("/") != secrets_dir.rstrip("/"):
            continue
        volume = volumes.get(mount["name"], {})
        names = []
        if "secret" in volume:
            names.append(volume["secret"]["secretName"])
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "secret" in source:
                names.append(source["secret"]["name"])
        for secret_name in names:
            for key in sorted(_secret_keys(context, secret_name) or ()):
                files.append(EnvSource(key, f"Secret/{secret_name}", secret=True))
    return files


def referenced_secrets(workload: Workload) -> set[str]:
    names: set[str] = set()
    for volume in workload.pod_spec.get("volumes") or []:
        if "secret" in volume:
            names.add(volume["secret"]["secretName"])
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "secret" in source:
                names.add(source["secret"]["name"])
    for container in workload.containers():
        for ref in container.get("envFrom") or []:
            if "secretRef" in ref:
                names.add(ref["secretRef"]["name"])
        for item in container.get("env") or []:
            key_ref = (item.get("valueFrom") or {}).get("secretKeyRef")
            if key_ref:
                names.add(key_ref["name"])
    for pull in workload.pod_spec.get("imagePullSecrets") or []:
        names.add(pull["name"])
    return names


def referenced_configmaps(workload: Workload) -> set[str]:
    names: set[str] = set()
    for volume in workload.pod_spec.get("volumes") or []:
        if "configMap" in volume:
            names.add(volume["configMap"]["name"])
    for container in workload.containers():
        for ref in container.get("envFrom") or []:
            if "configMapRef" in ref:
                names.add(ref["configMapRef"]["name"])
        for item in container.get("env") or []:
            key_ref = (item.get("valueFrom") or {}).get("configMapKeyRef")
            if key_ref:
                names.add(key_ref["name"])
    return names


# --- the checks -----------------------------------------------------------------------


def check_probes(context: Context) -> Iterator[Problem]:
    for workload in context.workloads:
        if workload.kind not in LONG_RUNNING_KINDS:
            continue
        component = workload.component
        for container in workload.containers(init=False):
            where = f"{workload.id} container {container.get('name')}"
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in container:
                    yield Problem("probes", where, f"no {probe}")
            if component is None or not component.service:
                continue
            if "startupProbe" not in container:
                yield Problem("probes", where, "a cauce service needs a startupProbe")
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                actual = (container.get(probe) or {}).get("httpGet", {}).get("path")
                if probe in container and actual != path:
                    yield Problem("probes", where, f"{probe} must GET {path}, not {actual}")


def check_resources(context: Context) -> Iterator[Problem]:
    for workload in context.workloads:
        for container in workload.containers():
            resources = container.get("resources") or {}
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in (resources.get(kind) or {}):
                        yield Problem(
                            "resources",
                            f"{workload.id} container {container.get('name')}",
                            f"no {kind}.{resource}",
                        )


def check_security(context: Context) -> Iterator[Problem]:
    for workload in context.workloads:
        pod_sc = workload.pod_spec.get("securityContext") or {}
        if workload.pod_spec.get("automountServiceAccountToken") is not False:
            yield Problem("security", workload.id, "automountServiceAccountToken must be false")
        if (pod_sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            yield Problem("security", workload.id, "pod seccompProfile must be RuntimeDefault")
        for container in workload.containers():
            where = f"{workload.id} container {container.get('name')}"
            sc = container.get("securityContext") or {}
            if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
                yield Problem("security", where, "runAsNonRoot must be true")
            if sc.get("readOnlyRootFilesystem") is not True:
                yield Problem("security", where, "readOnlyRootFilesystem must be true")
            if sc.get("allowPrivilegeEscalation") is not False:
                yield Problem("security", where, "allowPrivilegeEscalation must be false")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                yield Problem("security", where, "capabilities must drop ALL")
            if sc.get("privileged"):
                yield Problem("security", where, "privileged containers are not allowed")
            image = str(container.get("image", ""))
            if _image_repository(image).rpartition("/")[2].startswith("cauce-"):
                uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
                if uid != CAUCE_UID:
                    yield Problem("security", where, f"cauce images run as {CAUCE_UID}, not {uid}")


def _image_repository(image: str) -> str:
    without_digest = image.split("@", 1)[0]
    last_slash = without_digest.rfind("/")
    colon = without_digest.rfind(":")
    return without_digest[:colon] if colon > last_slash else without_digest


def image_tag(image: str) -> str | None:
    """The tag of ``image`` (``None`` when untagged; digests count as pinned)."""
    if "@" in image:
        return image.split("@", 1)[1]
    repository = _image_repository(image)
    return image[len(repository) + 1 :] if len(image) > len(repository) else None


def check_images(context: Context) -> Iterator[Problem]:
    for workload in context.workloads:
        for container in workload.containers():
            image = str(container.get("image", ""))
            where = f"{workload.id} container {container.get('name')}"
            tag = image_tag(image)
            if not tag:
                yield Problem("images", where, f"image {image!r} has no tag")
            elif tag == "latest":
                yield Problem("images", where, f"image {image!r} uses latest")
            package = _image_repository(image).rpartition("/")[2]
            if (
                package.startswith("cauce-")
                and context.workspace_packages
                and package not in context.workspace_packages
            ):
                yield Problem(
                    "images", where, f"{package} is not a uv workspace package (Dockerfile)"
                )


def check_disruption(context: Context) -> Iterator[Problem]:
    pdbs = context.of_kind("PodDisruptionBudget")
    services = context.of_kind("Service")
    hpas = context.of_kind("HorizontalPodAutoscaler")
    for workload in context.workloads:
        if workload.kind not in {"Deployment", "StatefulSet"}:
            continue
        labels = workload.pod_labels
        if not any(selector_matches(p.get("spec", {}).get("selector"), labels) for p in pdbs):
            yield Problem("disruption", workload.id, "no PodDisruptionBudget selects its pods")
        if not any(
            s.get("spec", {}).get("selector")
            and selector_matches({"matchLabels": s["spec"]["selector"]}, labels)
            for s in services
        ):
            yield Problem("disruption", workload.id, "no Service selects its pods")
        component = workload.component
        if workload.kind == "Deployment" and component is not None and component.service:
            targets = [
                h
                for h in hpas
                if h.get("spec", {}).get("scaleTargetRef", {}).get("kind") == "Deployment"
                and h["spec"]["scaleTargetRef"].get("name") == workload.name
            ]
            if not targets:
                yield Problem("disruption", workload.id, "no HorizontalPodAutoscaler targets it")


def check_network(context: Context) -> Iterator[Problem]:
    policies = context.of_kind("NetworkPolicy")
    for workload in context.workloads:
        own = [
            p
            for p in policies
            if not _is_empty_selector(p.get("spec", {}).get("podSelector"))
            and selector_matches(p["spec"]["podSelector"], workload.pod_labels)
        ]
        if not own:
            yield Problem("network", workload.id, "no NetworkPolicy of its own selects its pods")


def check_references(context: Context) -> Iterator[Problem]:
    rendered_secrets = {_name(s) for s in context.of_kind("Secret")}
    rendered_configmaps = {_name(c) for c in context.of_kind("ConfigMap")}
    for workload in context.workloads:
        for name in sorted(referenced_secrets(workload)):
            if name not in rendered_secrets and name not in context.external_secrets:
                yield Problem(
                    "references",
                    workload.id,
                    f"Secret {name} is neither rendered nor listed as external in deploy/README.md",
                )
        for name in sorted(referenced_configmaps(workload)):
            if name not in rendered_configmaps:
                yield Problem("references", workload.id, f"ConfigMap {name} does not exist")
    for ingress in context.of_kind("Ingress"):
        for tls in ingress.get("spec", {}).get("tls") or []:
            name = tls.get("secretName")
            if name and name not in rendered_secrets and name not in context.external_secrets:
                yield Problem(
                    "references",
                    f"Ingress/{_name(ingress)}",
                    f"TLS Secret {name} is not listed as external in deploy/README.md",
                )


def check_settings(context: Context) -> Iterator[Problem]:
    for workload in context.workloads:
        component = workload.component
        if component is None:
            continue
        settings = _settings_of(context, component)
        known = env_names(settings)
        secret_names = {name for name, f in known.items() if f in secret_fields(settings)}
        for container in workload.containers(init=False):
            where = f"{workload.id} container {container.get('name')}"
            env = container_env(context, container)
            for source in env:
                if source.name in NON_SETTINGS_ENV or (
                    component.reads_secrets_dir and source.name in RUNTIME_ENV
                ):
                    continue
                if source.name not in known:
                    yield Problem(
                        "settings",
                        where,
                        f"{source.name} (from {source.origin}) is not a setting of "
                        f"{component.settings}",
                    )
                elif source.name in secret_names and not source.secret:
                    yield Problem(
                        "settings",
                        where,
                        f"{source.name} is a secret but comes from {source.origin}: use a Secret",
                    )
            files: list[EnvSource] = []
            if component.reads_secrets_dir:
                secrets_dir = _env_value(env, "CAUCE_SECRETS_DIR")
                if secrets_dir is None:
                    yield Problem("settings", where, "CAUCE_SECRETS_DIR is not set")
                else:
                    files = secrets_dir_files(context, workload, container, secrets_dir)
                for file in files:
                    if file.name != file.name.lower() or file.name.upper() not in known:
                        yield Problem(
                            "settings",
                            where,
                            f"secret file {file.name} (from {file.origin}) is not the "
                            f"lower-case name of a setting of {component.settings}",
                        )
            environment = _env_value(env, "CAUCE_ENVIRONMENT") or "dev"
            if environment not in ("dev", "test") and issubclass(settings, ServiceSettings):
                given = {s.name for s in env} | {f.name.upper() for f in files}
                for field_name in sorted(required_secret_fields(settings)):
                    variable = f"CAUCE_{field_name.upper()}"
                    if variable not in given:
                        yield Problem(
                            "settings",
                            where,
                            f"{environment}: {variable} is required there (its default is a "
                            "placeholder or localhost) but no Secret provides it",
                        )
            yield from _check_grace_period(workload, container, env, component, where)


def _check_grace_period(
    workload: Workload,
    container: Manifest,
    env: list[EnvSource],
    component: Component,
    where: str,
) -> Iterator[Problem]:
    if not component.service:
        return
    shutdown = float(_env_value(env, "CAUCE_SHUTDOWN_TIMEOUT_S") or 10.0)
    pre_stop = (container.get("lifecycle") or {}).get("preStop") or {}
    sleep = float((pre_stop.get("sleep") or {}).get("seconds", 0))
    grace = workload.pod_spec.get("terminationGracePeriodSeconds", 30)
    if grace <= shutdown + sleep:
        yield Problem(
            "settings",
            where,
            f"terminationGracePeriodSeconds {grace} must exceed the preStop sleep ({sleep:g})"
            f" + CAUCE_SHUTDOWN_TIMEOUT_S ({shutdown:g})",
        )


CHECKS: dict[str, Callable[[Context], Iterable[Problem]]] = {
    "probes": check_probes,
    "resources": check_resources,
    "security": check_security,
    "images": check_images,
    "disruption": check_disruption,
    "network": check_network,
    "references": check_references,
    "settings": check_settings,
}


def check_all(context: Context) -> list[Problem]:
    return [problem for check in CHECKS.values() for problem in check(context)]
