"""``python -m cauce_identity create-admin``: the first admin of a company, made on the
command line (there is no default admin and no default password anywhere).

The password is read from the terminal (twice), or from stdin with
``--password-stdin`` (for scripts and Kubernetes Jobs); the company is created with
its builtin roles when it does not exist yet. ``--platform-admin`` makes a user who
may act for any company, explicitly.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from cauce_identity.logins import WeakPassword, check_password_policy
from cauce_identity.passwords import hash_password
from cauce_identity.settings import IdentitySettings
from cauce_identity.store import CompanyStore, EmailTaken, RoleStore, UserStore, migrate
from cauce_runtime import postgres


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cauce_identity create-admin")
    p.add_argument("--company", required=True, help="company id (its tenant_id), e.g. acme")
    p.add_argument("--company-name", help="display name when the company is new")
    p.add_argument("--email", required=True)
    p.add_argument("--name", default="Administrator", help="the admin's full name")
    p.add_argument("--platform-admin", action="store_true", help="may act for any company")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    return p


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise SystemExit("the passwords differ")
    return first


async def create_admin(args: argparse.Namespace, password: str, settings: IdentitySettings) -> str:
    """Create the admin; a message saying what was done."""
    try:
        check_password_policy(password, settings.password_min_length, args.email)
    except WeakPassword as exc:
        raise SystemExit(str(exc)) from exc
    pool = await postgres.create_pool(settings.postgres_url, 2)
    try:
        await migrate(pool)
        companies = CompanyStore(pool)
        if await companies.get(args.company) is None:
            await companies.create(args.company, args.company_name or args.company)
        role = await RoleStore(pool).by_name(args.company, "admin")
        assert role is not None, "every company has the builtin admin role"
        try:
            user = await UserStore(pool).create(
                args.company,
                args.email,
                args.name,
                await hash_password(password),
                role.id,
                platform_admin=args.platform_admin,
            )
        except EmailTaken as exc:
            raise SystemExit(f"a user with e-mail {args.email} already exists") from exc
    finally:
        await pool.close()
    kind = "platform admin" if user.platform_admin else "admin"
    return f"created {kind} {user.email} ({user.id}) of company {user.company_id}"


def main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    password = read_password(args.password_stdin)
    print(asyncio.run(create_admin(args, password, IdentitySettings())))
