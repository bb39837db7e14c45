"""A language model behind an HTTP API, as assist calls it: one instruction, one
transcript, a JSON answer of a given shape, and the tokens it took.

Failures are the runtime's outside-call errors (:mod:`cauce_runtime._errors`): a model
that is busy or down (429, 5xx, no answer) is :class:`ModelUnavailable`, a refused key
:class:`ModelKeyRejected`, a refused request :class:`ModelRefused`. :func:`complete`
retries the retryable ones with the runtime's :class:`~cauce_runtime.Backoff`, a few
times and briefly: an agent is waiting for the answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from cauce_runtime import (
    Backoff,
    CredentialsRejected,
    OutsideCallError,
    PermanentCallError,
    RetryableCallError,
)
from cauce_runtime.calls import retry_after_of, transport_failure

#: Retries wait this long (or what the model asked for, up to ``MAX_WAIT_S``).
RETRY_BACKOFF = Backoff.exponential(0.5, 4.0)
#: A model asking to wait longer than this is not retried: the agent is waiting.
MAX_WAIT_S = 10.0


class ModelUnavailable(RetryableCallError):
    """The model is busy or down (429, 5xx, no answer): asking later may work."""


class ModelKeyRejected(CredentialsRejected):
    """The model's API refused the company's key."""


class ModelRefused(PermanentCallError):
    """The model's API refused the request itself, or answered what cannot be read."""


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int


class ChatModel(Protocol):
    """One model at one endpoint, with the company's key."""

    #: The model's name as results and usage show it.
    model: str

    async def generate(
        self, instruction: str, transcript: str, schema: dict[str, Any]
    ) -> Completion: ...


class HttpChatModel:
    """What both model clients hold: the client, the model's URL, its name and the
    company's key (None: a server that takes none)."""

    remote = "the model"

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, model: str, api_key: SecretStr | None
    ) -> None:
        self.http = http
        self.url = self.url_of(base_url.rstrip("/"), model)
        self.model = model
        self.api_key = api_key

    @staticmethod
    def url_of(base_url: str, model: str) -> str:
        raise NotImplementedError

    async def post(self, body: dict[str, Any], headers: dict[str, str]) -> Any:
        return await post_json(self.http, self.url, body, headers, self.remote)


def answer_of(response: httpx.Response, remote: str) -> Any:
    """The JSON body of a successful answer; the classified error of any other."""
    status = response.status_code
    if status < 400:
        try:
            return response.json()
        except ValueError as error:
            raise ModelRefused(f"{remote} answered what is not JSON", code="bad_json") from error
    detail = response.text[:300]
    code = f"http_{status}"
    if status in (401, 403):
        raise ModelKeyRejected(f"{remote} refused the key", code=code, http_status=status)
    if status in (408, 429) or status >= 500:
        raise ModelUnavailable(
            f"{remote} is busy or down",
            code=code,
            http_status=status,
            retry_after=retry_after_of(response.headers),
            detail=detail,
        )
    raise ModelRefused(
        f"{remote} refused the request", code=code, http_status=status, detail=detail
    )


async def post_json(
    http: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str], remote: str
) -> Any:
    """POST ``body`` and read the answer (:func:`answer_of`); transport failures are
    :class:`ModelUnavailable` (a generation is safe to ask for again)."""
    try:
        response = await http.post(url, json=body, headers=headers)
    except httpx.RequestError as error:
        raise transport_failure(
            error, remote=remote, not_sent=ModelUnavailable, sent=ModelUnavailable
        ) from error
    return answer_of(response, remote)


async def complete(
    model: ChatModel, instruction: str, transcript: str, schema: dict[str, Any], attempts: int
) -> Completion:
    """``model.generate`` with up to ``attempts`` tries for the retryable failures."""
    for attempt in range(1, attempts + 1):
        try:
            return await model.generate(instruction, transcript, schema)
        except RetryableCallError as error:
            if isinstance(error, CredentialsRejected) or attempt == attempts:
                raise
            wait = RETRY_BACKOFF.delay(attempt, error.retry_after)
            if wait > MAX_WAIT_S:
                raise
            await asyncio.sleep(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")


__all__ = [
    "ChatModel",
    "Completion",
    "ModelKeyRejected",
    "ModelRefused",
    "ModelUnavailable",
    "OutsideCallError",
    "complete",
]
