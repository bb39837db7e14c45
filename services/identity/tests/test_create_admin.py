"""``python -m cauce_identity create-admin``: the first admin, from the command line
(no default admin or password exists anywhere)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import IdentityServer, running_identity


def create_admin(database_url: str, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAUCE_POSTGRES_URL": database_url, "CAUCE_ENVIRONMENT": "test"}
    return subprocess.run(  # noqa: S603 - our own module, fixed argv
        [sys.executable, "-m", "cauce_identity", "create-admin", "--password-stdin", *args],
        input=password + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_the_first_admin_is_made_on_the_command_line(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    password = "a long first-admin passphrase"
    made = create_admin(
        database_url,
        "--company",
        "initech",
        "--email",
        "boss@initech.example.com",
        password=password,
    )
    assert made.returncode == 0, made.stderr
    assert "created admin boss@initech.example.com" in made.stdout
    assert password not in made.stdout + made.stderr

    again = create_admin(
        database_url,
        "--company",
        "initech",
        "--email",
        "boss@initech.example.com",
        password=password,
    )
    weak = create_admin(
        database_url, "--company", "initech", "--email", "b2@initech.example.com", password="short"
    )
    assert again.returncode != 0 and "already exists" in again.stderr
    assert weak.returncode != 0 and "at least" in weak.stderr

    async with running_identity(nats_url, database_url, tmp_path) as server:
        session = await IdentityServer.log_in(server, "boss@initech.example.com", password)
        assert session["user"]["company_id"] == "initech"
        assert "users.manage" in session["user"]["permissions"]
        assert not session["user"]["platform_admin"]
