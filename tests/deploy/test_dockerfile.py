"""The repository's Dockerfile builds any service the way the issue asks: multi-stage,
uv with the lock file (dependency layer before the code), a pinned slim base, non-root,
no HEALTHCHECK, OCI labels; and every package or module it or the manifests name exists.

There is no Docker engine here, so this reads the file instead of building it.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from cauce_devstack.k8s.catalogue import COMPONENTS, workspace_packages
from cauce_devstack.k8s.render import Rendering

from .conftest import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int


def parse(text: str) -> list[Instruction]:
    """Dockerfile instructions (continuations joined, comments dropped), with the index
    of the stage each belongs to."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    instructions: list[Instruction] = []
    stage = -1
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, " ".join(args.split()), stage))
    return instructions


INSTRUCTIONS = parse(DOCKERFILE.read_text())
FINAL_STAGE = max(i.stage for i in INSTRUCTIONS)


def stage_of(index: int) -> list[Instruction]:
    return [i for i in INSTRUCTIONS if i.stage == index]


def makefile_uv_version() -> str:
    match = re.search(r"^UV_VERSION\s*:=\s*(\S+)", (REPO_ROOT / "Makefile").read_text(), re.M)
    assert match, "Makefile has no UV_VERSION"
    return match.group(1)


def test_the_parser_reads_continuations_and_stages() -> None:
    parsed = parse("# c\nFROM a:1 AS x\nRUN one \\\n  two\n\nFROM b:2\nUSER 1\n")
    assert [(i.keyword, i.args, i.stage) for i in parsed] == [
        ("FROM", "a:1 AS x", 0),
        ("RUN", "one two", 0),
        ("FROM", "b:2", 1),
        ("USER", "1", 1),
    ]


def test_multi_stage_with_a_named_builder() -> None:
    froms = [i.args for i in INSTRUCTIONS if i.keyword == "FROM"]
    assert len(froms) >= 2
    assert re.search(r"\bAS builder\b", froms[0], re.I)


@pytest.mark.parametrize(
    "image",
    [i.args.split()[0] for i in INSTRUCTIONS if i.keyword == "FROM"]
    + [
        m.group(1)
        for i in INSTRUCTIONS
        if i.keyword == "COPY" and (m := re.search(r"--from=(\S+:\S+)", i.args))
    ],
)
def test_base_images_are_pinned_to_a_full_version(image: str) -> None:
    assert "$" not in image, "base images are written out, not taken from build args"
    name, _, tag = image.rpartition(":")
    assert name and tag and tag != "latest", image
    assert re.match(r"^\d+\.\d+\.\d+", tag), f"{image}: pin a full version"


def test_the_final_stage_is_a_slim_python() -> None:
    base = stage_of(FINAL_STAGE)[0].args.split()[0]
    assert base.startswith("python:") and "-slim" in base


def test_uv_matches_the_makefile_version() -> None:
    uv_copies = [i for i in INSTRUCTIONS if i.keyword == "COPY" and "astral-sh/uv:" in i.args]
    assert uv_copies, "uv is copied from its pinned image"
    assert all(f"ghcr.io/astral-sh/uv:{makefile_uv_version()} " in i.args for i in uv_copies)
    assert all(i.stage != FINAL_STAGE for i in uv_copies), "no uv in the final image"


def test_dependency_layer_before_the_sources() -> None:
    runs = [(n, i) for n, i in enumerate(INSTRUCTIONS) if "uv sync" in i.args]
    assert len(runs) == 2
    (deps_at, deps), (code_at, code) = runs
    for _, run in runs:
        assert "--frozen" in run.args and "--no-dev" in run.args
        assert '--package "$SERVICE"' in run.args
    assert "--no-install-workspace" in deps.args
    assert "--no-editable" in code.args
    copies = [(n, i) for n, i in enumerate(INSTRUCTIONS) if i.keyword == "COPY"]
    before = [i.args for n, i in copies if n < deps_at and "--from" not in i.args]
    between = [i.args for n, i in copies if deps_at < n < code_at]
    assert before and all("pyproject.toml" in a or "uv.lock" in a for a in before), before
    assert any(a.startswith("services/") for a in between), "sources copied after deps"


