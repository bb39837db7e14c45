"""Fakes of the language-model APIs AI assist calls: Gemini's ``generateContent`` and an
OpenAI-compatible ``/chat/completions`` (OpenAI's, and a local model server's that takes
no key)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cauce_devstack.sandbox.models import gemini, openai

if TYPE_CHECKING:
    from fastapi import FastAPI

OPENAPI_TAG: dict[str, Any] = {
    "name": "models",
    "description": """Language models for AI assist, answering offline and deterministically: the
answer is JSON of the shape the request asks for (Gemini's ``responseSchema``, OpenAI's
``response_format.json_schema``), its text fields made from the transcript, and token
counts from the words in and out. ``/gemini/v1beta`` checks ``x-goog-api-key`` (400
``API_KEY_INVALID`` as Gemini answers), ``/openai/v1`` a bearer key (401
``invalid_api_key``), ``/local-llm/v1`` takes none. Accepted requests go to the outbox
(``provider`` ``gemini`` or ``openai``, ``kind`` ``completion``, ``phone_number_id``
the model) with the whole request body, so a test can check what a model was shown.
Faults with ``target`` ``gemini`` or ``openai``: ``latency``, ``429``, ``5xx``,
``token_expired``, ``drop``; ``malformed`` answers text that is not the JSON asked for.""",
}


def install(app: FastAPI) -> None:
    app.include_router(gemini.router)
    app.include_router(openai.router)
    app.include_router(openai.local_router)


__all__ = ["OPENAPI_TAG", "install"]


def endpoints_at(sandbox_url: str) -> dict[str, dict[str, Any]]:
    """``CAUCE_AI_ENDPOINTS`` for a stack whose models are these fakes: Gemini, OpenAI
    and a keyless local server, under the names a platform would give them."""
    return {
        "gemini": {
            "kind": "gemini",
            "base_url": f"{sandbox_url}/gemini/v1beta",
            "models": ["gemini-2.5-flash", "gemini-2.5-pro"],
        },
        "openai": {
            "kind": "openai",
            "base_url": f"{sandbox_url}/openai/v1",
            "models": ["gpt-4o-mini"],
        },
        "local": {
            "kind": "openai",
            "base_url": f"{sandbox_url}/local-llm/v1",
            "models": ["llama-3.1-8b-instruct"],
            "key_required": False,
        },
    }


#: ``CAUCE_AI_PRICES`` of the dev stack: example figures (USD per million tokens) so the
#: console shows costs; a platform sets its vendors' current prices.
DEV_PRICES: dict[str, dict[str, float]] = {
    "gemini-2.5-flash": {"input_per_mtok": 0.30, "output_per_mtok": 2.50},
    "gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.60},
}
