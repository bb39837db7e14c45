"""What a short Spanish message means: restart, greeting, advisor, yes, "todo", years.

Matching is accent- and case-insensitive on words (``Menú`` = ``menu``,
``ASESOR`` = ``asesor``), so punctuation and emojis around a keyword do not matter.

- *Advisor* words anywhere in the message hand over ("quiero hablar con un asesor").
- *Restart* words (menu, inicio, reiniciar, empezar, comenzar, cancelar) count in short
  messages only (at most four words), so a sentence that happens to contain one does
  not wipe the conversation.
- A *greeting* is a message made only of greeting words ("hola", "buenas tardes",
  "hola, ¿qué tal?"); "hola, mi placa es ABC123" is a plate, not a greeting.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")
_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")

_AGENT_WORDS = frozenset(
    {"asesor", "asesora", "asesores", "agente", "humano", "humana", "persona", "operador"}
)
_RESTART_WORDS = frozenset(
    {"menu", "inicio", "reiniciar", "reinicio", "empezar", "comenzar", "cancelar"}
)
_GREETING_OPENERS = frozenset(
    {"hola", "ola", "holi", "buenas", "buenos", "buen", "saludos", "hey", "hi", "hello"}
)
_GREETING_WORDS = _GREETING_OPENERS | {
    "dia", "dias", "tarde", "tardes", "noche", "noches", "que", "tal", "como", "esta",
    "estas", "muy", "a", "todos", "senor", "senora",
}  # fmt: skip
_AFFIRMATIVE = frozenset(
    {"si", "ok", "okay", "dale", "listo", "claro", "bueno", "va", "sip", "yes", "acepto",
     "pagar", "pago", "pagarlo", "pagarla", "quiero", "deseo", "por", "favor", "de", "una"}
)  # fmt: skip
_AFFIRMATIVE_OPENERS = frozenset(
    {"si", "ok", "okay", "dale", "listo", "claro", "bueno", "va", "sip", "yes", "acepto",
     "pagar", "pago", "pagarlo", "pagarla", "quiero", "deseo", "de"}
)  # fmt: skip
_ALL_WORDS = frozenset({"todo", "todos", "todas", "total", "completo", "ambas", "ambos"})
_OTHER_PLATE = frozenset({"otra", "otro", "no", "cambiar"})
_RETRY_WORDS = frozenset(
    {"reintentar", "intentar", "intente", "intentelo", "nuevamente", "reintento", "vez", "nuevo"}
)
_THANKS = frozenset({"gracias", "thanks", "grax"})
_PAID_WORDS = frozenset({"pague", "pagado", "pagada", "pagamos", "cancele"})


def normalize(text: str) -> tuple[str, ...]:
    """The words of ``text``: lower case, accents dropped, punctuation gone."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return tuple(_WORD.findall(folded))


def wants_agent(words: tuple[str, ...]) -> bool:
    return any(word in _AGENT_WORDS for word in words)


def wants_restart(words: tuple[str, ...]) -> bool:
    return 0 < len(words) <= 4 and any(word in _RESTART_WORDS for word in words)


def is_greeting(words: tuple[str, ...]) -> bool:
    return (
        bool(words) and words[0] in _GREETING_OPENERS and all(w in _GREETING_WORDS for w in words)
    )


def is_affirmative(words: tuple[str, ...]) -> bool:
    """ "si", "ok", "dale", "sí, pagar", "quiero pagar"..."""
    return (
        bool(words)
        and words[0] in _AFFIRMATIVE_OPENERS
        and all(w in _AFFIRMATIVE or w in _ALL_WORDS for w in words)
    )


def wants_all(words: tuple[str, ...]) -> bool:
    """ "todo", "pagar todo", "todas las vigencias"."""
    return 0 < len(words) <= 5 and any(word in _ALL_WORDS for word in words)


def wants_other_plate(words: tuple[str, ...]) -> bool:
    """ "no", "otra placa", "cambiar placa"."""
    return 0 < len(words) <= 4 and words[0] in _OTHER_PLATE


def wants_retry(words: tuple[str, ...]) -> bool:
    """ "reintentar", "intentar de nuevo", "otra vez", or a plain yes."""
    return 0 < len(words) <= 5 and (
        any(word in _RETRY_WORDS for word in words) or is_affirmative(words)
    )


def is_thanks(words: tuple[str, ...]) -> bool:
    return 0 < len(words) <= 6 and any(word in _THANKS for word in words)


def says_paid(words: tuple[str, ...]) -> bool:
    """ "ya pagué", "ya está pagado"."""
    return any(word in _PAID_WORDS for word in words)


def years(text: str) -> tuple[int, ...]:
    """Four-digit years written in ``text`` ("2023 y 2024" -> (2023, 2024))."""
    return tuple(int(year) for year in _YEAR.findall(text))


def option_number(words: tuple[str, ...]) -> int | None:
    """ "1", "2", "opción 3" -> the 1-based option number, else ``None``."""
    if words and words[0] in {"opcion", "numero", "la", "el"}:
        words = words[1:]
    if len(words) == 1 and words[0].isdigit() and len(words[0]) <= 2:
        return int(words[0])
    return None
