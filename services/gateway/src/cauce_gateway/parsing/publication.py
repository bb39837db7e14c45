"""What the gateway hands to the bus: an event, its subject and its dedupe key
(:class:`cauce_runtime.Publication`).

The gateway always sets ``msg_id``: it is derived from the provider's own ids, so a
redelivered webhook produces the same key and JetStream drops the copy.
"""

from __future__ import annotations

from cauce_runtime import Publication

__all__ = ["Publication"]
