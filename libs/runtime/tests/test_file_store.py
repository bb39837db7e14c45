"""Companies' files in JetStream's object store, against a real nats-server: one object
per company and content, its type and name kept, another company's never shared."""

from __future__ import annotations

import hashlib
import uuid

from cauce_runtime import Bus
from cauce_runtime.bus import FileStore, file_name


async def test_files_are_kept_per_company_with_their_type(bus: Bus) -> None:
    store = FileStore(bus, f"files-{uuid.uuid4().hex[:8]}")
    data = b"\xff\xd8\xff" + b"x" * 300_000  # larger than one 128 KiB chunk
    ours = await store.put("acme", data, "image/jpeg", "foto.jpg")
    assert ours.name == file_name("acme", hashlib.sha256(data).hexdigest())
    again = await store.put("acme", data, "image/jpeg", "foto.jpg")  # a redelivery
    theirs = await store.put("other", data, "image/jpeg")
    assert again.name == ours.name and theirs.name != ours.name

    read = await store.get(ours.name)
    assert read is not None and read.data == data
    assert (read.file.content_type, read.file.filename, read.file.company_id) == (
        "image/jpeg",
        "foto.jpg",
        "acme",
    )
    assert read.file.size == len(data)
    assert await store.info(ours.name) == read.file  # the same, without the bytes
    assert await store.info("acme/" + "0" * 64) is None
    assert await store.get("acme/" + "0" * 64) is None
