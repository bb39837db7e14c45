"""The outbox's long poll: entries after a seq, waiting for one when there is none."""

from __future__ import annotations

import asyncio
import gc

from cauce_devstack.sandbox.outbox import Outbox


def message(to: str) -> dict[str, object]:
    return {
        "kind": "message",
        "phone_number_id": "100",
        "to": to,
        "type": "text",
        "message_id": "wamid.x",
        "payload": {},
    }


async def test_after_seq_leaves_out_what_the_caller_has_seen() -> None:
    outbox = Outbox()
    first = outbox.record(**message("573001"))
    outbox.record(**message("573002"))
    third = outbox.record(**message("573001"))

    assert [e.seq for e in outbox.list(to="573001")] == [first.seq, third.seq]
    assert [e.seq for e in outbox.list(to="573001", after_seq=first.seq)] == [third.seq]
    assert outbox.list(after_seq=third.seq) == []


async def test_a_waiter_is_woken_by_the_matching_entry_and_not_by_others() -> None:
    outbox = Outbox()
    waiting = asyncio.create_task(outbox.wait(5.0, to="573001"))
    await asyncio.sleep(0.05)
    outbox.record(**message("573999"))  # someone else's: the waiter keeps waiting
    await asyncio.sleep(0.05)
    assert not waiting.done()
    mine = outbox.record(**message("573001"))

    found = await asyncio.wait_for(waiting, 1.0)
    assert [e.seq for e in found] == [mine.seq]


async def test_waiting_ends_empty_when_nothing_arrives() -> None:
    assert await Outbox().wait(0.05, to="573001") == []


def test_entries_round_trip_through_storage() -> None:
    outbox = Outbox()
    payload = {"to": "+57 300 1", "text": {"body": "hola"}, "n": [1, 2.5, None, True]}
    recorded = outbox.record(**{**message("+57 300 1"), "payload": payload, "error": {"x": 1}})

    [listed] = outbox.list(to="573001")
    assert listed == recorded
    assert listed.payload == payload


def test_kept_entries_are_out_of_the_garbage_collectors_sight() -> None:
    """Thousands of kept requests must not lengthen the fake's full collections (each
    one pauses its event loop and bunches the requests that queue meanwhile)."""
    outbox = Outbox()
    gc.collect()
    tracked_before = len(gc.get_objects())
    for n in range(5_000):
        outbox.record(**{**message(f"57300{n}"), "payload": {"text": {"body": f"m {n}"}}})
    gc.collect()

    assert len(gc.get_objects()) - tracked_before < 100
    assert len(outbox.list()) == 5_000
