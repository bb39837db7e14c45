"""Any OpenAI-compatible chat API: OpenAI itself, and the local model servers that
speak it (vLLM, llama.cpp's server, Ollama's ``/v1``).

``POST {base}/chat/completions`` with ``Authorization: Bearer <key>`` when there is a
key (a local server may need none), the instruction as the system message, the
transcript as the user's, and ``response_format`` asking for JSON of the given shape
(``json_schema``). Tokens come from ``usage``.
"""

from __future__ import annotations

from typing import Any

from cauce_conversation.assist.models import Completion, HttpChatModel, ModelRefused


class OpenAICompatibleModel(HttpChatModel):
    remote = "the OpenAI-compatible model"

    @staticmethod
    def url_of(base_url: str, model: str) -> str:
        return f"{base_url}/chat/completions"

    async def generate(
        self, instruction: str, transcript: str, schema: dict[str, Any]
    ) -> Completion:
        body = {
            "model": self.model,
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": instruction},
                {"role": "user", "content": transcript},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema},
            },
        }
        headers = (
            {"Authorization": f"Bearer {self.api_key.get_secret_value()}"} if self.api_key else {}
        )
        answer = await self.post(body, headers)
        usage = answer.get("usage") or {}
        return Completion(
            text=_text_of(answer),
            input_tokens=int(usage.get("prompt_tokens", 0)),
            output_tokens=int(usage.get("completion_tokens", 0)),
        )


def _text_of(answer: Any) -> str:
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as error:
        raise ModelRefused("the model gave no answer", code="no_choice") from error
    if not isinstance(content, str):
        raise ModelRefused("the model's answer has no text", code="no_text")
    return content
