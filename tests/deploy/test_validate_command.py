"""``python -m cauce_devstack.k8s validate`` (``make k8s-validate``) reports every
rendering and fails on any problem."""

from __future__ import annotations

import io

import pytest

from cauce_devstack.k8s import __main__ as command
from cauce_devstack.k8s.render import Rendering

from .conftest import REPO_ROOT, copy_of, find


def test_the_repository_validates(
    renderings: dict[str, Rendering], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(command, "render_all", lambda root: iter(renderings.values()))
    out = io.StringIO()
    assert command.run_validate(REPO_ROOT, out) == 0
    report = out.getvalue()
    for source in renderings:
        assert f"{source} " in report
    assert "schemas (Kubernetes 1.32.0, strict)" in report
    assert report.rstrip().endswith("k8s-validate: all renderings valid")


def test_a_problem_fails_the_command_and_is_named(
    renderings: dict[str, Rendering], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = copy_of(renderings, "kustomize/prod")
    container = find(broken, "Deployment", "notifier")["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "ghcr.io/cauce/cauce-notifier:latest"
    container["resources"].pop("limits")
    bad = Rendering("kustomize/prod", "prod", broken)
    monkeypatch.setattr(command, "render_all", lambda root: iter([renderings["helm/dev"], bad]))
    out = io.StringIO()
    assert command.run_validate(REPO_ROOT, out) == 1
    report = out.getvalue()
    lines = report.splitlines()
    assert next(line for line in lines if line.startswith("helm/dev ")).endswith(" ok")
    assert next(line for line in lines if line.startswith("kustomize/prod ")).endswith("FAILED")
    assert "uses latest" in report and "no limits.cpu" in report
    assert report.rstrip().endswith("k8s-validate: FAILED")


def test_the_command_line(
    renderings: dict[str, Rendering],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(command, "render_all", lambda root: iter(renderings.values()))
    assert command.main(["validate", "--root", str(REPO_ROOT)]) == 0
    assert "all renderings valid" in capsys.readouterr().out
