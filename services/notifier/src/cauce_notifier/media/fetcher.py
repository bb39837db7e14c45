"""The ``notifier-media`` consumer: every customer message with a file gets it kept.

For an image, voice note, video, document or sticker, the file is downloaded from the
provider (:mod:`.downloads`), written to the ``media`` object store under the
message's company, and announced as ``inbound.media.stored`` (or
``inbound.media.refused`` with the reason); the conversation shows it on the message.
A redelivery downloads again and writes the same object; the announcement's message id
(``media:{channel}:{message id}``) makes JetStream keep one.
"""

from __future__ import annotations

import logging

from cauce_contracts.inbound import InboundMessageReceived, MediaRef
from cauce_contracts.media import InboundMediaRefused, InboundMediaStored, MediaRefusal
from cauce_contracts.registry import subject_of
from cauce_notifier.accounts_model import ChannelAccount
from cauce_notifier.media.downloads import MediaDownloader, MediaRefused
from cauce_notifier.store.accounts import AccountStore
from cauce_runtime import Delivery, Publisher
from cauce_runtime.bus import FileStore

logger = logging.getLogger(__name__)


def media_of(event: InboundMessageReceived) -> tuple[MediaRef, str | None] | None:
    """The file a message carries and its file name (None for messages without one)."""
    message = event.message
    media = getattr(message, "media", None)
    if not isinstance(media, MediaRef):
        return None
    return media, getattr(message, "filename", None)


class MediaFetcher:
    def __init__(
        self,
        bus: Publisher,
        accounts: AccountStore,
        downloader: MediaDownloader,
        files: FileStore,
    ) -> None:
        self.bus = bus
        self.accounts = accounts
        self.downloader = downloader
        self.files = files

    async def fetch(self, event: InboundMessageReceived, delivery: Delivery) -> None:
        found = media_of(event)
        if found is None:
            return
        media, filename = found
        account = await self.accounts.find(event.channel, event.channel_account_id)
        if account is None or account.tenant_id != event.tenant_id:
            await self._refused(event, "no_account", "no channel account of the company")
            return
        try:
            await self._keep(event, account, media, filename)
        except MediaRefused as refused:
            logger.info(
                "media of message %s on %s not kept: %s",
                event.event_id,
                event.channel,
                refused.reason,
            )
            await self._refused(event, refused.reason, refused.detail)

    async def _keep(
        self,
        event: InboundMessageReceived,
        account: ChannelAccount,
        media: MediaRef,
        filename: str | None,
    ) -> None:
        downloaded = await self.downloader.download(account, media)
        stored = await self.files.put(
            event.tenant_id, downloaded.data, downloaded.content_type, filename
        )
        await self._announce(
            InboundMediaStored(
                **self._about(event),
                object_name=stored.name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                filename=filename,
            )
        )

    async def _refused(
        self, event: InboundMessageReceived, reason: MediaRefusal, detail: str
    ) -> None:
        await self._announce(
            InboundMediaRefused(**self._about(event), reason=reason, detail=detail[:1024])
        )

    @staticmethod
    def _about(event: InboundMessageReceived) -> dict[str, object]:
        return {
            "tenant_id": event.tenant_id,
            "correlation_id": event.correlation_id,
            "causation_id": str(event.event_id),
            "channel": event.channel,
            "channel_account_id": event.channel_account_id,
            "provider_message_id": event.provider_message_id,
            "contact_key": event.contact_key,
        }

    async def _announce(self, event: InboundMediaStored | InboundMediaRefused) -> None:
        msg_id = f"media:{event.channel}:{event.provider_message_id}"
        await self.bus.publish(event, subject_of(event), msg_id=msg_id)
