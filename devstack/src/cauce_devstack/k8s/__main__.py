"""``python -m cauce_devstack.k8s validate`` (``make k8s-validate``).

Renders both kustomize overlays and the helm chart (dev and prod values), lints the
chart, validates every object against the Kubernetes 1.32 schemas (strict) and runs
cauce's policy checks; prints one block per rendering and exits 1 on any problem.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from cauce_devstack.k8s import policy, schemas
from cauce_devstack.k8s.catalogue import external_secrets, find_repo_root, workspace_packages
from cauce_devstack.k8s.render import KUBE_VERSION, RenderError, Rendering, render_all


@dataclass
class Outcome:
    """Everything found about one rendering."""

    rendering: Rendering
    schema: schemas.SchemaReport
    problems: list[policy.Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.rendering.lint or self.schema.problems or self.problems)


def context_for(rendering: Rendering, root: Path) -> policy.Context:
    return policy.Context(
        rendering.manifests,
        external_secrets=external_secrets(root / "deploy" / "README.md"),
        workspace_packages=frozenset(workspace_packages(root)),
    )


def validate(rendering: Rendering, root: Path) -> Outcome:
    return Outcome(
        rendering,
        schemas.validate(rendering.manifests, KUBE_VERSION, strict=True),
        policy.check_all(context_for(rendering, root)),
    )


def print_outcome(outcome: Outcome, out: TextIO) -> None:
    rendering = outcome.rendering
    status = "ok" if outcome.ok else "FAILED"
    print(f"{rendering.source:<16} {len(rendering.manifests):>3} objects  {status}", file=out)
    print(
        f"  schemas (Kubernetes {KUBE_VERSION}, strict): {outcome.schema.validated} valid"
        + (
            f", {len(outcome.schema.skipped)} custom resources not schema-checked: "
            + ", ".join(outcome.schema.skipped)
            if outcome.schema.skipped
            else ""
        ),
        file=out,
    )
    for line in rendering.lint:
        print(f"  helm lint: {line}", file=out)
    for resource, message in outcome.schema.problems:
        print(f"  [schema] {resource}: {message}", file=out)
    for problem in outcome.problems:
        print(f"  {problem}", file=out)
    checks = ", ".join(policy.CHECKS)
    print(f"  policy ({checks}): {len(outcome.problems)} problem(s)", file=out)


def run_validate(root: Path, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    failed = False
    try:
        for rendering in render_all(root):
            outcome = validate(rendering, root)
            print_outcome(outcome, out)
            failed = failed or not outcome.ok
    except RenderError as exc:
        print(f"cannot render: {exc}", file=out)
        return 1
    print("k8s-validate: " + ("FAILED" if failed else "all renderings valid"), file=out)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cauce_devstack.k8s")
    commands = parser.add_subparsers(dest="command", required=True)
    validate_cmd = commands.add_parser(
        "validate", help="render every overlay and the chart; schemas and policy"
    )
    validate_cmd.add_argument(
        "--root", type=Path, default=None, help="repository root (default: found from cwd)"
    )
    args = parser.parse_args(argv)
    root = args.root or find_repo_root()
    return run_validate(root)


if __name__ == "__main__":
    sys.exit(main())
