"""The chaos ledger can fail: a step read twice is a duplicate, a step never read is a
loss, and a notice repeated is a duplicate too (so its "0" in CI means something)."""

from __future__ import annotations

from cauce_devstack.chaos.ledger import Tally, read
from cauce_devstack.demo.transcript import BotMessage

GREETING = BotMessage(1, "text", "Hola 👋 Escríbame la *placa* del vehículo, por ejemplo *ABC123*.")
OPTIONS = BotMessage(2, "buttons", "Deuda", options=(("pay:1", "Pagar $ 1"),))
LINK = BotMessage(3, "cta_url", "Su link", link=("Pagar ahora", "http://sci/pay/tx1"))
CONFIRMED = BotMessage(4, "text", "✅ Pago confirmado: $ 1")
SLOW = BotMessage(5, "text", "SCI no está respondiendo; le aviso")


def test_a_whole_journey_read_once_is_clean() -> None:
    tally = Tally("bot")
    read(tally, "573001230001", [GREETING, SLOW, OPTIONS, LINK, CONFIRMED])
    assert (tally.expected, tally.found, tally.duplicates, tally.losses) == (4, 4, 0, 0)


def test_a_repeated_step_or_notice_is_a_duplicate_and_a_missing_one_a_loss() -> None:
    tally = Tally("bot")
    read(tally, "573001230001", [GREETING, GREETING, SLOW, SLOW, OPTIONS, LINK])
    assert (tally.duplicates, tally.losses) == (2, 1)
    assert "missing: 0001 confirmation" in tally.notes
