from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from cauce_devstack.servers import SecantusServer
from cauce_devstack.servers.mongo import MONGODB_URL_ENV, mongo_url_from_env


async def test_ping_insert_and_find(mongo_url: str) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_url)
    try:
        assert (await client.admin.command("ping"))["ok"] == 1
        coll = client["devstack_probe"]["ping_insert_find"]
        await coll.delete_many({})
        await coll.insert_one({"plate": "ABC123", "n": 1})
        found = await coll.find_one({"plate": "ABC123"})
        assert found is not None and found["n"] == 1
    finally:
        await client.close()


def test_mongodb_url_wins_over_the_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MONGODB_URL_ENV, "mongodb://db.example:27017/")
    assert mongo_url_from_env() == "mongodb://db.example:27017/"
    monkeypatch.setenv(MONGODB_URL_ENV, "  ")
    assert mongo_url_from_env() is None


async def test_secantus_keeps_data_across_restart(tmp_path: Path) -> None:
    server = SecantusServer(storage_dir=tmp_path / "mongo")
    server.start()
    try:
        assert "directConnection=true" in server.url
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(server.url)
        await client["d"]["c"].insert_one({"_id": "kept"})
        await client.close()
        server.stop()
        server.start()
        client = AsyncMongoClient(server.url)
        assert await client["d"]["c"].find_one({"_id": "kept"}) == {"_id": "kept"}
        await client.close()
    finally:
        server.stop()
