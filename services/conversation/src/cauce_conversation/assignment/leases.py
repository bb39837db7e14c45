"""One assigner per company at a time, whatever the number of replicas: a lease in
MongoDB (collection ``leases``), taken by a conditional write, renewed by its holder,
free again when it lapses (a replica that died leaves it for at most ``ttl_s``). Lapsed
means by the database server's clock: a replica whose own clock jumps ahead does not
take leases others still hold."""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cauce_conversation.store.documents import Document, bson_time, server_now
from cauce_conversation.store.errors import unavailable_as_transient


class Leases:
    def __init__(self, db: AsyncDatabase[Document], holder: str, *, ttl_s: float = 10.0) -> None:
        self._db = db
        self._leases: AsyncCollection[Document] = db.get_collection("leases")
        self.holder = holder
        self.ttl = timedelta(seconds=ttl_s)

    async def hold(self, name: str) -> bool:
        """Take or renew the lease ``name``; True while this holder has it."""
        with unavailable_as_transient("take lease"):
            now = await server_now(self._db)
            until: datetime = bson_time(now + self.ttl)
            renewed = await self._leases.update_one(
                {"_id": name, "$or": [{"holder": self.holder}, {"until": {"$lt": now}}]},
                {"$set": {"holder": self.holder, "until": until}},
            )
            if renewed.matched_count == 1:
                return True
            try:
                await self._leases.insert_one({"_id": name, "holder": self.holder, "until": until})
            except DuplicateKeyError:
                return False  # someone else holds it
        return True

    async def release(self, name: str) -> None:
        with unavailable_as_transient("release lease"):
            await self._leases.delete_one({"_id": name, "holder": self.holder})
