"""What Meta charges for a message it accepted, as status webhooks report it under
per-message pricing (since 2025-07-01): ``pricing: {billable, pricing_model: "PMP",
category, type}``.

Marketing and authentication templates are always charged (``regular``); a utility
template is free inside the customer-service window; a free-form message is free inside
it (``free_customer_service``); anything sent in a free entry point is free
(``free_entry_point``). A free-form message outside the window never happens on Meta
(131047): when the fake lets one through (``CAUCE_SANDBOX_SERVICE_WINDOW_ENFORCED`` off)
it has no Meta price to copy and reports no ``type``.
"""

from __future__ import annotations

from dataclasses import dataclass

REGULAR = "regular"
FREE_CUSTOMER_SERVICE = "free_customer_service"
FREE_ENTRY_POINT = "free_entry_point"


@dataclass(frozen=True)
class Price:
    category: str
    """``service`` for free-form messages, else the template's category (lower case)."""
    billable: bool
    type: str | None


def price(category: str, *, template: bool, window_open: bool, entry_point: bool) -> Price:
    """The price of one accepted message: ``category`` is the template's pricing category
    (ignored for a free-form message, which is ``service``)."""
    if not template:
        category = "service"
    if entry_point:
        return Price(category, False, FREE_ENTRY_POINT)
    if not template:
        return Price(category, False, FREE_CUSTOMER_SERVICE if window_open else None)
    if category == "utility" and window_open:
        return Price(category, False, FREE_CUSTOMER_SERVICE)
    return Price(category, True, REGULAR)
