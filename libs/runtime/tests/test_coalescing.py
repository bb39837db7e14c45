"""The coalescer: calls made while a round is in flight go together in the next one,
each gets its own outcome, a failing round fails only its own calls."""

from __future__ import annotations

import asyncio

import pytest

from cauce_runtime import Coalescer


class Doubler:
    """A round trip that doubles each argument, recording the rounds it served."""

    def __init__(self) -> None:
        self.rounds: list[tuple[str, list[int]]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def serve(self, key: str, arguments: list[int]) -> list[int | BaseException]:
        self.rounds.append((key, arguments))
        await self.release.wait()
        return [ValueError(f"odd {a}") if a % 2 else a * 2 for a in arguments]


async def test_a_lone_call_is_one_round_and_calls_meanwhile_share_the_next() -> None:
    doubler = Doubler()
    coalescer: Coalescer[str, int, int] = Coalescer(doubler.serve)
    assert await coalescer.submit("k", 2) == 4
    assert doubler.rounds == [("k", [2])]

    doubler.release.clear()
    first = asyncio.create_task(coalescer.submit("k", 10))
    await asyncio.sleep(0)  # its round is in flight
    later = [asyncio.create_task(coalescer.submit("k", n)) for n in (20, 30, 40)]
    other_key = asyncio.create_task(coalescer.submit("j", 50))
    await asyncio.sleep(0)
    doubler.release.set()

    assert await asyncio.gather(first, *later, other_key) == [20, 40, 60, 80, 100]
    assert doubler.rounds[1:] == [("k", [10]), ("j", [50]), ("k", [20, 30, 40])]


async def test_each_call_gets_its_own_outcome_and_a_failed_round_fails_only_its_calls() -> None:
    doubler = Doubler()
    coalescer: Coalescer[str, int, int] = Coalescer(doubler.serve)

    outcomes = await asyncio.gather(
        *(coalescer.submit("k", n) for n in (2, 3, 4)), return_exceptions=True
    )
    assert outcomes[0] == 4 and outcomes[2] == 8
    assert isinstance(outcomes[1], ValueError)

    async def broken(key: str, arguments: list[int]) -> list[int | BaseException]:
        raise RuntimeError("database gone")

    failing: Coalescer[str, int, int] = Coalescer(broken)
    with pytest.raises(RuntimeError, match="database gone"):
        await failing.submit("k", 1)
    with pytest.raises(RuntimeError):  # not stuck: the next call has its own round
        await failing.submit("k", 2)


async def test_a_caller_that_gave_up_is_left_out_of_the_next_round() -> None:
    doubler = Doubler()
    coalescer: Coalescer[str, int, int] = Coalescer(doubler.serve)
    doubler.release.clear()
    first = asyncio.create_task(coalescer.submit("k", 2))
    await asyncio.sleep(0)
    gone = asyncio.create_task(coalescer.submit("k", 4))
    kept = asyncio.create_task(coalescer.submit("k", 6))
    await asyncio.sleep(0)
    gone.cancel()
    doubler.release.set()

    assert await first == 4 and await kept == 12
    assert doubler.rounds[-1] == ("k", [6])
