"""Files in JetStream's object store: the ``media`` bucket where customers' files and
agents' uploads are kept, each under its company's prefix (``{company}/{sha256}``).

The same bytes of one company are one object (a redelivered download writes the same
name again); two companies never share one. The content type and file name travel as
the object's headers. In Kubernetes the bucket lives in the NATS cluster's JetStream
storage, replicated like the streams.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from nats.js.api import ObjectMeta, ObjectStoreConfig, StorageType
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from cauce_runtime.bus._bus import Bus

_CONTENT_TYPE = "Content-Type"
_FILENAME = "Cauce-Filename"


@dataclass(frozen=True)
class StoredFile:
    """A file in the store: where, what and how big."""

    name: str
    company_id: str
    content_type: str
    size: int
    sha256: str
    filename: str | None = None


@dataclass(frozen=True)
class FileContent:
    file: StoredFile
    data: bytes


def file_name(company_id: str, sha256: str) -> str:
    """The object name of a company's file with this content hash."""
    return f"{company_id}/{sha256}"


class FileStore:
    """Companies' files in one JetStream object store bucket (created on first use)."""

    def __init__(self, bus: Bus, bucket: str, *, replicas: int = 1) -> None:
        self.bus = bus
        self.bucket = bucket
        self.replicas = replicas
        self._store: ObjectStore | None = None

    async def _opened(self) -> ObjectStore:
        if self._store is None:
            js = self.bus.connection.jetstream()
            try:
                self._store = await js.object_store(self.bucket)
            except BucketNotFoundError:
                config = ObjectStoreConfig(
                    bucket=self.bucket, storage=StorageType.FILE, replicas=self.replicas
                )
                self._store = await js.create_object_store(self.bucket, config=config)
        return self._store

    async def put(
        self, company_id: str, data: bytes, content_type: str, filename: str | None = None
    ) -> StoredFile:
        sha256 = hashlib.sha256(data).hexdigest()
        name = file_name(company_id, sha256)
        headers = {_CONTENT_TYPE: content_type}
        if filename:
            headers[_FILENAME] = filename
        store = await self._opened()
        await store.put(name, data, meta=ObjectMeta(name=name, headers=headers))
        return StoredFile(name, company_id, content_type, len(data), sha256, filename)

    async def info(self, name: str) -> StoredFile | None:
        """What the store knows of ``name``, without its bytes (None when absent)."""
        store = await self._opened()
        try:
            info = await store.get_info(name)
        except (ObjectNotFoundError, NotFoundError):
            return None
        return _stored(name, info.headers, info.size or 0)

    async def get(self, name: str) -> FileContent | None:
        """The file called ``name`` with its bytes (None when there is none)."""
        store = await self._opened()
        try:
            result = await store.get(name)
        except (ObjectNotFoundError, NotFoundError):
            return None
        data = result.data or b""
        return FileContent(_stored(name, result.info.headers, len(data)), data)


def _stored(name: str, raw_headers: object, size: int) -> StoredFile:
    headers = dict(raw_headers) if isinstance(raw_headers, dict) else {}
    company_id, _, sha256 = name.partition("/")
    return StoredFile(
        name=name,
        company_id=company_id,
        content_type=_header(headers, _CONTENT_TYPE) or "application/octet-stream",
        size=size,
        sha256=sha256,
        filename=_header(headers, _FILENAME),
    )


def _header(headers: dict[str, object], name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None
