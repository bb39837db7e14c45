"""Whatever arrives, in whatever order, the flow answers without raising and keeps
JSON-serialisable slots; every reply and request fits its contract."""

from __future__ import annotations

import json
from datetime import date
from typing import get_args

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from cauce_contracts.outbound import OutboundContent
from cauce_contracts.payments import PaymentItem, TransactionStatus, VehicleDebt
from cauce_conversation.flows import (
    ChoiceReceived,
    DebtFound,
    DebtLookupUnavailable,
    DebtNotFound,
    FlowInput,
    FlowState,
    LookUpDebt,
    MediaKind,
    MediaReceived,
    PaymentLinkReady,
    PaymentLinkUnavailable,
    PaymentStatusChanged,
    Reply,
    RequestPaymentLink,
    TextReceived,
    VehicleTaxFlow,
)
from cauce_conversation.flows.vehicle_tax import Step, is_plate

CONTENT = TypeAdapter(OutboundContent)
PLATES = ["HHO137", "HHO137", "HHO137", "ABC123", "XYZ12D"]
TX = ["40037", "40037", "40038", "x"]

texts = st.one_of(
    st.sampled_from(
        [
            "hola",
            "menú",
            "reiniciar",
            "asesor",
            "si",
            "no",
            "todo",
            "1",
            "2",
            "3",
            "9",
            "2024",
            "2023 y 2024",
            "gracias",
            "ya pagué",
            "reintentar",
            "hho 137",
            "mi placa es abc-123",
            "xyz12d",
            "AB1234",
            "",
            "   ",
            "otra placa",
            "🙂",
        ]
    ),
    st.text(max_size=40),
)
choice_ids = st.sampled_from(
    [
        "pay:all:HHO137", "pay:all:ABC123", "pay:2024:HHO137", "pay:2025:HHO137",
        "pay:choose:HHO137", "pay:1999", "plate:other", "agent", "retry:lookup:HHO137",
        "retry:link:HHO137", "retry:link:XYZ12D", "nonsense", "pay:all",
    ]
)  # fmt: skip


@st.composite
def debts(draw: st.DrawFn, placa: str) -> VehicleDebt:
    vigencia = draw(st.integers(2015, 2026))
    return VehicleDebt(
        placa=placa,
        declaracion=draw(st.integers(0, 10**10)),
        vigencia=vigencia,
        avaluo=0,
        impto=draw(st.integers(0, 10**9)),
        sancion=draw(st.integers(0, 10**8)),
        interes=draw(st.integers(0, 10**8)),
        saldo_pagar=0,
        total=draw(st.integers(0, 10**12)),
        fecha_lim=date(vigencia, 9, 1),
    )


@st.composite
def debt_found(draw: st.DrawFn) -> DebtFound:
    placa = draw(st.sampled_from(PLATES))
    return DebtFound(placa, tuple(draw(st.lists(debts(placa), max_size=14))))


statuses = st.builds(
    PaymentStatusChanged,
    st.sampled_from(TX),
    st.sampled_from([*TransactionStatus, TransactionStatus.APPROVED, TransactionStatus.REJECTED]),
    st.none() | st.integers(0, 10**9),
)
inputs: st.SearchStrategy[FlowInput] = st.one_of(
    statuses,
    texts.map(TextReceived),
    st.builds(ChoiceReceived, choice_ids, texts),
    st.sampled_from(get_args(MediaKind)).map(MediaReceived),
    debt_found(),
    st.sampled_from(PLATES).map(DebtNotFound),
    st.builds(DebtLookupUnavailable, st.sampled_from(PLATES), st.just("down"), st.booleans()),
    st.builds(
        PaymentLinkReady,
        st.sampled_from(
            ["https://pay.example/t/1", "http://x", "not a url", "https://a.co/" + "z" * 30]
        ),
        st.integers(0, 10**10),
        st.sampled_from(TX),
        st.sampled_from(["127-196629", "r" * 300]),
    ),
    st.builds(PaymentLinkUnavailable, st.just("down"), st.booleans()),
    st.builds(
        PaymentStatusChanged,
        st.sampled_from(TX),
        st.sampled_from(
            [*TransactionStatus, TransactionStatus.APPROVED, TransactionStatus.REJECTED]
        ),
        st.none() | st.integers(0, 10**9),
    ),
)


def _debt(vigencia: int, declaracion: int) -> VehicleDebt:
    return VehicleDebt(
        placa="HHO137",
        declaracion=declaracion,
        vigencia=vigencia,
        avaluo=0,
        impto=1,
        sancion=0,
        interes=0,
        saldo_pagar=1,
        total=954688,
        fecha_lim=date(vigencia, 9, 1),
    )


_LOOKING_UP: list[FlowInput] = [TextReceived("hola"), TextReceived("HHO137")]
_CHOOSING: list[FlowInput] = [
    *_LOOKING_UP,
    DebtFound("HHO137", tuple(_debt(y, 100 + y) for y in (2023, 2024, 2025))),
]
_AWAITING_LINK: list[FlowInput] = [*_CHOOSING, ChoiceReceived("pay:all:HHO137", "Pagar todo")]
_AWAITING_PAYMENT: list[FlowInput] = [
    *_AWAITING_LINK,
    PaymentLinkReady("https://pay.example/t/1", 2863064, "40037", "127-1"),
]
#: Where the random inputs start: deep states are rarely reached at random.
PREFIXES = [
    [],
    _LOOKING_UP,
    [*_LOOKING_UP, DebtLookupUnavailable("HHO137", "down", False)],
    _CHOOSING,
    _AWAITING_LINK,
    [*_AWAITING_LINK, PaymentLinkUnavailable("down", False)],
    _AWAITING_PAYMENT,
    [*_AWAITING_PAYMENT, PaymentStatusChanged("40037", TransactionStatus.REJECTED)],
    [*_AWAITING_PAYMENT, PaymentStatusChanged("40037", TransactionStatus.APPROVED)],
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PREFIXES), st.lists(inputs, max_size=20))
def test_any_sequence_is_safe(prefix: list[FlowInput], tail: list[FlowInput]) -> None:
    flow = VehicleTaxFlow()
    state = flow.initial
    events = [*prefix, *tail]
    keys: dict[tuple[str, frozenset[int]], str] = {}
    for event in events:
        transition = flow.step(state, event)
        state = transition.state
        assert isinstance(state, FlowState)
        assert state.step in {s.value for s in Step}
        json.dumps(state.slots)  # the service stores the slots as they are
        assert flow.step(FlowState(state.step, json.loads(json.dumps(state.slots))), event)
        for command in transition.commands:
            if isinstance(command, Reply):
                CONTENT.validate_python(command.content.model_dump())
            elif isinstance(command, LookUpDebt):
                assert is_plate(command.placa)
            elif isinstance(command, RequestPaymentLink):
                assert 1 <= len(command.items) <= 20
                assert all(isinstance(i, PaymentItem) and i.amount > 0 for i in command.items)
                assert len(command.request_key) <= 128
                what = (command.placa, frozenset(i.declaracion for i in command.items))
                # the same debt always gets the same key
                assert keys.setdefault(what, command.request_key) == command.request_key
