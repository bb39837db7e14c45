"""``python -m cauce_crm_sync``: serve crm-sync, or operate it from a shell.

    python -m cauce_crm_sync                       # serve (settings from CAUCE_*)
    python -m cauce_crm_sync migrations [--apply]  # the crm schema's version
    python -m cauce_crm_sync dead-letters list [--kind contact|state] [--error NAME]
    python -m cauce_crm_sync dead-letters show ID
    python -m cauce_crm_sync dead-letters replay (ID... | --all [--kind K] [--error NAME])
    python -m cauce_crm_sync reconcile             # compare with Odoo and repair now

The operator commands talk to PostgreSQL (and Odoo, for ``reconcile``) with the
service's own settings, so they work from ``kubectl exec`` into any replica. Replayed
records are picked up by the running replicas' sync workers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import asyncpg

from cauce_crm_sync.settings import CrmSyncSettings
from cauce_runtime import postgres


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cauce_crm_sync")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the service (the default)")
    migrations = commands.add_parser("migrations", help="print the crm schema's version")
    migrations.add_argument("--apply", action="store_true", help="apply missing migrations")
    commands.add_parser("reconcile", help="compare PostgreSQL with Odoo and repair drift now")
    letters = commands.add_parser("dead-letters", help="records Odoo rejected").add_subparsers(
        dest="action", required=True
    )
    listing = letters.add_parser("list")
    show = letters.add_parser("show")
    show.add_argument("id", type=int)
    replay = letters.add_parser("replay")
    replay.add_argument("ids", type=int, nargs="*")
    replay.add_argument("--all", action="store_true", help="every dead letter matching the filters")
    for sub in (listing, replay):
        sub.add_argument("--kind", choices=("contact", "state"))
        sub.add_argument("--error", dest="error_name", help="Odoo error name, e.g. ValidationError")
    listing.add_argument("--limit", type=int, default=100)
    args = parser.parse_args(argv)
    if args.command == "dead-letters" and args.action == "replay" and not (args.ids or args.all):
        parser.error("dead-letters replay needs ids or --all")
    return args


def _print(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")


async def operate(args: argparse.Namespace, settings: CrmSyncSettings, out: TextIO) -> int:
    from cauce_crm_sync.bootstrap import mapping_of
    from cauce_crm_sync.operator_api import inspect
    from cauce_crm_sync.store import dead_letters
    from cauce_crm_sync.store.migrations import migrate, schema_version

    pool = await postgres.create_pool(settings.postgres_url, max_size=2, session_state=True)
    try:
        if args.command == "migrations":
            if args.apply:
                await migrate(pool)
            _print({"schema": "crm", "version": await schema_version(pool)}, out)
        elif args.command == "reconcile":
            return await _reconcile(pool, settings, out)
        elif args.action == "list":
            items = await dead_letters.list_dead(
                pool, kind=args.kind, error_name=args.error_name, limit=args.limit
            )
            _print([item.as_dict() for item in items], out)
        elif args.action == "show":
            letter = await dead_letters.get_dead(pool, args.id)
            if letter is None:
                out.write(f"no dead letter {args.id}\n")
                return 1
            _print(await inspect(pool, mapping_of(settings), letter), out)
        else:
            count = await dead_letters.replay(
                pool, ids=args.ids or None, kind=args.kind, error_name=args.error_name
            )
            _print({"replayed": count}, out)
    finally:
        await pool.close()
    return 0


async def _reconcile(pool: asyncpg.Pool, settings: CrmSyncSettings, out: TextIO) -> int:
    from cauce_crm_sync.bootstrap import mapping_of, rate_limited_odoo
    from cauce_crm_sync.sync.reconciliation import AlreadyRunning, Reconciler

    odoo, _ = rate_limited_odoo(pool, settings)
    try:
        result = await Reconciler(pool, odoo, mapping_of(settings)).run("cli")
    except AlreadyRunning as running:
        out.write(f"{running}\n")
        return 1
    finally:
        await odoo.aclose()
    _print(result.__dict__, out)
    return 0 if result.error is None else 1


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parse_args(argv)
    if args.command in (None, "serve"):
        from cauce_crm_sync.app import create_app
        from cauce_runtime import run

        run(create_app, CrmSyncSettings())
        return 0
    return asyncio.run(operate(args, CrmSyncSettings(), out))