def test_every_workspace_member_pyproject_is_in_the_dependency_layer() -> None:
    copied = {
        Path(i.args.split()[0]).parent
        for i in INSTRUCTIONS
        if i.keyword == "COPY" and i.args.split()[0].endswith("/pyproject.toml")
    }
    members = {d.relative_to(REPO_ROOT) for d in workspace_packages(REPO_ROOT).values()}
    assert copied == members, "uv needs every workspace member's pyproject.toml"
    sources = {
        i.args.split()[0].rstrip("/")
        for i in INSTRUCTIONS
        if i.keyword == "COPY" and i.args.split()[0].endswith("/")
    }
    assert {str(m).split("/")[0] for m in members} <= sources


def test_non_root_numeric_user_and_no_healthcheck() -> None:
    users = [i.args for i in stage_of(FINAL_STAGE) if i.keyword == "USER"]
    assert users, "the final stage sets USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) == 10001 and (not gid or gid.isdigit())
    assert not [i for i in INSTRUCTIONS if i.keyword == "HEALTHCHECK"]


def test_no_build_tools_in_the_final_stage() -> None:
    final = " ".join(i.args for i in stage_of(FINAL_STAGE) if i.keyword == "RUN")
    for tool in ("apt-get install", "gcc", "build-essential", "pip install", "uv "):
        assert tool not in final
    copies = [i.args for i in stage_of(FINAL_STAGE) if i.keyword == "COPY"]
    assert copies == ["--from=builder /app/.venv /app/.venv"], "only the venv is copied"


def test_oci_labels() -> None:
    labels = " ".join(i.args for i in stage_of(FINAL_STAGE) if i.keyword == "LABEL")
    for key in ("title", "description", "version", "revision", "created", "source"):
        assert f"org.opencontainers.image.{key}=" in labels


def test_exec_form_entry_point_and_container_env() -> None:
    cmd = [i.args for i in stage_of(FINAL_STAGE) if i.keyword == "CMD"]
    assert len(cmd) == 1
    assert isinstance(json.loads(cmd[0]), list), "exec form: the process is PID 1"
    env = " ".join(i.args for i in stage_of(FINAL_STAGE) if i.keyword == "ENV")
    for needed in ("CAUCE_HOST=0.0.0.0", "PYTHONUNBUFFERED=1", "CAUCE_SPAN_FILE=/tmp/"):
        assert needed in env


def test_dockerignore_keeps_local_state_out() -> None:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", "allow-list: everything is excluded unless named"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    assert allowed == {"pyproject.toml", "uv.lock", "libs", "services", "devstack"}
    assert "**/tests/" in rules


def test_every_component_is_a_workspace_package_with_a_runnable_module() -> None:
    packages = workspace_packages(REPO_ROOT)
    for component in COMPONENTS.values():
        assert component.package in packages, component
        spec = importlib.util.find_spec(component.module)
        assert spec is not None, component.module
        if spec.submodule_search_locations is not None:  # a package runs its __main__
            assert importlib.util.find_spec(f"{component.module}.__main__"), component.module


def test_every_cauce_image_in_the_manifests_is_a_workspace_package(
    renderings: dict[str, Rendering],
) -> None:
    packages = workspace_packages(REPO_ROOT)
    named = set()
    for rendering in renderings.values():
        for manifest in rendering.manifests:
            text = json.dumps(manifest)
            named |= set(re.findall(r"/(cauce-[a-z-]+):", text))
    assert named >= {f"cauce-{c}" for c in ("gateway", "notifier", "devstack")}
    assert named <= set(packages), named - set(packages)
