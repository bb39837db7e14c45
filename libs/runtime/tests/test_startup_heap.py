"""Start-up objects are frozen out of the collector's sight; start-up garbage is not
(frozen garbage would never be freed)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from cauce_runtime import freeze_startup_heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only a collection frees it


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_kept_objects_leave_the_collectors_view_and_garbage_is_collected(
    unfrozen_afterwards: None,
) -> None:
    kept = [{"route": n} for n in range(1_000)]
    garbage = weakref.ref(Node())

    freeze_startup_heap()

    in_view = {id(o) for o in gc.get_objects()}
    assert not any(id(o) in in_view for o in kept)
    assert gc.get_freeze_count() >= len(kept)
    assert garbage() is None
