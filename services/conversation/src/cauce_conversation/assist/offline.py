"""The offline default: what can be computed from a chat without a model, and no more.

- **Summary**: the last messages, each cut short, said to be the offline default.
- **Insights**: entities by pattern (amounts in pesos, dates, Colombian plates, the
  customer's profile name), sentiment from a small Spanish lexicon (counted words, no
  understanding), the intent from keywords, churn risk from sentiment and intent, and
  the next action the intent suggests.
- **Draft**: a short Spanish reply for the intent, for the agent to edit.

Every result says ``provider: offline``; nothing leaves the service.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from cauce_conversation.assist.provider import (
    ChatLine,
    Entities,
    Insights,
    Result,
    Risk,
    Sentiment,
)

#: How many of the latest messages the offline summary lists.
SUMMARY_LINES = 6
_CUT = 140

_AMOUNT = re.compile(r"(?:\$|COP\s?)\s?\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\$\s?\d+")
_DATE = re.compile(r"\b(?:\d{1,2}[/-]\d{1,2}[/-]\d{2,4}|\d{4}-\d{2}-\d{2})\b")
#: Colombian plates: cars ABC123, motorbikes ABC12D.
_PLATE = re.compile(r"\b[A-Z]{3}\s?\d{2}[0-9A-Z]\b")

_POSITIVE = frozenset(
    {
        "gracias",
        "excelente",
        "perfecto",
        "genial",
        "listo",
        "bien",
        "bueno",
        "buena",
        "amable",
        "rapido",
        "feliz",
        "agradezco",
        "super",
        "claro",
    }
)
_NEGATIVE = frozenset(
    {
        "mal",
        "malo",
        "mala",
        "problema",
        "queja",
        "molesto",
        "molesta",
        "terrible",
        "pesimo",
        "nunca",
        "error",
        "demora",
        "fraude",
        "estafa",
        "reclamo",
        "cancelar",
        "enojado",
        "tarde",
        "cobro",
    }
)
#: (intent, keywords, next action, draft reply), the first match wins.
_INTENTS: tuple[tuple[str, frozenset[str], str, str], ...] = (
    (
        "cancel",
        frozenset(["cancelar", "baja", "eliminar", "desuscribir", "stop"]),
        "Confirm the opt-out and ask, once, what went wrong",
        "Lamentamos que quiera irse, {name}. ¿Nos cuenta qué podemos mejorar?",
    ),
    (
        "complaint",
        frozenset(["queja", "reclamo", "problema", "error", "fraude", "cobro"]),
        "Acknowledge the problem and hand over to a supervisor if unresolved",
        "Entiendo la situación, {name}. Ya reviso su caso y le confirmo en breve.",
    ),
    (
        "pay",
        frozenset(["pagar", "pago", "link", "enlace", "transferencia", "pse", "tarjeta"]),
        "Send the payment link and confirm the amount",
        "Claro, {name}. Le envío el enlace de pago en un momento.",
    ),
    (
        "debt_inquiry",
        frozenset(["placa", "deuda", "impuesto", "vehicular", "valor", "cuanto", "debo"]),
        "Look up the plate's debt and share it",
        "Con gusto, {name}. Consulto la deuda de su placa y le cuento.",
    ),
    (
        "greeting",
        frozenset(["hola", "buenas", "buenos", "dias", "tardes", "noches"]),
        "Greet and ask how to help",
        "¡Hola, {name}! ¿En qué le puedo ayudar?",
    ),
)
_OTHER: tuple[str, frozenset[str], str, str] = (
    "other",
    frozenset(),
    "Read the chat and answer",
    "Gracias por escribirnos, {name}.",
)


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.findall(r"[a-z]+", plain)


def _customer_words(lines: list[ChatLine]) -> list[str]:
    return [w for line in lines if line.who == "customer" for w in _words(line.text)]


def sentiment_of(words: list[str]) -> Sentiment:
    score = sum(w in _POSITIVE for w in words) - sum(w in _NEGATIVE for w in words)
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"


def _intent(words: list[str]) -> tuple[str, frozenset[str], str, str]:
    present = set(words)
    return next((i for i in _INTENTS if i[1] & present), _OTHER)


def entities_of(lines: list[ChatLine], profile_name: str | None) -> Entities:
    text = "\n".join(line.text for line in lines if line.who == "customer")
    return Entities(
        amounts=unique(m.strip() for m in _AMOUNT.findall(text)),
        dates=unique(_DATE.findall(text)),
        plates=unique(p.replace(" ", "") for p in _PLATE.findall(text.upper())),
        names=[profile_name] if profile_name else [],
    )


def unique(found: Iterable[str]) -> list[str]:
    """Each once, in the order found."""
    return list(dict.fromkeys(found))


def _risk(sentiment: Sentiment, intent: str) -> Risk:
    if intent in ("cancel", "complaint") and sentiment == "negative":
        return "high"
    if intent in ("cancel", "complaint") or sentiment == "negative":
        return "medium"
    return "low"


class OfflineAssistant:
    name = "offline"

    async def summary(self, lines: list[ChatLine]) -> Result:
        latest = lines[-SUMMARY_LINES:]
        shown = [f"{line.who}: {_cut(line.text)}" for line in latest if line.text]
        head = f"Offline default (no model): the last {len(shown)} of {len(lines)} messages."
        return Result(kind="summary", provider=self.name, summary="\n".join([head, *shown]))

    async def insights(self, lines: list[ChatLine], profile_name: str | None) -> Result:
        words = _customer_words(lines)
        sentiment = sentiment_of(words)
        intent, _, action, _ = _intent(words)
        insights = Insights(
            sentiment=sentiment,
            intent=intent,
            entities=entities_of(lines, profile_name),
            churn_risk=_risk(sentiment, intent),
            next_action=action,
        )
        return Result(kind="insights", provider=self.name, insights=insights)

    async def draft(self, lines: list[ChatLine], profile_name: str | None) -> Result:
        last_customer = [line for line in lines if line.who == "customer"][-3:]
        _, _, _, reply = _intent(_customer_words(last_customer))
        name = (profile_name or "").split(" ")[0] or "cliente"
        return Result(kind="draft", provider=self.name, draft=reply.format(name=name))


def _cut(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _CUT else flat[: _CUT - 1] + "…"
