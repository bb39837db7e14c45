"""Customers' media on the Graph fake: an image, voice note or document a customer sent
is a media node (``GET /graph/{version}/{media_id}`` answers its ``url``, ``mime_type``,
``sha256`` and ``file_size``) whose ``url`` gives the bytes to the business number's
bearer token only, as Meta's download URLs do.

The customer simulator registers a sample file for every media id its messages carry
(of the declared type); ``POST /sandbox/customer/media`` registers chosen bytes (a
large file, a type cauce refuses) for a message to reference.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.meta.access_tokens import authorise, bearer
from cauce_devstack.sandbox.meta.errors import GraphError, unknown_object

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings

#: The message types whose body is a media object with an ``id``.
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")

#: The first bytes of a file of each type, so a sample looks like what it claims.
_MAGIC: dict[str, bytes] = {
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "audio/ogg": b"OggS\x00\x02",
    "audio/mpeg": b"ID3\x03\x00",
    "video/mp4": b"\x00\x00\x00\x18ftypmp42",
    "application/pdf": b"%PDF-1.4\n",
}


@dataclass(frozen=True)
class CustomerMedia:
    media_id: str
    phone_number_id: str
    mime_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class MediaLibrary:
    """The media customers sent, by id (Meta keeps them 30 days; the sandbox until it
    stops)."""

    def __init__(self) -> None:
        self._media: dict[str, CustomerMedia] = {}

    def add(
        self, phone_number_id: str, mime_type: str, data: bytes, media_id: str | None = None
    ) -> CustomerMedia:
        media_id = media_id or str(10**15 + secrets.randbelow(9 * 10**15))
        media = CustomerMedia(media_id, phone_number_id, mime_type, data)
        self._media[media_id] = media
        return media

    def get(self, media_id: str) -> CustomerMedia | None:
        return self._media.get(media_id)

    def sample_for(self, phone_number_id: str, message: dict[str, Any]) -> None:
        """Register a sample file for the media a simulated message references, unless
        its id is already known."""
        kind = message.get("type")
        body = message.get(kind) if isinstance(kind, str) and kind in MEDIA_TYPES else None
        if not isinstance(body, dict) or not isinstance(media_id := body.get("id"), str):
            return
        if media_id in self._media:
            return
        mime_type = str(body.get("mime_type") or "application/octet-stream")
        self.add(phone_number_id, mime_type, sample(mime_type, media_id), media_id)


def sample(mime_type: str, media_id: str) -> bytes:
    """A small file of ``mime_type``: its magic bytes, then filler named after the id."""
    magic = _MAGIC.get(mime_type.split(";")[0].strip(), b"")
    return magic + f"cauce sandbox media {media_id}\n".encode() * 8


def media_node(settings: SandboxSettings, request: Request, media: CustomerMedia) -> Response:
    """Meta's answer to ``GET /{media_id}``: where to download it, for an hour."""
    try:
        authorise(settings, bearer(request), media.phone_number_id)
    except GraphError:
        return unknown_object(media.media_id, "get").response()
    url = str(request.url_for("download_media", media_id=media.media_id))
    return JSONResponse(
        {
            "messaging_product": "whatsapp",
            "url": url,
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": str(len(media.data)),
            "id": media.media_id,
        }
    )


router = APIRouter(tags=["whatsapp-graph"])


@router.get("/graph/media-files/{media_id}", name="download_media")
async def download_media(media_id: str, request: Request, sandbox: SandboxDep) -> Response:
    """The bytes, to the receiving number's token (Meta answers 404 to anyone else)."""
    media = sandbox.media.get(media_id)
    if media is None:
        return Response(status_code=404)
    try:
        authorise(sandbox.settings, bearer(request), media.phone_number_id)
    except GraphError:
        return Response(status_code=404)
    return Response(media.data, media_type=media.mime_type)


class MediaUpload(BaseModel):
    """A file a customer will send: its type, and its bytes (base64) or a size to fill."""

    mime_type: str = Field(min_length=3, max_length=100)
    content_base64: str | None = None
    size: int | None = Field(default=None, ge=1, le=64 * 1024 * 1024)
    phone_number_id: str | None = None


class MediaUploaded(BaseModel):
    id: str
    sha256: str
    file_size: int


@router.post("/sandbox/customer/media", response_model=MediaUploaded, tags=["sandbox"])
async def upload_customer_media(upload: MediaUpload, sandbox: SandboxDep) -> MediaUploaded:
    """Register a file for a simulated message to reference by ``id``."""
    if upload.content_base64 is not None:
        data = base64.b64decode(upload.content_base64)
    else:
        data = sample(upload.mime_type, "upload").ljust(upload.size or 1024, b".")
    number = upload.phone_number_id or sandbox.settings.default_phone_number_id
    media = sandbox.media.add(number, upload.mime_type, data)
    return MediaUploaded(id=media.media_id, sha256=media.sha256, file_size=len(data))
