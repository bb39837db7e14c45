"""Customers' marketing-message preferences on the Graph fake: a customer who stopped
marketing messages from a business number (WhatsApp's "Offers and announcements"
setting) gets none from it until they resume. Meta still accepts the send and then
reports it ``failed`` with 131050, so the fake does the same."""

from __future__ import annotations

from cauce_devstack.sandbox.meta.service_window import wa_id_of


class MarketingPreferences:
    """Who stopped marketing messages from which business number."""

    def __init__(self) -> None:
        self._stopped: set[tuple[str, str]] = set()

    def set(self, phone_number_id: str, wa_id: str, preference: str) -> None:
        key = (phone_number_id, wa_id_of(wa_id))
        if preference == "stop":
            self._stopped.add(key)
        else:
            self._stopped.discard(key)

    def stopped(self, phone_number_id: str, wa_id: str) -> bool:
        return (phone_number_id, wa_id_of(wa_id)) in self._stopped
