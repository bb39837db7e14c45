"""Agents' files and the company's stickers, kept in the ``media`` object store under
the company (``{company}/{sha256}``) for replies.

- ``POST /api/chats/media`` (multipart ``file``): a file to send (an image, a voice
  note, a video, a document), WhatsApp's types only, at most
  ``CAUCE_MEDIA_UPLOAD_MAX_BYTES``; answers its ``id`` (the content's SHA-256) and a
  preview link.
- ``POST /api/companies/stickers`` / ``GET /api/companies/stickers``: the company's
  stickers (WebP, at most 500 KB as WhatsApp takes them), sent by id.

The same bytes uploaded twice are one object; another company's id is unknown here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cauce_contracts.envelope import utc_now
from cauce_contracts.identity import Permission
from cauce_contracts.media import WHATSAPP_MEDIA_TYPES
from cauce_conversation.bootstrap import ConversationDep, ConversationService
from cauce_conversation.inbox.unavailable import UNAVAILABLE_RESPONSE, unavailable_as_503
from cauce_conversation.store.documents import Document
from cauce_conversation.store.errors import unavailable_as_transient
from cauce_runtime.bus import StoredFile, file_name
from cauce_runtime.identity import Caller, require

Replier = Annotated[Caller, Depends(require(Permission.CHATS_REPLY))]
Reader = Annotated[Caller, Depends(require(Permission.CHATS_READ))]
Manager = Annotated[Caller, Depends(require(Permission.CHATS_MANAGE))]

#: WhatsApp's limit for an animated sticker (a static one: 100 KB).
STICKER_MAX_BYTES = 500 * 1024
FileId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class UploadedFile(BaseModel):
    #: The content's SHA-256: what a reply names the file by.
    id: str
    content_type: str
    size: int
    filename: str | None
    #: A signed link to look at it (expires).
    url: str


class Sticker(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    size: int
    created_by: str
    created_at: datetime = Field(default_factory=utc_now)


class StickerView(BaseModel):
    id: str
    name: str
    size: int
    url: str


def _content_type(upload: UploadFile) -> str:
    return (upload.content_type or "").split(";", 1)[0].strip().lower()


async def _read_capped(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"the file is over {limit} bytes")
    if not data:
        raise HTTPException(422, "the file is empty")
    return data


async def keep(
    service: ConversationService,
    company_id: str,
    upload: UploadFile,
    *,
    allowed: frozenset[str],
    limit: int,
) -> StoredFile:
    """The upload, checked and stored under the company."""
    content_type = _content_type(upload)
    if content_type not in allowed:
        raise HTTPException(415, f"{content_type or 'no type'} is not a type WhatsApp sends")
    data = await _read_capped(upload, limit)
    filename = (upload.filename or "").strip()[:240] or None
    return await service.files.put(company_id, data, content_type, filename)


async def uploaded(service: ConversationService, company_id: str, file_id: str) -> StoredFile:
    """A file the company uploaded (422 for an unknown id, another company's included)."""
    stored = await service.files.info(file_name(company_id, file_id))
    if stored is None:
        raise HTTPException(422, f"no uploaded file {file_id}")
    return stored


router = APIRouter(
    tags=["media"], dependencies=[Depends(unavailable_as_503)], responses=UNAVAILABLE_RESPONSE
)


@router.post(
    "/api/chats/media",
    status_code=201,
    response_model=UploadedFile,
    responses={413: {"description": "too large"}, 415: {"description": "not a WhatsApp type"}},
)
async def upload_media(
    service: ConversationDep,
    caller: Replier,
    file: Annotated[UploadFile, File(description="an image, audio, video or document")],
) -> UploadedFile:
    """A file to send in a reply (``{"media": {"id": ...}}``)."""
    stored = await keep(
        service,
        caller.company_id,
        file,
        allowed=WHATSAPP_MEDIA_TYPES,
        limit=service.settings.media_upload_max_bytes,
    )
    return UploadedFile(
        id=stored.sha256,
        content_type=stored.content_type,
        size=stored.size,
        filename=stored.filename,
        url=service.media_links.link(stored.name),
    )


@router.post("/api/companies/stickers", status_code=201, response_model=StickerView)
async def add_sticker(
    service: ConversationDep,
    caller: Manager,
    file: Annotated[UploadFile, File(description="a WebP sticker, at most 500 KB")],
    name: Annotated[str, Form(min_length=1, max_length=64)],
) -> StickerView:
    """A sticker of the company's (agents send it with ``{"sticker": id}``)."""
    stored = await keep(
        service, caller.company_id, file, allowed=frozenset({"image/webp"}), limit=STICKER_MAX_BYTES
    )
    sticker = Sticker(
        id=stored.sha256,
        tenant_id=caller.company_id,
        name=name,
        size=stored.size,
        created_by=caller.subject,
    )
    collection = service.store.database.get_collection("stickers")
    document: Document = {"_id": stored.name, **sticker.model_dump()}
    with unavailable_as_transient("add sticker"):
        await collection.replace_one({"_id": stored.name}, document, upsert=True)
    return _view(service, sticker)


@router.get("/api/companies/stickers", response_model=list[StickerView])
async def list_stickers(service: ConversationDep, caller: Reader) -> list[StickerView]:
    collection = service.store.database.get_collection("stickers")
    with unavailable_as_transient("list stickers"):
        documents = await collection.find({"tenant_id": caller.company_id}).to_list()
    stickers = sorted((Sticker.model_validate(d) for d in documents), key=lambda s: s.name)
    return [_view(service, sticker) for sticker in stickers]


async def sticker_of(service: ConversationService, company_id: str, sticker_id: str) -> Sticker:
    """The company's sticker (422 for an unknown one, another company's included)."""
    collection = service.store.database.get_collection("stickers")
    with unavailable_as_transient("get sticker"):
        document = await collection.find_one({"_id": file_name(company_id, sticker_id)})
    if document is None:
        raise HTTPException(422, f"no sticker {sticker_id}")
    return Sticker.model_validate(document)


def _view(service: ConversationService, sticker: Sticker) -> StickerView:
    url = service.media_links.link(file_name(sticker.tenant_id, sticker.id))
    return StickerView(id=sticker.id, name=sticker.name, size=sticker.size, url=url)
