"""``python -m cauce_devstack run``: the local stack in the foreground (``make run``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cauce_devstack.launcher import StackStartError, run
from cauce_devstack.servers.mongo import mongo_url_from_env
from cauce_devstack.servers.ports import PortInUseError
from cauce_devstack.stack import BASE_PORT_OFFSETS, COMPONENTS, StackConfig


def _port_override(text: str) -> tuple[str, int]:
    name, sep, port = text.partition("=")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=PORT, got {text!r}")
    return name, int(port)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cauce_devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="start the whole local stack in the foreground")
    run_cmd.add_argument(
        "--home", type=Path, default=None, help="state directory (default ./.cauce)"
    )
    run_cmd.add_argument(
        "--base-port",
        type=int,
        default=None,
        help="put every port at BASE + a fixed offset (env CAUCE_DEVSTACK_BASE_PORT)",
    )
    run_cmd.add_argument(
        "--port",
        action="append",
        type=_port_override,
        default=[],
        metavar="NAME=PORT",
        help=f"override one port; names: {', '.join(BASE_PORT_OFFSETS)}",
    )
    run_cmd.add_argument(
        "--only",
        default=None,
        help=f"comma-separated subset of: {', '.join(COMPONENTS)}",
    )
    run_cmd.add_argument("--health-timeout", type=float, default=60.0)
    demo_cmd = commands.add_parser(
        "demo", help="a scripted customer pays their vehicle tax through the stack"
    )
    demo_cmd.add_argument("--home", type=Path, default=None, help="state directory")
    demo_cmd.add_argument("--base-port", type=int, default=None)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "demo":
        from cauce_devstack.demo.run import demo

        return demo(args.home, args.base_port)
    try:
        config = StackConfig.create(
            args.home,
            base_port=args.base_port,
            port_overrides=dict(args.port),
            only=[c.strip() for c in args.only.split(",") if c.strip()] if args.only else None,
            mongodb_url=mongo_url_from_env(),
            health_timeout=args.health_timeout,
        )
        return run(config)
    except PortInUseError as error:
        print(f"cauce devstack: {error}", file=sys.stderr)
        return 2
    except (StackStartError, ValueError) as error:
        print(f"cauce devstack: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
