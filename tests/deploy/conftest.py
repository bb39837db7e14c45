"""Render every overlay and the chart once per test session (a few seconds), shared by
the deploy tests; each negative test mutates its own deep copy."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from cauce_devstack.k8s import policy
from cauce_devstack.k8s.catalogue import external_secrets, find_repo_root, workspace_packages
from cauce_devstack.k8s.render import Manifest, Rendering, render_all

REPO_ROOT = find_repo_root(Path(__file__).resolve())


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def renderings() -> dict[str, Rendering]:
    """``kustomize/dev``, ``kustomize/prod``, ``helm/dev``, ``helm/prod``."""
    return {rendering.source: rendering for rendering in render_all(REPO_ROOT)}


def make_context(
    manifests: list[Manifest],
    **overrides: object,
) -> policy.Context:
    """A policy context over ``manifests`` with the repository's README and workspace."""
    kwargs: dict[str, object] = {
        "external_secrets": external_secrets(REPO_ROOT / "deploy" / "README.md"),
        "workspace_packages": frozenset(workspace_packages(REPO_ROOT)),
    }
    kwargs.update(overrides)
    return policy.Context(manifests, **kwargs)  # type: ignore[arg-type]


def find(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    """The object ``kind/name`` (kustomize's generated-name hash suffix ignored)."""
    for manifest in manifests:
        actual = manifest["metadata"]["name"]
        hashed = actual.startswith(f"{name}-") and len(actual) == len(name) + 11
        if manifest["kind"] == kind and (actual == name or hashed):
            return manifest
    raise KeyError(f"{kind}/{name}")


def copy_of(renderings: dict[str, Rendering], source: str) -> list[Manifest]:
    return copy.deepcopy(renderings[source].manifests)
