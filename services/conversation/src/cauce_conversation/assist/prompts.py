"""What a model is asked, and how its answer is read.

Each kind (summary, insights, draft) has a Spanish instruction, the chat as a
transcript, and the JSON shape the answer must take (a plain JSON Schema, which both
Gemini's ``responseSchema`` and OpenAI's ``json_schema`` response format accept). An
answer that is not that JSON is the model's failure, never shown half-read.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from cauce_conversation.assist.provider import ChatLine, Insights

Kind = Literal["summary", "insights", "draft"]

_WHO = {"customer": "Cliente", "agent": "Agente", "bot": "Bot", "note": "Nota interna"}

_COMMON = (
    "Eres el asistente de un equipo de atención al cliente que conversa por WhatsApp "
    "en español. Lees la conversación y respondes solo con el JSON pedido. Los números "
    "de teléfono y los enlaces pueden aparecer enmascarados; no los inventes."
)
INSTRUCTIONS: dict[Kind, str] = {
    "summary": _COMMON
    + " Resume la conversación en tres a cinco frases: qué quiere el cliente, qué se "
    "le respondió y qué queda pendiente.",
    "insights": _COMMON + " Analiza la conversación: sentimiento del cliente, su intención (pocas "
    "palabras), entidades mencionadas (montos, fechas, placas de vehículos, nombres), "
    "riesgo de que el cliente se vaya y la siguiente acción que sugieres al agente.",
    "draft": _COMMON + " Escribe un borrador breve y amable de la próxima respuesta del agente al "
    "cliente, en español, sin prometer nada que la conversación no respalde.",
}

_STRINGS = {"type": "array", "items": {"type": "string"}}
SCHEMAS: dict[Kind, dict[str, Any]] = {
    "summary": {
        "type": "object",
        "properties": {"summary": {"type": "string"}},
        "required": ["summary"],
    },
    "insights": {
        "type": "object",
        "properties": {
            "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
            "intent": {"type": "string"},
            "entities": {
                "type": "object",
                "properties": {
                    "amounts": _STRINGS,
                    "dates": _STRINGS,
                    "plates": _STRINGS,
                    "names": _STRINGS,
                },
                "required": ["amounts", "dates", "plates", "names"],
            },
            "churn_risk": {"type": "string", "enum": ["low", "medium", "high"]},
            "next_action": {"type": "string"},
        },
        "required": ["sentiment", "intent", "entities", "churn_risk", "next_action"],
    },
    "draft": {
        "type": "object",
        "properties": {"draft": {"type": "string"}},
        "required": ["draft"],
    },
}


def transcript(lines: list[ChatLine], profile_name: str | None) -> str:
    """The chat as the model reads it: one line per message, oldest first."""
    head = f"Cliente: {profile_name}\n" if profile_name else ""
    body = "\n".join(
        f"[{line.at:%Y-%m-%d %H:%M}] {_WHO[line.who]}: {line.text}" for line in lines if line.text
    )
    return f"{head}Conversación:\n{body or '(sin mensajes de texto)'}"


class _Summary(BaseModel):
    summary: str


class _Draft(BaseModel):
    draft: str


class MalformedAnswer(ValueError):
    """The model's answer is not the JSON asked for."""


def read_answer(kind: Kind, text: str) -> str | Insights:
    """The summary or draft text, or the insights, from the model's JSON answer."""
    try:
        data = json.loads(_unfenced(text))
        match kind:
            case "summary":
                return _Summary.model_validate(data).summary
            case "draft":
                return _Draft.model_validate(data).draft
            case _:
                return Insights.model_validate(data)
    except (ValueError, ValidationError) as error:
        raise MalformedAnswer(f"the model's {kind} is not the JSON asked for") from error


def _unfenced(text: str) -> str:
    """Some models wrap JSON in a Markdown code fence even when asked not to."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`")
        stripped = stripped.removeprefix("json").strip()
    return stripped
