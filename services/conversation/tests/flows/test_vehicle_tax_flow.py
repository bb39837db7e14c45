"""The vehicle-tax flow, table-tested: (state, input) -> (step, commands, what is said)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, get_args

import pytest
from pydantic import TypeAdapter

from cauce_contracts.outbound import (
    CtaUrlContent,
    ListContent,
    OutboundContent,
    ReplyButtonsContent,
    TextContent,
)
from cauce_contracts.payments import PaymentLinkRequested, TransactionStatus, VehicleDebt
from cauce_conversation.flows import (
    ChangeLeadState,
    ChoiceReceived,
    Command,
    DebtFound,
    DebtLookupUnavailable,
    DebtNotFound,
    FlowInput,
    FlowState,
    HandOver,
    LookUpDebt,
    MediaKind,
    MediaReceived,
    PaymentLinkReady,
    PaymentLinkUnavailable,
    PaymentStatusChanged,
    Reply,
    RequestPaymentLink,
    TextReceived,
    Transition,
    VehicleTaxFlow,
)

CONTENT = TypeAdapter(OutboundContent)
URL = "https://backendpruebas.vepay.com.co/pay/40037"


def debt(
    vigencia: int = 2025, declaracion: int = 108818889, total: int = 954688, placa: str = "HHO137"
) -> VehicleDebt:
    return VehicleDebt(
        placa=placa,
        declaracion=declaracion,
        vigencia=vigencia,
        avaluo=49116000,
        impto=737000,
        sancion=184000,
        interes=33688,
        saldo_pagar=921000,
        total=total,
        fecha_lim=date(vigencia, 9, 1),
    )


ONE = DebtFound("HHO137", (debt(),))
TWO = DebtFound("HHO137", (debt(2025, 1001, 954688), debt(2024, 1002, 800000)))
MANY = DebtFound(
    "HHO137", tuple(debt(year, 2000 + year, 100000 + year) for year in range(2021, 2025))
)
LINK = PaymentLinkReady(URL, 954688, "40037", "127-196629")


def text(body: str) -> TextReceived:
    return TextReceived(body)


def tap(choice_id: str, title: str = "botón") -> ChoiceReceived:
    return ChoiceReceived(choice_id, title)


def status(value: TransactionStatus, transaction_id: str = "40037") -> PaymentStatusChanged:
    return PaymentStatusChanged(transaction_id, value)


#: How to reach each named state from the initial one.
PATHS: dict[str, list[FlowInput]] = {
    "start": [],
    "awaiting_plate": [text("hola")],
    "looking_up": [text("hola"), text("HHO137")],
}
PATHS["lookup_failed"] = [*PATHS["looking_up"], DebtLookupUnavailable("HHO137", "caído", False)]
PATHS["choosing_one"] = [*PATHS["looking_up"], ONE]
PATHS["choosing_two"] = [*PATHS["looking_up"], TWO]
PATHS["choosing_many"] = [*PATHS["looking_up"], MANY]
PATHS["awaiting_link"] = [*PATHS["choosing_one"], tap("pay:all:HHO137")]
PATHS["link_failed"] = [*PATHS["awaiting_link"], PaymentLinkUnavailable("error SCI", False)]
PATHS["awaiting_payment"] = [*PATHS["awaiting_link"], LINK]
PATHS["payment_failed"] = [*PATHS["awaiting_payment"], status(TransactionStatus.REJECTED)]
PATHS["paid"] = [*PATHS["awaiting_payment"], status(TransactionStatus.APPROVED)]
PATHS["handed_over"] = [*PATHS["awaiting_plate"], text("asesor")]
PATHS["handed_over_paying"] = [*PATHS["awaiting_payment"], text("quiero un asesor")]


def walk(
    flow: VehicleTaxFlow, inputs: Iterable[FlowInput], state: FlowState | None = None
) -> tuple[FlowState, list[Transition]]:
    current = flow.initial if state is None else state
    transitions = []
    for event in inputs:
        transition = flow.step(current, event)
        transitions.append(transition)
        current = transition.state
    return current, transitions


def at(flow: VehicleTaxFlow, name: str) -> FlowState:
    return walk(flow, PATHS[name])[0]


def summary(commands: Sequence[Command]) -> tuple[str, ...]:
    """Commands as short strings: their type and key field."""
    out = []
    for command in commands:
        if isinstance(command, Reply):
            out.append(f"Reply:{command.content.type}")
        elif isinstance(command, LookUpDebt):
            out.append(f"LookUpDebt:{command.placa}")
        elif isinstance(command, RequestPaymentLink):
            out.append(f"RequestPaymentLink:{command.request_key}")
        elif isinstance(command, HandOver):
            out.append(f"HandOver:{command.reason}")
        elif isinstance(command, ChangeLeadState):
            out.append(f"Lead:{command.state}")
    return tuple(out)


def content_of(command: Command) -> OutboundContent:
    assert isinstance(command, Reply), command
    return command.content


def body_of(command: Command) -> str:
    content = content_of(command)
    assert isinstance(content, TextContent), content
    return content.body


def said(commands: Sequence[Command]) -> str:
    """Everything the customer reads in these commands, joined."""
    parts = []
    for command in commands:
        if isinstance(command, Reply):
            content = command.content
            parts.append(getattr(content, "body", ""))
            if isinstance(content, ReplyButtonsContent):
                parts.extend(button.title for button in content.buttons)
            if isinstance(content, CtaUrlContent):
                parts.append(content.display_text)
    return "\n".join(parts)


T, BUTTONS, LIST, CTA = "Reply:text", "Reply:reply_buttons", "Reply:list", "Reply:cta_url"
KEY_ONE = "RequestPaymentLink:HHO137-108818889"

# (state, input, expected step, expected commands, a fragment of what is said)
TABLE: list[tuple[str, FlowInput, str, tuple[str, ...], str]] = [
    # --- start: anything greets; a plate is looked up at once
    ("start", text("hola"), "awaiting_plate", ("Lead:nuevo", T), "Santander"),
    ("start", text("buenas"), "awaiting_plate", ("Lead:nuevo", T), "placa"),
    (
        "start",
        text("mi placa es hho137"),
        "looking_up",
        ("Lead:nuevo", T, "LookUpDebt:HHO137", "Lead:consulta_deuda"),
        "HHO137",
    ),
    ("start", MediaReceived("audio"), "awaiting_plate", (T, "Lead:nuevo", T), "audios"),
    ("start", tap("pay:all:HHO137"), "awaiting_plate", ("Lead:nuevo", T), "placa"),
    ("start", ONE, "start", (), ""),
    ("start", status(TransactionStatus.APPROVED), "start", (), ""),
    (
        "start",
        text("asesor"),
        "handed_over",
        (T, "HandOver:solicitud_cliente", "Lead:asesor"),
        "asesor",
    ),
    # --- awaiting_plate
    (
        "awaiting_plate",
        text("ABC 12D"),
        "looking_up",
        (T, "LookUpDebt:ABC12D", "Lead:consulta_deuda"),
        "ABC12D",
    ),
    (
        "awaiting_plate",
        text("abc-123"),
        "looking_up",
        (T, "LookUpDebt:ABC123", "Lead:consulta_deuda"),
        "Consultando",
    ),
    ("awaiting_plate", text("AB1234"), "awaiting_plate", (T,), "ABC12D"),
    ("awaiting_plate", text("mi carro es azul"), "awaiting_plate", (T,), "*ABC123* para carros"),
    ("awaiting_plate", text("gracias"), "awaiting_plate", (T,), "Con gusto"),
    ("awaiting_plate", text("Menú"), "awaiting_plate", (T,), "Santander"),
    ("awaiting_plate", MediaReceived("image"), "awaiting_plate", (T,), "imágenes"),
    ("awaiting_plate", MediaReceived("location"), "awaiting_plate", (T,), "ubicación"),
    ("awaiting_plate", tap("pay:all:HHO137"), "awaiting_plate", (T,), "mensaje anterior"),
    ("awaiting_plate", tap("plate:other"), "awaiting_plate", (T,), "placa"),
    (
        "awaiting_plate",
        tap("weird-id", "ABC123"),
        "looking_up",
        (T, "LookUpDebt:ABC123", "Lead:consulta_deuda"),
        "",
    ),
    ("awaiting_plate", ONE, "awaiting_plate", (), ""),
    ("awaiting_plate", LINK, "awaiting_plate", (), ""),
    ("awaiting_plate", status(TransactionStatus.APPROVED, "999"), "awaiting_plate", (), ""),
    # --- looking_up: wait, never a second command
    ("looking_up", text("hola"), "looking_up", (T,), "Sigo consultando"),
    ("looking_up", text("ABC123"), "looking_up", (T,), "Sigo consultando"),
    ("looking_up", MediaReceived("audio"), "looking_up", (T,), "Sigo consultando"),
    ("looking_up", tap("plate:other"), "looking_up", (T,), "Sigo consultando"),
    ("looking_up", ONE, "choosing", (T, BUTTONS, "Lead:deuda_encontrada"), "Pagar $ 954.688"),
    ("looking_up", DebtFound("ABC123", (debt(placa="ABC123"),)), "looking_up", (), ""),
    (
        "looking_up",
        DebtNotFound("HHO137"),
        "awaiting_plate",
        (T, "Lead:sin_deuda"),
        "No encontramos deudas",
    ),
    (
        "looking_up",
        DebtFound("HHO137", (debt(total=0),)),
        "awaiting_plate",
        (T, "Lead:sin_deuda"),
        "HHO137",
    ),
    (
        "looking_up",
        DebtLookupUnavailable("HHO137", "timeout", True),
        "looking_up",
        (T,),
        "Seguimos intentando",
    ),
    (
        "looking_up",
        DebtLookupUnavailable("HHO137", "caído", False),
        "lookup_failed",
        (BUTTONS,),
        "Reintentar",
    ),
    ("looking_up", text("reiniciar"), "awaiting_plate", (T,), "Santander"),
    (
        "looking_up",
        text("agente"),
        "handed_over",
        (T, "HandOver:solicitud_cliente", "Lead:asesor"),
        "asesor",
    ),
    ("looking_up", LINK, "looking_up", (), ""),
    # --- lookup_failed
    ("lookup_failed", tap("retry:lookup:HHO137"), "looking_up", (T, "LookUpDebt:HHO137"), "HHO137"),
    ("lookup_failed", text("sí"), "looking_up", (T, "LookUpDebt:HHO137"), ""),
    ("lookup_failed", text("intentar de nuevo"), "looking_up", (T, "LookUpDebt:HHO137"), ""),
    ("lookup_failed", tap("retry:lookup:ABC123"), "lookup_failed", (T,), "mensaje anterior"),
    ("lookup_failed", text("???"), "lookup_failed", (T,), "Reintentar"),
    ("lookup_failed", ONE, "choosing", (T, BUTTONS, "Lead:deuda_encontrada"), "954.688"),
    ("lookup_failed", DebtLookupUnavailable("HHO137", "caído", False), "lookup_failed", (), ""),
    # --- choosing, one vigencia
    ("choosing_one", tap("pay:all:HHO137"), "awaiting_link", (T, KEY_ONE), "Generando"),
    ("choosing_one", tap("pay:2025:HHO137"), "awaiting_link", (T, KEY_ONE), "$ 954.688"),
    ("choosing_one", text("si"), "awaiting_link", (T, KEY_ONE), ""),
    ("choosing_one", text("Sí, pagar"), "awaiting_link", (T, KEY_ONE), ""),
    ("choosing_one", text("1"), "awaiting_link", (T, KEY_ONE), ""),
    ("choosing_one", text("todo"), "awaiting_link", (T, KEY_ONE), ""),
    ("choosing_one", text("2025"), "awaiting_link", (T, KEY_ONE), ""),
    ("choosing_one", text("2019"), "choosing", (BUTTONS,), "ya no está disponible"),
    ("choosing_one", tap("pay:2019:HHO137"), "choosing", (BUTTONS,), "ya no está disponible"),
    ("choosing_one", text("no"), "awaiting_plate", (T,), "placa"),
    ("choosing_one", text("¿qué?"), "choosing", (BUTTONS,), "No le entendí"),
    ("choosing_one", text("2"), "awaiting_plate", (T,), "placa"),  # the 2nd button: Otra placa
    ("choosing_one", text("7"), "choosing", (BUTTONS,), "No le entendí"),
    ("choosing_one", tap("pay:all:ABC123"), "choosing", (T,), "mensaje anterior"),
    ("choosing_one", tap("retry:link:HHO137"), "choosing", (T,), "mensaje anterior"),
    ("choosing_one", tap("plate:other"), "awaiting_plate", (T,), "placa"),
    (
        "choosing_one",
        tap("agent"),
        "handed_over",
        (T, "HandOver:solicitud_cliente", "Lead:asesor"),
        "",
    ),
    (
        "choosing_one",
        text("XYZ987"),
        "looking_up",
        (T, "LookUpDebt:XYZ987", "Lead:consulta_deuda"),
        "",
    ),
    ("choosing_one", text("hola"), "awaiting_plate", (T,), "Santander"),
    ("choosing_one", MediaReceived("sticker"), "choosing", (T,), "sticker"),
    # --- choosing, two and more vigencias
    (
        "choosing_two",
        tap("pay:2024:HHO137"),
        "awaiting_link",
        (T, "RequestPaymentLink:HHO137-1002"),
        "$ 800.000",
    ),
    (
        "choosing_two",
        text("todo"),
        "awaiting_link",
        (T, "RequestPaymentLink:HHO137-1001-1002"),
        "$ 1.754.688",
    ),
    ("choosing_two", text("2"), "awaiting_link", (T, "RequestPaymentLink:HHO137-1002"), ""),
    ("choosing_two", text("la 2025"), "awaiting_link", (T, "RequestPaymentLink:HHO137-1001"), ""),
    ("choosing_many", tap("pay:choose:HHO137"), "choosing", (LIST,), "Elija la vigencia"),
    (
        "choosing_many",
        text("2022 y 2023"),
        "awaiting_link",
        (T, "RequestPaymentLink:HHO137-4022-4023"),
        "",
    ),
    (
        "choosing_many",
        text("pagar todo"),
        "awaiting_link",
        (T, "RequestPaymentLink:HHO137-4021-4022-4023-4024"),
        "",
    ),
    # --- awaiting_link
    ("awaiting_link", text("hola"), "awaiting_link", (T,), "Sigo generando"),
    ("awaiting_link", tap("pay:all:HHO137"), "awaiting_link", (T,), "Sigo generando"),
    ("awaiting_link", LINK, "awaiting_payment", (CTA, "Lead:link_enviado"), "Pagar ahora"),
    (
        "awaiting_link",
        PaymentLinkReady("javascript:alert(1)", 1, "1", "r"),
        "link_failed",
        (BUTTONS,),
        "no pudimos generar",
    ),
    (
        "awaiting_link",
        PaymentLinkUnavailable("timeout", True),
        "awaiting_link",
        (T,),
        "Seguimos intentando",
    ),
    (
        "awaiting_link",
        PaymentLinkUnavailable("rechazada", False),
        "link_failed",
        (BUTTONS,),
        "Reintentar",
    ),
    ("awaiting_link", ONE, "awaiting_link", (), ""),
    # --- link_failed: the retry asks the very same key
    ("link_failed", tap("retry:link:HHO137"), "awaiting_link", (T, KEY_ONE), "Generando"),
    ("link_failed", text("reintentar"), "awaiting_link", (T, KEY_ONE), ""),
    ("link_failed", text("blabla"), "link_failed", (T,), "Reintentar"),
    ("link_failed", LINK, "awaiting_payment", (CTA, "Lead:link_enviado"), "127-196629"),
    ("link_failed", PaymentLinkUnavailable("rechazada", False), "link_failed", (), ""),
    # --- awaiting_payment
    ("awaiting_payment", text("ya pagué"), "awaiting_payment", (T,), "le aviso"),
    ("awaiting_payment", text("y el link?"), "awaiting_payment", (CTA,), "sigue disponible"),
    ("awaiting_payment", MediaReceived("document"), "awaiting_payment", (T,), "documentos"),
    (
        "awaiting_payment",
        status(TransactionStatus.APPROVED),
        "paid",
        (T, "Lead:pagado"),
        "¡Pago confirmado!",
    ),
    (
        "awaiting_payment",
        PaymentStatusChanged("40037", TransactionStatus.APPROVED, 954688),
        "paid",
        (T, "Lead:pagado"),
        "$ 954.688",
    ),
    ("awaiting_payment", status(TransactionStatus.APPROVED, "other"), "awaiting_payment", (), ""),
    ("awaiting_payment", status(TransactionStatus.PENDING), "awaiting_payment", (), ""),
    (
        "awaiting_payment",
        status(TransactionStatus.REJECTED),
        "payment_failed",
        (BUTTONS, "Lead:pago_fallido"),
        "no fue aprobado",
    ),
    (
        "awaiting_payment",
        status(TransactionStatus.FAILED),
        "payment_failed",
        (BUTTONS, "Lead:pago_fallido"),
        "Hablar con asesor",
    ),
    (
        "awaiting_payment",
        status(TransactionStatus.EXPIRED),
        "payment_failed",
        (BUTTONS, "Lead:pago_fallido"),
        "venció",
    ),
    ("awaiting_payment", LINK, "awaiting_payment", (), ""),
    ("awaiting_payment", text("hola"), "awaiting_plate", (T,), "Santander"),
    (
        "awaiting_payment",
        text("ABC123"),
        "looking_up",
        (T, "LookUpDebt:ABC123", "Lead:consulta_deuda"),
        "",
    ),
    # --- payment_failed
    ("payment_failed", tap("retry:link:HHO137"), "awaiting_link", (T, KEY_ONE), ""),
    ("payment_failed", text("si"), "awaiting_link", (T, KEY_ONE), ""),
    (
        "payment_failed",
        tap("agent"),
        "handed_over",
        (T, "HandOver:solicitud_cliente", "Lead:asesor"),
        "",
    ),
    (
        "payment_failed",
        status(TransactionStatus.APPROVED),
        "paid",
        (T, "Lead:pagado"),
        "confirmado",
    ),
    ("payment_failed", status(TransactionStatus.REJECTED), "payment_failed", (), ""),
    # --- paid
    ("paid", text("gracias!"), "paid", (T,), "Con gusto"),
    ("paid", text("ABC123"), "looking_up", (T, "LookUpDebt:ABC123", "Lead:consulta_deuda"), ""),
    ("paid", status(TransactionStatus.APPROVED), "paid", (), ""),  # a duplicate webhook
    ("paid", text("hola"), "awaiting_plate", (T,), "Santander"),
    # --- handed over: silent
    ("handed_over", text("hola"), "handed_over", (), ""),
    ("handed_over", text("menú"), "handed_over", (), ""),
    ("handed_over", text("ABC123"), "handed_over", (), ""),
    ("handed_over", MediaReceived("audio"), "handed_over", (), ""),
    ("handed_over", tap("agent"), "handed_over", (), ""),
    ("handed_over_paying", status(TransactionStatus.APPROVED), "handed_over", ("Lead:pagado",), ""),
    ("handed_over_paying", status(TransactionStatus.REJECTED), "handed_over", (), ""),
]


@pytest.mark.parametrize(
    ("start", "event", "step", "commands", "fragment"),
    TABLE,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(TABLE)],
)
def test_step(
    flow: VehicleTaxFlow,
    start: str,
    event: FlowInput,
    step: str,
    commands: tuple[str, ...],
    fragment: str,
) -> None:
    transition = flow.step(at(flow, start), event)
    assert transition.state.step == step
    assert summary(transition.commands) == commands
    assert fragment in said(transition.commands)


def test_happy_path_walk(flow: VehicleTaxFlow) -> None:
    state, transitions = walk(
        flow,
        [
            text("Hola"),
            text("la placa es hho 137"),
            ONE,
            tap("pay:all:HHO137", "Pagar $ 954.688"),
            LINK,
            status(TransactionStatus.APPROVED),
        ],
    )
    assert state.step == "paid"
    steps = [t.state.step for t in transitions]
    assert steps == [
        "awaiting_plate",
        "looking_up",
        "choosing",
        "awaiting_link",
        "awaiting_payment",
        "paid",
    ]
    every = [c for t in transitions for c in t.commands]
    leads = [c.state for c in every if isinstance(c, ChangeLeadState)]
    assert leads == ["nuevo", "consulta_deuda", "deuda_encontrada", "link_enviado", "pagado"]
    [lookup] = [c for c in every if isinstance(c, LookUpDebt)]
    assert lookup == LookUpDebt("HHO137")
    [link] = [c for c in every if isinstance(c, RequestPaymentLink)]
    assert link.placa == "HHO137"
    assert [(i.declaracion, i.vigencia, i.amount) for i in link.items] == [
        (108818889, 2025, 954688)
    ]
    assert link.request_key == "HHO137-108818889"

    debt_text = content_of(transitions[2].commands[0])
    assert isinstance(debt_text, TextContent)
    for line in (
        "Vigencia 2025",
        "Impuesto: $ 737.000",
        "Sanción: $ 184.000",
        "Interés: $ 33.688",
        "Total: *$ 954.688*",
        "Fecha límite: 01/09/2025",
    ):
        assert line in debt_text.body
    buttons = content_of(transitions[2].commands[1])
    assert isinstance(buttons, ReplyButtonsContent)
    assert [(b.id, b.title) for b in buttons.buttons] == [
        ("pay:all:HHO137", "Pagar $ 954.688"),
        ("plate:other", "Otra placa"),
        ("agent", "Hablar con asesor"),
    ]
    cta = content_of(transitions[4].commands[0])
    assert isinstance(cta, CtaUrlContent)
    assert (cta.display_text, cta.url) == ("Pagar ahora", URL)
    assert "$ 954.688" in cta.body and "127-196629" in cta.body
    assert "¡Pago confirmado!" in said(transitions[5].commands)
    assert transitions[4].state.slots["transaction_id"] == "40037"
    assert transitions[4].state.slots["url"] == URL


def test_several_vigencias_are_shown_and_offered(flow: VehicleTaxFlow) -> None:
    transition = flow.step(at(flow, "looking_up"), TWO)
    body = body_of(transition.commands[0])
    assert body.index("Vigencia 2024") < body.index("Vigencia 2025")  # oldest first
    assert "Total a pagar: $ 1.754.688" in body
    buttons = content_of(transition.commands[1])
    assert isinstance(buttons, ReplyButtonsContent)
    assert [b.id for b in buttons.buttons] == [
        "pay:all:HHO137",
        "pay:2024:HHO137",
        "pay:2025:HHO137",
    ]
    debts = transition.state.slots["debts"]
    assert [(d["vigencia"], d["declaracion"], d["total"], d["fecha_lim"]) for d in debts] == [
        (2024, 1002, 800000, "2024-09-01"),
        (2025, 1001, 954688, "2025-09-01"),
    ]

    many = flow.step(at(flow, "looking_up"), MANY)
    menu = content_of(many.commands[1])
    assert isinstance(menu, ReplyButtonsContent)
    assert [b.title for b in menu.buttons] == ["Pagar todo", "Elegir vigencia", "Otra placa"]
    listed = flow.step(many.state, tap("pay:choose:HHO137"))
    rows = content_of(listed.commands[0])
    assert isinstance(rows, ListContent)
    assert [r.id for r in rows.sections[0].rows] == [f"pay:{y}:HHO137" for y in range(2021, 2025)]
    # "3" now means the third row of the list
    third = flow.step(listed.state, text("3"))
    assert summary(third.commands)[-1] == "RequestPaymentLink:HHO137-4023"


def test_no_debt_then_another_plate(flow: VehicleTaxFlow) -> None:
    state, transitions = walk(
        flow, [DebtNotFound("HHO137"), text("ABC123")], at(flow, "looking_up")
    )
    assert "No encontramos deudas" in said(transitions[0].commands)
    assert "HHO137" in said(transitions[0].commands)
    assert state.step == "looking_up"
    assert summary(transitions[1].commands)[1] == "LookUpDebt:ABC123"


def test_sci_unavailable_then_found(flow: VehicleTaxFlow) -> None:
    down = DebtLookupUnavailable("HHO137", "SCI timeout", True)
    state, transitions = walk(flow, [text("hola"), text("HHO137"), down, down, text("¿ya?"), ONE])
    every = [c for t in transitions for c in t.commands]
    assert sum(isinstance(c, LookUpDebt) for c in every) == 1
    assert "Seguimos intentando" in said(transitions[2].commands)
    assert transitions[3].commands == ()  # told once
    assert "Sigo consultando" in said(transitions[4].commands)
    assert state.step == "choosing"


def test_retries_never_change_the_request_key(flow: VehicleTaxFlow) -> None:
    _, transitions = walk(
        flow,
        [
            PaymentLinkUnavailable("caído", False),
            tap("retry:link:HHO137"),
            PaymentLinkUnavailable("caído", False),
            text("reintentar"),
            LINK,
            status(TransactionStatus.REJECTED),
            tap("retry:link:HHO137"),
        ],
        at(flow, "awaiting_link"),
    )
    keys = {
        c.request_key for t in transitions for c in t.commands if isinstance(c, RequestPaymentLink)
    }
    assert keys == {"HHO137-108818889"}
    assert sum(isinstance(c, RequestPaymentLink) for t in transitions for c in t.commands) == 3


def test_duplicate_approval_confirms_once(flow: VehicleTaxFlow) -> None:
    approved = status(TransactionStatus.APPROVED)
    _, transitions = walk(flow, [approved, approved, approved], at(flow, "awaiting_payment"))
    replies = [c for t in transitions for c in t.commands if isinstance(c, Reply)]
    assert len(replies) == 1


def test_approval_after_moving_on_is_still_confirmed(flow: VehicleTaxFlow) -> None:
    state, transitions = walk(
        flow,
        [text("menú"), text("ABC123"), status(TransactionStatus.APPROVED)],
        at(flow, "awaiting_payment"),
    )
    assert state.step == "looking_up"  # the new lookup goes on
    assert "¡Pago confirmado!" in said(transitions[2].commands)
    assert "HHO137" in said(transitions[2].commands)


@pytest.mark.parametrize(
    "word", ["menu", "menú", "MENU", "Inicio", "reiniciar", "Reiniciar!", "cancelar"]
)
@pytest.mark.parametrize(
    "start", ["awaiting_plate", "choosing_two", "looking_up", "awaiting_payment", "link_failed"]
)
def test_restart_keywords(flow: VehicleTaxFlow, start: str, word: str) -> None:
    transition = flow.step(at(flow, start), text(word))
    assert transition.state.step == "awaiting_plate"
    assert summary(transition.commands) == (T,)
    assert "Santander" in said(transition.commands)
    assert "placa" not in transition.state.slots


@pytest.mark.parametrize(
    "word", ["asesor", "ASESORA", "agente", "humano", "una persona", "Asésor por favor"]
)
@pytest.mark.parametrize(
    "start", ["start", "awaiting_plate", "choosing_one", "awaiting_link", "awaiting_payment"]
)
def test_handover_keywords(flow: VehicleTaxFlow, start: str, word: str) -> None:
    transition = flow.step(at(flow, start), text(word))
    assert transition.state.step == "handed_over"
    assert summary(transition.commands) == (T, "HandOver:solicitud_cliente", "Lead:asesor")
    assert "asesor" in said(transition.commands)


@pytest.mark.parametrize("kind", get_args(MediaKind))
@pytest.mark.parametrize(
    "start", ["awaiting_plate", "choosing_one", "awaiting_payment", "lookup_failed"]
)
def test_non_text_inputs_leave_the_state_alone(
    flow: VehicleTaxFlow, start: str, kind: MediaKind
) -> None:
    before = at(flow, start)
    transition = flow.step(before, MediaReceived(kind))
    assert transition.state == before
    assert summary(transition.commands) == (T,)
    assert getattr(flow.copy.media, kind) in said(transition.commands)


def test_every_media_kind_has_its_own_answer(flow: VehicleTaxFlow) -> None:
    answers = {getattr(flow.copy.media, kind) for kind in get_args(MediaKind)}
    assert len(answers) == len(get_args(MediaKind))
    assert "escuchar audios" in flow.copy.media.audio


@pytest.mark.parametrize(
    ("state", "why"),
    [
        (FlowState("choosing", {"debts": "not a list"}), "bad slots"),
        (FlowState("no_such_step", {}), "unknown step"),
        (FlowState("awaiting_payment", {"pending": [{"transaction_id": 1}]}), "bad pending"),
    ],
)
def test_unreadable_state_starts_over(flow: VehicleTaxFlow, state: FlowState, why: str) -> None:
    transition = flow.step(state, text("hola"))
    assert transition.state.step == "awaiting_plate", why
    assert "Santander" in said(transition.commands)


def test_expired_conversation_greets_again(flow: VehicleTaxFlow) -> None:
    """The service resets an idle conversation to ``initial``; the flow greets."""
    transition = flow.step(flow.initial, text("hola"))
    assert "Santander" in said(transition.commands)
    assert flow.initial == FlowState("start", {})


# ------------------------------------------------------------------ contract limits


def _check_contracts(commands: Iterable[Command]) -> None:
    for command in commands:
        if isinstance(command, Reply):
            CONTENT.validate_python(command.content.model_dump())
        if isinstance(command, RequestPaymentLink):
            PaymentLinkRequested(
                tenant_id="t1",
                correlation_id="c1",
                channel="whatsapp",
                contact_key="0" * 24,
                request_key=command.request_key,
                placa=command.placa,
                items=command.items,
                amount=sum(i.amount for i in command.items),
            )


def test_fifty_vigencias_fit_whatsapp_limits(flow: VehicleTaxFlow) -> None:
    debts = tuple(debt(year, 10_000_000 + year, 1_234_567_890 + year) for year in range(1990, 2040))
    state, transitions = walk(
        flow,
        [DebtFound("HHO137", debts), tap("pay:choose:HHO137"), text("1"), LINK],
        at(flow, "looking_up"),
    )
    for transition in transitions:
        _check_contracts(transition.commands)
    body = body_of(transitions[0].commands[0])
    assert len(body) <= 4096
    assert "1990" in body and "vigencias más" not in body  # 50 short lines still fit
    rows = content_of(transitions[1].commands[0])
    assert isinstance(rows, ListContent) and len(rows.sections[0].rows) == 10
    assert state.step == "awaiting_payment"


def test_pay_all_of_many_caps_at_twenty_items(flow: VehicleTaxFlow) -> None:
    debts = tuple(debt(year, 90_000 + year, 1000) for year in range(2000, 2025))
    _, transitions = walk(flow, [DebtFound("HHO137", debts), text("todo")], at(flow, "looking_up"))
    [request] = [c for c in transitions[1].commands if isinstance(c, RequestPaymentLink)]
    assert [i.vigencia for i in request.items] == list(range(2000, 2020))
    assert len(request.request_key) <= 128
    assert "hasta 20" in said(transitions[1].commands)
    _check_contracts(transitions[1].commands)


def test_huge_amount_falls_back_to_a_short_button(flow: VehicleTaxFlow) -> None:
    transition = flow.step(
        at(flow, "looking_up"), DebtFound("HHO137", (debt(total=12_345_678_901),))
    )
    buttons = content_of(transition.commands[1])
    assert isinstance(buttons, ReplyButtonsContent)
    assert buttons.buttons[0].title == "Pagar"


def test_long_texts_are_cut_not_rejected() -> None:
    copy_args: dict[str, Any] = {"choose_one": "x" * 3000, "link_ready": "y" * 4000 + "{total}"}
    from cauce_conversation.flows import VehicleTaxCopy

    flow = VehicleTaxFlow(VehicleTaxCopy(**copy_args))
    _, transitions = walk(flow, PATHS["awaiting_payment"])
    for transition in transitions:
        _check_contracts(transition.commands)


def test_command_helpers_cover_all_commands() -> None:
    """Guard for the table's summary(): every command type gets a label."""
    kinds: list[Callable[[], Command]] = [
        lambda: LookUpDebt("ABC123"),
        lambda: HandOver("x"),
        lambda: ChangeLeadState("nuevo"),
    ]
    assert all(summary([make()]) for make in kinds)
