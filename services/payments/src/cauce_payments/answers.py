"""What every answer copies from the request it answers.

Answers go back to the conversation that asked: same tenant, channel and contact (so
the same subject tokens), the request's correlation id, and the request as cause.
"""

from __future__ import annotations

import uuid
from typing import Any

from cauce_contracts.payments import DebtLookupRequested, PaymentLinkRequested


def answering(
    request: DebtLookupRequested | PaymentLinkRequested, event_id: uuid.UUID
) -> dict[str, Any]:
    """The envelope and addressing fields of an answer to ``request``."""
    return {
        "event_id": event_id,
        "tenant_id": request.tenant_id,
        "correlation_id": request.correlation_id,
        "causation_id": str(request.event_id),
        "channel": request.channel,
        "contact_key": request.contact_key,
        "request_id": request.event_id,
    }
