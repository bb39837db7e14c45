"""The metric names a PromQL expression reads, and a sanity check of its shape.

With ``promql-parser`` installed (a Rust PromQL parser, compatible with Prometheus
2.45), expressions are parsed for real and names are taken from the AST's vector
selectors. Without it, a small lexer does the same job: it drops strings, label matchers,
ranges and label lists, and keeps the identifiers that are neither functions,
aggregations nor keywords. Either way brackets must balance.

Grafana variables (``$__rate_interval``, ``$namespace``) are replaced by values of the
right kind before parsing.
"""

from __future__ import annotations

import re
from typing import Any

try:  # pragma: no cover - depends on the environment
    import promql_parser
except ImportError:  # pragma: no cover
    promql_parser = None

GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
}
_VARIABLE = re.compile(r"\$\{?\w+\}?")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_LABEL_LISTS = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_IDENTIFIER = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?")
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
    | {"and", "or", "unless", "atan2", "inf", "nan"}
)
_PAIRS = {")": "(", "]": "[", "}": "{"}


def expand_grafana(expr: str) -> str:
    """``expr`` with Grafana's variables replaced (ranges by durations, others by ``.*``,
    which fits where they are used: inside ``=~`` matchers)."""
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    return _VARIABLE.sub(".*", expr)


def unbalanced(expr: str) -> str | None:
    """Why the brackets of ``expr`` do not balance (strings ignored), or None."""
    stack: list[str] = []
    for char in _STRING.sub('""', expr):
        if char in "([{":
            stack.append(char)
        elif char in _PAIRS and (not stack or stack.pop() != _PAIRS[char]):
            return f"unexpected {char!r}"
    return f"unclosed {stack[-1]!r}" if stack else None


def _names_by_lexer(expr: str) -> set[str]:
    text = _STRING.sub('""', expr)
    text = _LABEL_LISTS.sub(" ", text)
    previous = None
    while previous != text:  # nested {...} cannot occur, but be safe
        previous, text = text, _BRACES.sub(" ", _RANGES.sub(" ", text))
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names


def _names_by_parser(expr: str) -> set[str]:
    assert promql_parser is not None
    names: set[str] = set()

    def visit(node: Any) -> None:
        name = getattr(node, "name", None)
        if type(node).__name__ in ("VectorSelector", "MatrixSelector"):
            if isinstance(name, str) and name:
                names.add(name)
            inner = getattr(node, "vector_selector", None)
            inner_name = getattr(inner, "name", None)
            if isinstance(inner_name, str) and inner_name:
                names.add(inner_name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` (a PromQL expression, Grafana variables allowed)
    selects; ``ValueError`` when it does not parse or its brackets do not balance."""
    expanded = expand_grafana(expr)
    problem = unbalanced(expanded)
    if problem:
        raise ValueError(f"{problem} in {expr!r}")
    if promql_parser is not None:
        return _names_by_parser(expanded)
    return _names_by_lexer(expanded)


def parser_in_use() -> str:
    return "promql-parser" if promql_parser is not None else "built-in lexer"
