"""Recipients' phone numbers read a batch at a time on another core.

libphonenumber's parse is pure Python (about 13 µs a number here), and a 100,000-row
upload would spend more than a second of its one core in it, under the GIL with
everything else the upload does. :class:`PhoneBatches` reads each batch in a worker
process instead, while the replica builds and copies the previous batch's rows. One
worker per replica, started on the first upload and kept (a spawned interpreter takes
a while to start); with one core there is nothing to gain, so it is off unless
``CAUCE_CAMPAIGN_PHONE_WORKER=true``.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from cauce_notifier.campaigns.phones import InvalidPhone, normalized

#: A number read: ``(e164, region)``, or why it is not a valid number.
PhoneResult = tuple[str, str | None] | str


def read_phones(raws: Sequence[str], default_region: str) -> list[PhoneResult]:
    """Each of ``raws`` as :func:`~cauce_notifier.campaigns.phones.normalized` reads
    it, or the reason it is invalid (the worker's entry point: module level, picklable)."""
    results: list[PhoneResult] = []
    for raw in raws:
        try:
            results.append(normalized(raw, default_region))
        except InvalidPhone as exc:
            results.append(str(exc))
    return results


class PhoneBatches:
    """Reads batches of numbers in one worker process (thread-safe: uploads share it)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def read(self, raws: Sequence[str], default_region: str) -> Future[list[PhoneResult]]:
        """Start :func:`read_phones` in the worker; its future's ``result()`` blocks the
        calling thread (the CSV reader's is a worker thread)."""
        return self._worker().submit(read_phones, list(raws), default_region)

    def _worker(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the replica has threads (asyncio's, the exporters')
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
            return self._pool

    def close(self) -> None:
        """Stop the worker (a later :meth:`read` starts another)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
