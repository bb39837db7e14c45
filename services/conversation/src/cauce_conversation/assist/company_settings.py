"""Each company's AI assist settings, and the provider they give.

The platform names the model endpoints it allows (``CAUCE_AI_ENDPOINTS``: Gemini's API,
OpenAI's, a local model server) and their prices; a company admin picks one, a model
and their own API key, and decides whether a model may read phone numbers and tokens in
clear (``allow_unmasked``, off by default) and whether chats are summarised when they
resolve (``after_resolve``). A company cannot point assist at a URL of its own: the
endpoint is a name from the platform's list, so no admin can make the service call
inside the cluster.

The key is stored encrypted (the runtime's AES-GCM key ring, bound to the company), in
MongoDB ``assist_settings``, one document per company; it is never read back through
the API, only its fingerprint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from bson.binary import Binary
from pydantic import BaseModel, SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from cauce_contracts.envelope import utc_now
from cauce_conversation.assist.endpoints import AiEndpoint, ModelPrice
from cauce_conversation.assist.gemini import GeminiModel
from cauce_conversation.assist.model_assistant import ModelAssistant
from cauce_conversation.assist.models import ChatModel
from cauce_conversation.assist.offline import OfflineAssistant
from cauce_conversation.assist.openai_compatible import OpenAICompatibleModel
from cauce_conversation.assist.provider import AssistProvider
from cauce_conversation.store.errors import unavailable_as_transient
from cauce_runtime.credentials import CredentialsCipher


class CompanyAssist(BaseModel):
    """A company's choice (no endpoint: the offline default)."""

    endpoint: str | None = None
    model: str | None = None
    allow_unmasked: bool = False
    after_resolve: bool = False
    #: Tells two keys apart without showing them (keyed digest, see the cipher).
    key_fingerprint: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None


class AssistSettingsStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]], cipher: CredentialsCipher) -> None:
        self._settings = database.get_collection("assist_settings")
        self.cipher = cipher

    @staticmethod
    def _aad(tenant_id: str) -> bytes:
        return f"assist:{tenant_id}".encode()

    async def read(self, tenant_id: str) -> tuple[CompanyAssist, SecretStr | None]:
        """The company's settings and its key (None: none stored)."""
        with unavailable_as_transient("read assist settings"):
            document = await self._settings.find_one({"_id": tenant_id})
        if document is None:
            return CompanyAssist(), None
        blob = document.pop("api_key", None)
        key = (
            SecretStr(self.cipher.decrypt(bytes(blob), self._aad(tenant_id)).decode())
            if blob
            else None
        )
        return CompanyAssist.model_validate(document), key

    async def save(
        self, tenant_id: str, settings: CompanyAssist, key: SecretStr | None, *, by: str
    ) -> CompanyAssist:
        """Store the settings with ``key`` (None: no key)."""
        saved = settings.model_copy(
            update={
                "updated_at": utc_now(),
                "updated_by": by,
                "key_fingerprint": self.cipher.fingerprint(key.get_secret_value().encode())
                if key
                else None,
            }
        )
        document: dict[str, Any] = {"_id": tenant_id, **saved.model_dump()}
        if key is not None:
            sealed = self.cipher.encrypt(key.get_secret_value().encode(), self._aad(tenant_id))
            document["api_key"] = Binary(sealed)
        with unavailable_as_transient("save assist settings"):
            await self._settings.replace_one({"_id": tenant_id}, document, upsert=True)
        return saved


class Assistants:
    """The provider a company's settings give, built per request (a key may change)."""

    def __init__(
        self,
        store: AssistSettingsStore,
        http: httpx.AsyncClient,
        endpoints: dict[str, AiEndpoint],
        prices: dict[str, ModelPrice],
        *,
        attempts: int = 3,
    ) -> None:
        self.store = store
        self.http = http
        self.endpoints = endpoints
        self.prices = prices
        self.attempts = attempts

    async def for_company(self, tenant_id: str) -> tuple[AssistProvider, CompanyAssist]:
        settings, key = await self.store.read(tenant_id)
        endpoint = self.endpoints.get(settings.endpoint or "")
        if endpoint is None or not settings.model:
            # No choice made, or the platform withdrew the endpoint: the offline default.
            return OfflineAssistant(), settings
        model: ChatModel
        if endpoint.kind == "gemini":
            model = GeminiModel(self.http, endpoint.base_url, settings.model, key)
        else:
            model = OpenAICompatibleModel(self.http, endpoint.base_url, settings.model, key)
        price = self.prices.get(settings.model)
        return ModelAssistant(model, price, attempts=self.attempts), settings
