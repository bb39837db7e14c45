"""Which workload runs which workspace package, module and settings class.

Workloads are recognised by their pods' ``app.kubernetes.io/name`` label, the same in
the kustomize overlays and the helm chart. Settings classes are imported when asked for,
at validation time, so a field renamed in code is seen at once.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings

#: Environment variables a cauce container may carry besides its settings: the
#: downward API values and OpenTelemetry SDK variables the runtime leaves to the SDK.
NON_SETTINGS_ENV = frozenset(
    {
        "POD_NAME",
        "POD_NAMESPACE",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
    }
)

#: Read by cauce_runtime's ServiceSettings itself (where secret files are), not a field.
RUNTIME_ENV = frozenset({"CAUCE_SECRETS_DIR"})

#: Settings that are plain strings in code but carry credentials in a real deployment.
CREDENTIAL_FIELDS = frozenset({"mongodb_url", "postgres_url"})


@dataclass(frozen=True)
class Component:
    """One kind of cauce workload."""

    #: ``app.kubernetes.io/name`` of its pods.
    name: str
    #: uv workspace package its image is built from (``--build-arg SERVICE``).
    package: str
    #: What the image runs (``--build-arg MODULE``), or the module a command names.
    module: str
    #: ``module:Class`` of its pydantic-settings class.
    settings: str
    #: True when it reads secrets as files from ``CAUCE_SECRETS_DIR``.
    reads_secrets_dir: bool = True
    #: True for the five services (probes on /healthz and /readyz, an HPA, a PDB...).
    service: bool = True

    def settings_class(self) -> type[BaseSettings]:
        module, _, name = self.settings.partition(":")
        cls = getattr(importlib.import_module(module), name)
        if not (isinstance(cls, type) and issubclass(cls, BaseSettings)):
            raise TypeError(f"{self.settings} is not a pydantic-settings class")
        return cls


SERVICES: tuple[Component, ...] = (
    Component(
        "gateway", "cauce-gateway", "cauce_gateway", "cauce_gateway.settings:GatewaySettings"
    ),
    Component(
        "conversation",
        "cauce-conversation",
        "cauce_conversation",
        "cauce_conversation.settings:ConversationSettings",
    ),
    Component(
        "payments", "cauce-payments", "cauce_payments", "cauce_payments.settings:PaymentsSettings"
    ),
    Component(
        "crm-sync", "cauce-crm-sync", "cauce_crm_sync", "cauce_crm_sync.settings:CrmSyncSettings"
    ),
    Component(
        "notifier", "cauce-notifier", "cauce_notifier", "cauce_notifier.settings:NotifierSettings"
    ),
    Component(
        "identity", "cauce-identity", "cauce_identity", "cauce_identity.settings:IdentitySettings"
    ),
)
#: Dev-only or one-off workloads that still run cauce code.
AUXILIARY: tuple[Component, ...] = (
    Component(
        "sandbox",
        "cauce-devstack",
        "cauce_devstack.sandbox",
        "cauce_devstack.sandbox.settings:SandboxSettings",
        reads_secrets_dir=False,
        service=False,
    ),
    Component(
        "provision-streams",
        "cauce-gateway",
        "cauce_runtime.bus.provision",
        "cauce_runtime:ServiceSettings",
        service=False,
    ),
)
COMPONENTS: dict[str, Component] = {c.name: c for c in (*SERVICES, *AUXILIARY)}


def env_prefix(settings: type[BaseSettings]) -> str:
    return str(settings.model_config.get("env_prefix", ""))


def env_names(settings: type[BaseSettings]) -> dict[str, str]:
    """Environment variable -> field, as pydantic-settings reads them (upper case)."""
    prefix = env_prefix(settings)
    return {f"{prefix}{field}".upper(): field for field in settings.model_fields}


def find_repo_root(start: Path | None = None) -> Path:
    """The directory holding ``deploy/k8s`` and the workspace ``pyproject.toml``."""
    candidates = [start or Path.cwd(), Path(__file__).resolve()]
    for candidate in candidates:
        for directory in (candidate, *candidate.parents):
            if (directory / "deploy" / "k8s").is_dir() and (directory / "pyproject.toml").is_file():
                return directory
    raise FileNotFoundError("no repository root with deploy/k8s above " + str(candidates[0]))


def workspace_packages(root: Path) -> dict[str, Path]:
    """Package name -> directory of every uv workspace member (``[tool.uv.workspace]``)."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    members = pyproject["tool"]["uv"]["workspace"]["members"]
    packages: dict[str, Path] = {}
    for pattern in members:
        for directory in sorted(root.glob(pattern)):
            manifest = directory / "pyproject.toml"
            if manifest.is_file():
                packages[tomllib.loads(manifest.read_text())["project"]["name"]] = directory
    return packages


_TABLE_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*?)\|(.*)\|\s*$")


def external_secrets(readme: Path) -> dict[str, frozenset[str]]:
    """Secret name -> keys, from the table between the ``external-secrets`` markers of
    deploy/README.md: the Secrets a deployment needs but no manifest creates."""
    text = readme.read_text()
    start, end = "<!-- external-secrets:begin -->", "<!-- external-secrets:end -->"
    if start not in text or end not in text:
        raise ValueError(f"{readme}: no {start} ... {end} table")
    block = text.split(start, 1)[1].split(end, 1)[0]
    secrets: dict[str, frozenset[str]] = {}
    for line in block.splitlines():
        match = _TABLE_ROW.match(line.strip())
        if match:
            secrets[match.group(1)] = frozenset(re.findall(r"`([^`]+)`", match.group(2)))
    return secrets
