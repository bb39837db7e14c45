"""Outbound contents of the vehicle-tax flow, always within WhatsApp's limits.

Every builder returns a validated :mod:`cauce_contracts.outbound` model. Texts that
may grow with the data (many vigencias, a long reference, an overridden copy) are
shortened here rather than rejected by the contract: a turn must never fail because a
vehicle owes too many years.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from cauce_contracts.outbound import (
    MAX_LIST_ROWS,
    MAX_REPLY_BUTTONS,
    CtaUrlContent,
    ListContent,
    ListRow,
    ListSection,
    ReplyButton,
    ReplyButtonsContent,
    TextContent,
)
from cauce_conversation.flows.vehicle_tax import choices
from cauce_conversation.flows.vehicle_tax.copy import VehicleTaxCopy
from cauce_conversation.flows.vehicle_tax.money import format_fecha, format_pesos
from cauce_conversation.flows.vehicle_tax.slots import DebtSlot

TEXT_LIMIT = 4096
INTERACTIVE_LIMIT = 1024
BUTTON_LIMIT = 20
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
#: The shape :class:`~cauce_contracts.fields.WebUrl` accepts.
_WEB_URL = re.compile(r"^https?://\S+$")


def fit(text: str, limit: int) -> str:
    """``text``, cut with an ellipsis when longer than ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def is_web_url(url: str) -> bool:
    return 10 <= len(url) <= 2000 and _WEB_URL.match(url) is not None


def text(body: str) -> TextContent:
    return TextContent(body=fit(body, TEXT_LIMIT))


def _label(preferred: str, fallback: str) -> str:
    return preferred if 0 < len(preferred) <= BUTTON_LIMIT else fallback


def buttons(body: str, options: Sequence[tuple[str, str]]) -> ReplyButtonsContent:
    """Reply buttons from ``(id, title)`` pairs; repeated ids or titles are dropped
    (an overridden copy could make two labels equal), at most three are kept."""
    kept: list[ReplyButton] = []
    for choice_id, title in options:
        if any(b.id == choice_id or b.title == title for b in kept):
            continue
        kept.append(ReplyButton(id=choice_id, title=title))
    return ReplyButtonsContent(body=fit(body, INTERACTIVE_LIMIT), buttons=kept[:MAX_REPLY_BUTTONS])


def _debt_fields(debt: DebtSlot) -> dict[str, object]:
    return {
        "vigencia": debt.vigencia,
        "impuesto": format_pesos(debt.impto),
        "sancion": format_pesos(debt.sancion),
        "interes": format_pesos(debt.interes),
        "total": format_pesos(debt.total),
        "fecha_limite": format_fecha(debt.fecha_lim),
    }


def debt_summary(copy: VehicleTaxCopy, placa: str, debts: Sequence[DebtSlot]) -> TextContent:
    """The debt per vigencia in one text: full blocks when they fit, else one line per
    vigencia, else as many lines as fit and "…y N vigencias más"."""
    header = copy.debt_header.format(placa=placa, count=len(debts))
    footer = (
        [copy.debt_grand_total.format(total=format_pesos(sum(d.total for d in debts)))]
        if len(debts) > 1
        else []
    )
    blocks = [copy.debt_block.format(**_debt_fields(d)) for d in debts]
    full = "\n\n".join([header, *blocks, *footer])
    if len(full) <= TEXT_LIMIT:
        return TextContent(body=full)
    lines = [copy.debt_line.format(**_debt_fields(d)) for d in debts]

    def assemble(shown: list[str], hidden: int) -> str:
        more = ["", copy.debt_more.format(count=hidden)] if hidden else []
        return "\n".join([header, "", *shown, *more, *(["", *footer] if footer else [])])

    shown: list[str] = []
    for line in lines:
        if len(assemble([*shown, line], len(lines) - len(shown) - 1)) > TEXT_LIMIT:
            break
        shown.append(line)
    return text(assemble(shown, len(lines) - len(shown)))


def debt_choices(
    copy: VehicleTaxCopy, placa: str, debts: Sequence[DebtSlot], body: str | None = None
) -> tuple[ReplyButtonsContent, list[str]]:
    """The question after the debt, and the choice ids offered (in order).

    One vigencia: "Pagar $ X" / "Otra placa" / "Hablar con asesor". Two: "Pagar todo"
    and one button per vigencia. More: "Pagar todo" / "Elegir vigencia" (opens a list)
    / "Otra placa".
    """
    total = format_pesos(sum(d.total for d in debts))
    vigencias = sorted({d.vigencia for d in debts})
    if len(vigencias) == 1:
        question = copy.choose_one.format(placa=placa, vigencia=vigencias[0], total=total)
        pay_label = _label(copy.button_pay_amount.format(total=total), copy.button_pay_short)
        options = [
            (choices.pay_all(placa), pay_label),
            (choices.PLATE_OTHER, copy.button_other_plate),
            (choices.AGENT, copy.button_agent),
        ]
    else:
        question = copy.choose_several.format(placa=placa, count=len(vigencias), total=total)
        if len(vigencias) == 2:
            options = [(choices.pay_all(placa), copy.button_pay_all)] + [
                (
                    choices.pay_vigencia(v, placa),
                    _label(copy.button_pay_vigencia.format(vigencia=v), str(v)),
                )
                for v in vigencias
            ]
        else:
            options = [
                (choices.pay_all(placa), copy.button_pay_all),
                (choices.pay_choose(placa), copy.button_choose),
                (choices.PLATE_OTHER, copy.button_other_plate),
            ]
    content = buttons(body or question, options)
    return content, [b.id for b in content.buttons]


def vigencia_list(
    copy: VehicleTaxCopy, placa: str, debts: Sequence[DebtSlot], body: str | None = None
) -> tuple[ListContent, list[str]]:
    """A list of the vigencias, oldest first (WhatsApp shows at most ten rows; later
    years can still be typed)."""
    by_year: dict[int, int] = {}
    deadline: dict[int, date] = {}
    for debt in sorted(debts, key=lambda d: d.vigencia):
        by_year[debt.vigencia] = by_year.get(debt.vigencia, 0) + debt.total
        deadline.setdefault(debt.vigencia, debt.fecha_lim)
    rows: list[ListRow] = []
    for vigencia in list(by_year)[:MAX_LIST_ROWS]:
        title = copy.list_row_title.format(vigencia=vigencia)
        description = copy.list_row_description.format(
            total=format_pesos(by_year[vigencia]), fecha_limite=format_fecha(deadline[vigencia])
        )
        rows.append(
            ListRow(
                id=choices.pay_vigencia(vigencia, placa),
                title=title if len(title) <= ROW_TITLE_LIMIT else str(vigencia),
                description=fit(description, ROW_DESCRIPTION_LIMIT),
            )
        )
    example = next(iter(by_year), "")
    content = ListContent(
        body=fit(body or copy.choose_list.format(example=example), TEXT_LIMIT),
        button=copy.list_button,
        sections=[ListSection(title=copy.list_section, rows=rows)],
    )
    return content, [row.id for row in rows]


def payment_link(body: str, display_text: str, url: str) -> CtaUrlContent:
    return CtaUrlContent(body=fit(body, INTERACTIVE_LIMIT), display_text=display_text, url=url)


def retry_offer(
    copy: VehicleTaxCopy, body: str, retry_id: str, retry_title: str
) -> ReplyButtonsContent:
    """After a failure: retry (same request), talk to an advisor, or another plate."""
    return buttons(
        body,
        [
            (retry_id, retry_title),
            (choices.AGENT, copy.button_agent),
            (choices.PLATE_OTHER, copy.button_other_plate),
        ],
    )
