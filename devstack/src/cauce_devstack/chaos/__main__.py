"""``python -m cauce_devstack.chaos [--bounded] [--home DIR]`` (``make chaos``): prints
the table; exits 1 when anything was duplicated or lost, or a fault did not recover."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from cauce_devstack.chaos.run import BOUNDED_PLAN, FULL_PLAN, chaos
from cauce_devstack.testing import free_ports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cauce_devstack.chaos", description=__doc__)
    parser.add_argument("--bounded", action="store_true", help="CI's short form")
    parser.add_argument("--home", type=Path, help="stack data (default: a temporary dir)")
    args = parser.parse_args(argv)
    plan = BOUNDED_PLAN if args.bounded else FULL_PLAN
    with tempfile.TemporaryDirectory(prefix="cauce-chaos-") as scratch:
        home = args.home or Path(scratch)
        print(f"make chaos: {len(plan.faults)} faults, stack data in {home}", flush=True)
        report = chaos(home, plan, ports=free_ports())
    print(report.table(), flush=True)
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
