"""The vehicle-tax assistant (Santander, SCI TOTAL) as a pure state machine.

The conversation goes: greeting -> plate -> debt lookup -> debt per vigencia ->
choice -> payment link (CTA "Pagar ahora") -> payment confirmation. See
:mod:`~cauce_conversation.flows.vehicle_tax.steps` for the steps,
:mod:`~cauce_conversation.flows.vehicle_tax.leads` for the lead states reported and
:mod:`~cauce_conversation.flows.vehicle_tax.choices` for the button ids.

Decisions where the issue is silent:

- *Keywords win over the step*: "asesor" (and friends) hands over from any step;
  "menú"/"reiniciar"/"inicio" start over from any step, also while we wait for
  payments (the late answer is then ignored). A plain greeting ("hola") starts over
  only when we are not waiting; while waiting it gets "sigo consultando".
- *A plate wins over the step*: a plate written in any step but the waiting ones
  starts a new lookup ("mi placa es hho137" included).
- *While waiting* (``looking_up``, ``awaiting_link``) texts, buttons and media get a
  "sigo consultando" answer and never a second command.
- *Stale inputs never move the conversation*: an answer from payments that does not
  fit the step (or names another plate) is ignored silently; a button from an older
  message gets "Ese botón es de un mensaje anterior" and a hint; a button offering a
  vigencia no longer owed gets the current options again. Payment statuses are
  matched by transaction id against the links we sent (``pending`` slot, kept across
  restarts): an approval is confirmed exactly once, whatever the step; a rejection
  only matters for the link the customer is looking at; unknown transactions are
  ignored.
- *Handed over*: the flow stays silent; it still records an approved payment
  (``ChangeLeadState("pagado")``, no reply). The service resets the conversation to
  ``initial`` when the agent releases it.
- *Failures never create a second transaction*: "Reintentar" re-issues the same
  ``LookUpDebt`` or the ``RequestPaymentLink`` with the very same ``request_key``.
- Debts with a zero total are not offered for payment; if nothing is owed, it is
  "no encontramos deudas". A link pays at most 20 declaraciones (the contract's cap),
  oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cauce_contracts.outbound import OutboundContent
from cauce_contracts.payments import TransactionStatus
from cauce_conversation.flows.vehicle_tax import choices, keywords, replies
from cauce_conversation.flows.vehicle_tax.choices import Choice, parse_choice
from cauce_conversation.flows.vehicle_tax.copy import VehicleTaxCopy
from cauce_conversation.flows.vehicle_tax.leads import LeadState
from cauce_conversation.flows.vehicle_tax.links import (
    MAX_ITEMS_PER_LINK,
    payment_items,
    request_key,
)
from cauce_conversation.flows.vehicle_tax.money import format_pesos
from cauce_conversation.flows.vehicle_tax.plates import find_plate
from cauce_conversation.flows.vehicle_tax.slots import DebtSlot, PendingPayment, Slots
from cauce_conversation.flows.vehicle_tax.steps import WAITING_STEPS, Step
from cauce_conversation.flows.vocabulary import (
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
)

#: ``HandOver.reason`` when the customer asks for a person.
HANDOVER_REASON = "solicitud_cliente"

_FAILED_STEPS = frozenset({Step.LOOKUP_FAILED, Step.LINK_FAILED, Step.PAYMENT_FAILED})
_PAYMENT_FAILURES = frozenset(
    {TransactionStatus.REJECTED, TransactionStatus.FAILED, TransactionStatus.EXPIRED}
)


@dataclass
class _Turn:
    """One step in the making: the working slots and the commands decided so far."""

    step: Step
    slots: Slots
    commands: list[Command] = field(default_factory=list)

    def say(self, body: str) -> None:
        self.commands.append(Reply(replies.text(body)))

    def send(self, content: OutboundContent) -> None:
        self.commands.append(Reply(content))

    def do(self, command: Command) -> None:
        self.commands.append(command)

    def lead(self, state: LeadState) -> None:
        """Report the lead state, once per change."""
        if self.slots.lead != state.value:
            self.slots.lead = state.value
            self.commands.append(ChangeLeadState(state.value))

    def go(self, step: Step | None = None) -> Transition:
        target = self.step if step is None else step
        return Transition(FlowState(target.value, self.slots.dump()), tuple(self.commands))


class VehicleTaxFlow:
    """The Spanish (es-CO) vehicle-tax assistant; texts come from ``copy``."""

    name = "vehicle_tax"

    def __init__(self, copy: VehicleTaxCopy | None = None) -> None:
        self.copy = copy if copy is not None else VehicleTaxCopy()

    @property
    def initial(self) -> FlowState:
        return FlowState(Step.START.value, {})

    def restart(self, state: FlowState) -> FlowState:
        """Back to the greeting, keeping the lead state and the links still awaiting
        payment (a payment confirmed after an idle expiry or a release is still told)."""
        slots = Slots.load(state.slots)
        return FlowState(Step.START.value, slots.carried().dump() if slots else {})

    def step(self, state: FlowState, event: FlowInput) -> Transition:
        slots = Slots.load(state.slots)
        try:
            step = Step(state.step)
        except ValueError:
            step = Step.START
        if slots is None:  # unreadable slots: start over rather than fail every turn
            step, slots = Step.START, Slots()
        turn = _Turn(step, slots)
        if step is Step.HANDED_OVER:
            return self._while_handed_over(turn, event)
        if isinstance(event, TextReceived):
            return self._on_text(turn, event.text)
        if isinstance(event, ChoiceReceived):
            return self._on_choice(turn, event)
        if isinstance(event, MediaReceived):
            return self._on_media(turn, event.kind)
        if isinstance(event, DebtFound | DebtNotFound | DebtLookupUnavailable):
            return self._on_lookup_answer(turn, event)
        if isinstance(event, PaymentLinkReady | PaymentLinkUnavailable):
            return self._on_link_answer(turn, event)
        if isinstance(event, PaymentStatusChanged):
            return self._on_payment_status(turn, event)
        return turn.go()

    # ----------------------------------------------------------------- customer input

    def _on_text(self, t: _Turn, body: str) -> Transition:
        words = keywords.normalize(body)
        if keywords.wants_agent(words):
            return self._hand_over(t)
        if keywords.wants_restart(words):
            return self._restart(t)
        if t.step is Step.START:
            return self._greet(t, find_plate(body))
        if t.step in WAITING_STEPS:
            return self._still_waiting(t)
        plate = find_plate(body)
        if plate is not None:
            return self._look_up(t, plate)
        if keywords.is_greeting(words):
            return self._restart(t)
        if t.step is Step.CHOOSING:
            return self._choose_by_text(t, body, words)
        if t.step is Step.AWAITING_PAYMENT:
            if keywords.says_paid(words) or keywords.is_thanks(words):
                t.say(self.copy.payment_check)
            else:
                self._send_payment_link(t, self.copy.payment_reminder)
            return t.go()
        if t.step in _FAILED_STEPS:
            if keywords.wants_retry(words):
                return self._retry(t)
            if keywords.wants_other_plate(words):
                return self._ask_plate(t)
            t.say(self.copy.hint_retry)
            return t.go()
        # awaiting_plate, paid
        t.say(self.copy.welcome if keywords.is_thanks(words) else self.copy.plate_hint)
        return t.go()

    def _on_choice(self, t: _Turn, event: ChoiceReceived) -> Transition:
        choice = parse_choice(event.id)
        if choice is None:  # not one of ours (a template's quick reply): read its title
            return self._on_text(t, event.title)
        if choice.kind == "agent":
            return self._hand_over(t)
        if t.step is Step.START:
            return self._greet(t, None)
        if t.step in WAITING_STEPS:
            return self._still_waiting(t)
        if choice.kind == "plate_other":
            return self._ask_plate(t)
        if choice.placa is not None and choice.placa != t.slots.placa:
            return self._stale(t)
        if t.step is Step.CHOOSING and choice.kind.startswith("pay"):
            return self._apply_choice(t, choice)
        if choice.kind == "retry_lookup" and t.step is Step.LOOKUP_FAILED:
            return self._retry(t)
        if choice.kind == "retry_link" and t.step in (Step.LINK_FAILED, Step.PAYMENT_FAILED):
            return self._retry(t)
        return self._stale(t)

    def _on_media(self, t: _Turn, kind: MediaKind) -> Transition:
        note = getattr(self.copy.media, kind, self.copy.media.other)
        if t.step is Step.START:
            t.say(note)
            return self._greet(t, None)
        t.say(f"{note} {self._hint(t.step)}")
        return t.go()

    # ----------------------------------------------------------------- payments' answers

    def _on_lookup_answer(
        self, t: _Turn, event: DebtFound | DebtNotFound | DebtLookupUnavailable
    ) -> Transition:
        if t.step not in (Step.LOOKING_UP, Step.LOOKUP_FAILED) or event.placa != t.slots.placa:
            return t.go()  # an answer to a lookup the customer has moved on from
        placa = event.placa
        if isinstance(event, DebtLookupUnavailable):
            if t.step is not Step.LOOKING_UP:
                return t.go()
            if event.will_retry:
                if not t.slots.delayed:
                    t.slots.delayed = True
                    t.say(self.copy.lookup_delayed.format(placa=placa))
                return t.go()
            t.send(
                replies.retry_offer(
                    self.copy,
                    self.copy.lookup_failed.format(placa=placa),
                    choices.retry_lookup(placa),
                    self.copy.button_retry,
                )
            )
            t.slots = t.slots.carried(placa=placa)
            return t.go(Step.LOOKUP_FAILED)
        debts = (
            sorted(
                (DebtSlot.of(d) for d in event.debts if d.total > 0),
                key=lambda d: (d.vigencia, d.declaracion),
            )
            if isinstance(event, DebtFound)
            else []
        )
        if not debts:
            t.slots = t.slots.carried()
            t.say(self.copy.debt_not_found.format(placa=placa))
            t.lead(LeadState.SIN_DEUDA)
            return t.go(Step.AWAITING_PLATE)
        t.slots = t.slots.carried(placa=placa, debts=debts)
        t.send(replies.debt_summary(self.copy, placa, debts))
        content, options = replies.debt_choices(self.copy, placa, debts)
        t.send(content)
        t.slots.options = options
        t.lead(LeadState.DEUDA_ENCONTRADA)
        return t.go(Step.CHOOSING)

    def _on_link_answer(
        self, t: _Turn, event: PaymentLinkReady | PaymentLinkUnavailable
    ) -> Transition:
        if t.step not in (Step.AWAITING_LINK, Step.LINK_FAILED):
            return t.go()  # a duplicate, or a link the customer has moved on from
        if isinstance(event, PaymentLinkUnavailable):
            if t.step is not Step.AWAITING_LINK:
                return t.go()
            if event.will_retry:
                if not t.slots.delayed:
                    t.slots.delayed = True
                    t.say(self.copy.link_delayed)
                return t.go()
            return self._link_failed(t)
        if not replies.is_web_url(event.url):
            return self._link_failed(t)
        placa = t.slots.placa or ""
        t.slots = t.slots.carried(
            placa=t.slots.placa,
            debts=t.slots.debts,
            items=t.slots.items,
            request_key=t.slots.request_key,
            transaction_id=event.transaction_id,
            url=event.url,
            amount=event.amount,
            reference=event.payment_reference,
        )
        t.slots.watch(
            PendingPayment(
                transaction_id=event.transaction_id,
                placa=placa,
                amount=event.amount,
                reference=event.payment_reference,
            )
        )
        self._send_payment_link(t, self.copy.link_ready)
        t.lead(LeadState.LINK_ENVIADO)
        return t.go(Step.AWAITING_PAYMENT)

    def _on_payment_status(self, t: _Turn, event: PaymentStatusChanged) -> Transition:
        pending = t.slots.pending_payment(event.transaction_id)
        if pending is None:
            return t.go()  # not a link of ours, or already confirmed
        current = t.slots.transaction_id == event.transaction_id and t.step in (
            Step.AWAITING_PAYMENT,
            Step.PAYMENT_FAILED,
        )
        fields = {
            "total": format_pesos(event.amount if event.amount is not None else pending.amount),
            "placa": pending.placa,
            "reference": pending.reference,
        }
        if event.status is TransactionStatus.APPROVED:
            t.slots.forget(event.transaction_id)
            t.say(self.copy.payment_confirmed.format(**fields))
            if current:
                t.slots = t.slots.carried()
            t.lead(LeadState.PAGADO)
            return t.go(Step.PAID if current else None)
        if event.status in _PAYMENT_FAILURES and current and t.step is Step.AWAITING_PAYMENT:
            template = (
                self.copy.payment_expired
                if event.status is TransactionStatus.EXPIRED
                else self.copy.payment_rejected
            )
            t.send(
                replies.retry_offer(
                    self.copy,
                    template.format(**fields),
                    choices.retry_link(pending.placa),
                    self.copy.button_retry_payment,
                )
            )
            t.lead(LeadState.PAGO_FALLIDO)
            return t.go(Step.PAYMENT_FAILED)
        return t.go()

    def _while_handed_over(self, t: _Turn, event: FlowInput) -> Transition:
        """A human has the conversation: say nothing, but record a confirmed payment."""
        if (
            isinstance(event, PaymentStatusChanged)
            and event.status is TransactionStatus.APPROVED
            and t.slots.pending_payment(event.transaction_id) is not None
        ):
            t.slots.forget(event.transaction_id)
            t.lead(LeadState.PAGADO)
        return t.go()

    # ----------------------------------------------------------------- moves

    def _greet(self, t: _Turn, plate: str | None) -> Transition:
        t.lead(LeadState.NUEVO)
        if plate is not None:
            return self._look_up(t, plate, greeting=True)
        t.slots = t.slots.carried()
        t.say(self.copy.greeting)
        return t.go(Step.AWAITING_PLATE)

    def _restart(self, t: _Turn) -> Transition:
        t.slots = t.slots.carried()
        t.say(self.copy.greeting)
        return t.go(Step.AWAITING_PLATE)

    def _ask_plate(self, t: _Turn) -> Transition:
        t.slots = t.slots.carried()
        t.say(self.copy.ask_plate)
        return t.go(Step.AWAITING_PLATE)

    def _hand_over(self, t: _Turn) -> Transition:
        t.say(self.copy.handover)
        t.do(HandOver(HANDOVER_REASON))
        t.slots.options = []
        t.lead(LeadState.ASESOR)
        return t.go(Step.HANDED_OVER)

    def _still_waiting(self, t: _Turn) -> Transition:
        t.say(self._hint(t.step))
        return t.go()

    def _stale(self, t: _Turn) -> Transition:
        t.say(f"{self.copy.stale_choice} {self._hint(t.step)}")
        return t.go()

    def _look_up(self, t: _Turn, plate: str, *, greeting: bool = False) -> Transition:
        t.slots = t.slots.carried(placa=plate)
        template = self.copy.greeting_lookup if greeting else self.copy.looking_up
        t.say(template.format(placa=plate))
        t.do(LookUpDebt(plate))
        t.lead(LeadState.CONSULTA_DEUDA)
        return t.go(Step.LOOKING_UP)

    def _choose_by_text(self, t: _Turn, body: str, words: tuple[str, ...]) -> Transition:
        debts = t.slots.debts
        owed = {d.vigencia for d in debts}
        written = keywords.years(body)
        chosen = [year for year in written if year in owed]
        if chosen:
            return self._pay(t, [d for d in debts if d.vigencia in chosen])
        if written:
            return self._offer_again(t, self.copy.option_unavailable)
        number = keywords.option_number(words)
        if number is not None and 1 <= number <= len(t.slots.options):
            choice = parse_choice(t.slots.options[number - 1])
            if choice is not None:
                return self._apply_choice(t, choice)
        if keywords.wants_all(words) or keywords.is_affirmative(words):
            return self._pay(t, debts)
        if keywords.wants_other_plate(words):
            return self._ask_plate(t)
        return self._offer_again(t, self.copy.choice_unclear)

    def _apply_choice(self, t: _Turn, choice: Choice) -> Transition:
        debts = t.slots.debts
        placa = t.slots.placa or ""
        if choice.kind == "pay_all":
            return self._pay(t, debts)
        if choice.kind == "pay_choose":
            content, options = replies.vigencia_list(self.copy, placa, debts)
            t.send(content)
            t.slots.options = options
            return t.go()
        if choice.kind == "pay_vigencia":
            chosen = [d for d in debts if d.vigencia == choice.vigencia]
            if chosen:
                return self._pay(t, chosen)
            return self._offer_again(t, self.copy.option_unavailable)
        if choice.kind == "plate_other":
            return self._ask_plate(t)
        if choice.kind == "agent":
            return self._hand_over(t)
        return self._stale(t)

    def _offer_again(self, t: _Turn, body: str) -> Transition:
        """Show the current options again (buttons, or the list if that was shown)."""
        placa = t.slots.placa or ""
        listed = bool(t.slots.options) and choices.pay_all(placa) not in t.slots.options
        build = replies.vigencia_list if listed else replies.debt_choices
        content, options = build(self.copy, placa, t.slots.debts, body)
        t.send(content)
        t.slots.options = options
        return t.go()

    def _pay(self, t: _Turn, chosen: Sequence[DebtSlot]) -> Transition:
        placa = t.slots.placa
        items = payment_items(chosen)
        if placa is None or not items:
            return self._ask_plate(t)
        key = request_key(placa, items)
        t.slots = t.slots.carried(
            placa=placa, debts=t.slots.debts, items=list(items), request_key=key
        )
        total = format_pesos(sum(item.amount for item in items))
        t.say(self.copy.generating_link.format(placa=placa, total=total))
        payable = len({d.declaracion for d in chosen if d.total > 0})
        if payable > MAX_ITEMS_PER_LINK:
            t.say(self.copy.items_capped.format(count=MAX_ITEMS_PER_LINK))
        t.do(RequestPaymentLink(placa, items, key))
        return t.go(Step.AWAITING_LINK)

    def _retry(self, t: _Turn) -> Transition:
        """Ask again exactly what failed: same plate, or same items and request key."""
        placa = t.slots.placa
        if placa is None:
            return self._ask_plate(t)
        if t.step is Step.LOOKUP_FAILED:
            return self._look_up(t, placa)
        if not t.slots.items or t.slots.request_key is None:
            return self._look_up(t, placa)
        items = tuple(t.slots.items)
        total = format_pesos(sum(item.amount for item in items))
        t.slots = t.slots.carried(
            placa=placa, debts=t.slots.debts, items=list(items), request_key=t.slots.request_key
        )
        t.say(self.copy.generating_link.format(placa=placa, total=total))
        t.do(RequestPaymentLink(placa, items, t.slots.request_key or ""))
        return t.go(Step.AWAITING_LINK)

    def _link_failed(self, t: _Turn) -> Transition:
        placa = t.slots.placa or ""
        t.slots.delayed = False
        t.send(
            replies.retry_offer(
                self.copy, self.copy.link_failed, choices.retry_link(placa), self.copy.button_retry
            )
        )
        return t.go(Step.LINK_FAILED)

    def _send_payment_link(self, t: _Turn, template: str) -> None:
        s = t.slots
        body = template.format(
            total=format_pesos(s.amount or 0), placa=s.placa or "", reference=s.reference or ""
        )
        if s.url is None or not replies.is_web_url(s.url):
            t.say(body)
            return
        t.send(replies.payment_link(body, self.copy.cta_display_text, s.url))

    def _hint(self, step: Step) -> str:
        copy = self.copy
        if step is Step.LOOKING_UP:
            return copy.still_looking_up
        if step is Step.AWAITING_LINK:
            return copy.still_generating
        if step is Step.CHOOSING:
            return copy.hint_choice
        if step is Step.AWAITING_PAYMENT:
            return copy.hint_payment
        if step in _FAILED_STEPS:
            return copy.hint_retry
        return copy.hint_plate
