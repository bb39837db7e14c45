"""Lead states the vehicle-tax flow reports (``ChangeLeadState``), in Spanish snake_case.

The flow reports a state only when it changes (it remembers the last one in the
``lead`` slot), so crm-sync sees each move once:

``nuevo``
    The conversation started (first greeting, also after an idle expiry reset).
``consulta_deuda``
    The customer gave a plate and we are looking its debt up.
``deuda_encontrada``
    We showed a debt; the customer is choosing what to pay.
``sin_deuda``
    SCI has no debt for the plate.
``link_enviado``
    We sent a payment link.
``pago_fallido``
    SCI reported the payment rejected, failed or expired.
``pagado``
    SCI confirmed the payment.
``asesor``
    The customer asked for a human; the conversation is handed over.
"""

from __future__ import annotations

from enum import StrEnum


class LeadState(StrEnum):
    NUEVO = "nuevo"
    CONSULTA_DEUDA = "consulta_deuda"
    DEUDA_ENCONTRADA = "deuda_encontrada"
    SIN_DEUDA = "sin_deuda"
    LINK_ENVIADO = "link_enviado"
    PAGO_FALLIDO = "pago_fallido"
    PAGADO = "pagado"
    ASESOR = "asesor"
