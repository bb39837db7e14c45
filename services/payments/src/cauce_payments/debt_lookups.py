"""Debt lookups: :class:`DebtLookupRequested` -> SCI's DeudaPlaca -> :class:`DebtLookedUp`
or :class:`DebtLookupFailed`, with an audit row per request.

A lookup only reads, so repeating it is harmless; answers carry event ids derived from
the request's, so a redelivered request's answer is deduplicated by JetStream.
"""

from __future__ import annotations

from cauce_contracts.envelope import stable_event_id
from cauce_contracts.payments import DebtLookedUp, DebtLookupFailed, DebtLookupRequested
from cauce_contracts.registry import subject_of
from cauce_payments.answers import answering
from cauce_payments.retrying import announce_retry, reason_for, retry_later, will_retry
from cauce_payments.sci_total import SciError, SciTotalClient
from cauce_payments.store import LookupStore
from cauce_runtime import Bus, Delivery

#: The contract's bound on debts per answer.
MAX_DEBTS = 50


class DebtLookups:
    def __init__(
        self,
        bus: Bus,
        sci: SciTotalClient,
        store: LookupStore,
        retry_delay_s: float | None = None,
    ) -> None:
        self.bus, self.sci, self.store = bus, sci, store
        self.retry_delay_s = retry_delay_s

    async def handle(self, request: DebtLookupRequested, delivery: Delivery) -> None:
        try:
            debts = await self.sci.debts(request.placa)
        except SciError as error:
            await self._failed(request, delivery, error)
            return
        # Most recent vigencias first cut when SCI lists more than the contract holds.
        debts = tuple(sorted(debts, key=lambda d: d.vigencia, reverse=True)[:MAX_DEBTS])
        debts = tuple(sorted(debts, key=lambda d: (d.vigencia, d.declaracion)))
        await self.store.record(request, "found" if debts else "none", debts=debts)
        answer = DebtLookedUp(
            **answering(
                request, stable_event_id("payments", str(request.event_id), "debt.looked_up")
            ),
            placa=request.placa,
            debts=debts,
        )
        await self.bus.publish(answer, subject_of(answer))

    async def _failed(
        self, request: DebtLookupRequested, delivery: Delivery, error: SciError
    ) -> None:
        retrying = will_retry(error, delivery)
        reason = reason_for(error)
        await self.store.record(
            request,
            "retrying" if retrying else "failed",
            failure_reason=f"{error.message} ({error.code})",
            provider_code=error.code,
        )
        if retrying and not announce_retry(delivery):
            raise retry_later(error, self.retry_delay_s)
        answer = DebtLookupFailed(
            **answering(
                request,
                stable_event_id(
                    "payments",
                    str(request.event_id),
                    "debt.lookup_failed" + (".retrying" if retrying else ""),
                ),
            ),
            placa=request.placa,
            reason=reason,
            retryable=error.retryable,
            will_retry=retrying,
        )
        await self.bus.publish(answer, subject_of(answer))
        if retrying:
            raise retry_later(error, self.retry_delay_s)
