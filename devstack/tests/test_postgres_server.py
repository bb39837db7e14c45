from pathlib import Path

import asyncpg
import pytest

from cauce_devstack.servers import PortInUseError, PostgresServer


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
