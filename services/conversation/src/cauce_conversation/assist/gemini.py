"""Gemini's HTTP API (``generateContent``): the seed's model.

``POST {base}/models/{model}:generateContent`` with the key in ``x-goog-api-key``, the
instruction as ``systemInstruction``, the transcript as the user's turn, and
``generationConfig`` asking for JSON of the given shape (``responseSchema``, Gemini's
OpenAPI subset: types in capitals). Tokens come from ``usageMetadata``.
"""

from __future__ import annotations

from typing import Any

from cauce_conversation.assist.models import Completion, HttpChatModel, ModelRefused


def gemini_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A plain JSON Schema in Gemini's dialect (``"type": "OBJECT"``, ...)."""
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type":
            converted[key] = str(value).upper()
        elif key == "properties":
            converted[key] = {name: gemini_schema(sub) for name, sub in value.items()}
        elif key == "items":
            converted[key] = gemini_schema(value)
        else:
            converted[key] = value
    return converted


class GeminiModel(HttpChatModel):
    remote = "Gemini"

    @staticmethod
    def url_of(base_url: str, model: str) -> str:
        return f"{base_url}/models/{model}:generateContent"

    async def generate(
        self, instruction: str, transcript: str, schema: dict[str, Any]
    ) -> Completion:
        body = {
            "systemInstruction": {"parts": [{"text": instruction}]},
            "contents": [{"role": "user", "parts": [{"text": transcript}]}],
            "generationConfig": {
                "temperature": 0.2,
                "responseMimeType": "application/json",
                "responseSchema": gemini_schema(schema),
            },
        }
        headers = {"x-goog-api-key": self.api_key.get_secret_value()} if self.api_key else {}
        answer = await self.post(body, headers)
        return Completion(
            text=_text_of(answer),
            input_tokens=int(answer.get("usageMetadata", {}).get("promptTokenCount", 0)),
            output_tokens=int(answer.get("usageMetadata", {}).get("candidatesTokenCount", 0)),
        )


def _text_of(answer: Any) -> str:
    try:
        candidate = answer["candidates"][0]
        return "".join(part.get("text", "") for part in candidate["content"]["parts"])
    except (KeyError, IndexError, TypeError) as error:
        reason = (
            answer.get("promptFeedback", {}).get("blockReason")
            if isinstance(answer, dict)
            else None
        )
        raise ModelRefused(
            "Gemini gave no answer" + (f" (blocked: {reason})" if reason else ""),
            code=reason or "no_candidate",
        ) from error
