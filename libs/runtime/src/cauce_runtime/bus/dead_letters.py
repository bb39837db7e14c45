"""``python -m cauce_runtime.bus.dead_letters``: list, show and replay dead letters.

A consumer that gives up on a message (a permanent error, retries run out) terminates
it and keeps a copy, with the reason, in the ``DLQ`` stream: a ``dlq.dead_lettered``
event carrying the original subject, headers and bytes
(:mod:`cauce_runtime.bus._consumers`). Once the cause is fixed, a replay publishes the
original again, bytes and headers as they were (its ``traceparent`` too: the replay
continues the original's trace), to the subject it was stored under.

Every consumer of that subject sees a replay, not only the one that gave up: consumers
are idempotent on ``event_id``, so one that had handled it changes nothing. A replay's
``Nats-Msg-Id`` is ``replay:<DLQ sequence>``, so the same letter replayed twice within
the stream's duplicate window is stored once. A replayed letter is deleted from
``DLQ`` (``--keep`` keeps it), so what is left there is what still needs someone. An
original cut short when it was kept (over :data:`cauce_contracts.dlq.MAX_ORIGINAL_PAYLOAD`)
cannot be replayed: it is reported and left.

It connects like every service (``CAUCE_NATS_URL``, ``CAUCE_NATS_NKEY_SEED`` or
``CAUCE_NATS_CREDENTIALS_FILE``, ``CAUCE_NATS_CA_FILE``) as a user that may read ``DLQ``
and publish to every stream: ``admin`` in ``make run``'s stack.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import nats
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from cauce_contracts.dlq import DeadLettered
from cauce_contracts.streams import DLQ
from cauce_runtime._settings import ServiceSettings
from cauce_runtime.bus.provision import EXIT_OK, EXIT_UNREACHABLE, connect_with_retry

#: Some letters could not be replayed (truncated originals, unknown sequences).
EXIT_NOT_REPLAYED = 1
#: Headers a replay does not carry over: JetStream's own, set anew on the replay.
_NOT_CARRIED = frozenset({"nats-msg-id", "nats-expected-stream", "nats-expected-last-sequence"})


@dataclass(frozen=True)
class StoredDeadLetter:
    """A dead letter and its sequence in the ``DLQ`` stream."""

    sequence: int
    letter: DeadLettered

    def replay_id(self) -> str:
        return f"replay:{self.sequence}"


class NotReplayable(Exception):
    """The letter's original is not all there (cut when it was kept)."""


async def dead_letters(
    nc: Client, *, consumer: str | None = None, limit: int | None = None
) -> list[StoredDeadLetter]:
    """The dead letters ``DLQ`` holds, oldest first (only ``consumer``'s, when given)."""
    jsm = nc.jsm()
    state = (await jsm.stream_info(DLQ.name)).state
    found: list[StoredDeadLetter] = []
    if not state.messages:
        return found
    for sequence in range(state.first_seq, state.last_seq + 1):
        stored = await _get(nc, sequence)
        if stored is None or (consumer is not None and stored.letter.consumer != consumer):
            continue
        found.append(stored)
        if limit is not None and len(found) >= limit:
            break
    return found


async def dead_letter(nc: Client, sequence: int) -> StoredDeadLetter | None:
    """The dead letter at ``sequence`` in ``DLQ``, or None (never kept, or deleted)."""
    return await _get(nc, sequence)


async def _get(nc: Client, sequence: int) -> StoredDeadLetter | None:
    try:
        raw = await nc.jsm().get_msg(DLQ.name, sequence)
    except NotFoundError:
        return None  # deleted (replayed) or expired
    letter = DeadLettered.model_validate_json(raw.data or b"")
    return StoredDeadLetter(sequence, letter)


async def replay(nc: Client, stored: StoredDeadLetter, *, keep: bool = False) -> int:
    """Publish ``stored``'s original again; its new sequence in its stream. Deletes the
    letter from ``DLQ`` unless ``keep``. Raises :class:`NotReplayable` for a cut original."""
    letter = stored.letter
    if letter.original_truncated:
        raise NotReplayable(f"DLQ {stored.sequence}: the original was cut when it was kept")
    headers = {
        name: value
        for name, value in letter.original_headers.items()
        if name.lower() not in _NOT_CARRIED
    }
    headers["Nats-Msg-Id"] = stored.replay_id()
    ack = await nc.jetstream().publish(
        letter.original_subject,
        base64.b64decode(letter.original_payload_b64),
        headers=headers,
    )
    if not keep:
        await nc.jsm().delete_msg(DLQ.name, stored.sequence)
    return ack.seq


def describe(stored: StoredDeadLetter) -> str:
    """One line: sequence, time, where it failed, what it was, why (already masked)."""
    letter = stored.letter
    what = letter.original_event_type or letter.original_subject
    reason = " ".join(letter.reason.split())
    return (
        f"{stored.sequence:>6}  {letter.occurred_at:%Y-%m-%d %H:%M:%S}  "
        f"{letter.stream}/{letter.consumer}  {what}  x{letter.delivery_count}  "
        f"{letter.error_type}: {reason}"
    )


def as_json(stored: StoredDeadLetter, *, payload: bool = False) -> dict[str, Any]:
    """The letter as JSON; the original's bytes (personal data) only with ``payload``."""
    body = stored.letter.model_dump(mode="json", exclude={"original_payload_b64"})
    body["dlq_sequence"] = stored.sequence
    if payload:
        raw = base64.b64decode(stored.letter.original_payload_b64)
        try:
            body["original_payload"] = json.loads(raw)
        except ValueError:
            body["original_payload_b64"] = stored.letter.original_payload_b64
    return body


async def _list(nc: Client, args: argparse.Namespace, out: TextIO) -> int:
    letters = await dead_letters(nc, consumer=args.consumer, limit=args.limit)
    for stored in letters:
        print(describe(stored), file=out)
    print(f"{len(letters)} dead letter(s)", file=out)
    return EXIT_OK


async def _show(nc: Client, args: argparse.Namespace, out: TextIO) -> int:
    stored = await dead_letter(nc, args.sequence)
    if stored is None:
        print(f"DLQ {args.sequence}: no such dead letter", file=sys.stderr)
        return EXIT_NOT_REPLAYED
    print(json.dumps(as_json(stored, payload=args.payload), indent=2), file=out)
    return EXIT_OK


async def _replay(nc: Client, args: argparse.Namespace, out: TextIO) -> int:
    if args.all:
        chosen: list[StoredDeadLetter | int] = list(await dead_letters(nc, consumer=args.consumer))
    else:
        chosen = [await dead_letter(nc, sequence) or sequence for sequence in args.sequences]
    failed = 0
    for stored in chosen:
        if isinstance(stored, int):
            print(f"DLQ {stored}: no such dead letter", file=sys.stderr)
            failed += 1
            continue
        try:
            sequence = await replay(nc, stored, keep=args.keep)
        except NotReplayable as exc:
            print(str(exc), file=sys.stderr)
            failed += 1
            continue
        print(
            f"replayed DLQ {stored.sequence} -> {stored.letter.stream} {sequence}"
            f" ({stored.letter.original_subject})",
            file=out,
        )
    print(f"{len(chosen) - failed} replayed, {failed} not", file=out)
    return EXIT_NOT_REPLAYED if failed else EXIT_OK


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m cauce_runtime.bus.dead_letters",
        description="List, show and replay the dead letters kept in the DLQ stream.",
    )
    root.add_argument(
        "--wait", type=float, default=10.0, metavar="SECONDS", help="connect retries (10)"
    )
    commands = root.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="one line per dead letter, oldest first")
    listing.add_argument("--consumer", help="only this durable's (e.g. notifier-requests)")
    listing.add_argument("--limit", type=int, default=None)
    show = commands.add_parser("show", help="one dead letter as JSON")
    show.add_argument("sequence", type=int, help="its sequence in DLQ")
    show.add_argument("--payload", action="store_true", help="include the original (personal data)")
    again = commands.add_parser("replay", help="publish originals again, then drop them")
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("sequences", type=int, nargs="*", default=[], help="DLQ sequences")
    which.add_argument("--all", action="store_true", help="every dead letter (of --consumer)")
    again.add_argument("--consumer", help="with --all: only this durable's")
    again.add_argument("--keep", action="store_true", help="keep the letters in DLQ")
    return root


async def run(args: argparse.Namespace, settings: ServiceSettings, out: TextIO) -> int:
    try:
        nc = await connect_with_retry(settings, args.wait)
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        print(f"cannot connect to NATS ({exc!r}) within {args.wait:g} s", file=sys.stderr)
        return EXIT_UNREACHABLE
    command = {"list": _list, "show": _show, "replay": _replay}[args.command]
    try:
        return await command(nc, args, out)
    finally:
        await nc.close()


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parser().parse_args(argv)
    settings = ServiceSettings(service_name="cauce-dead-letters")
    return asyncio.run(run(args, settings, out))


if __name__ == "__main__":
    sys.exit(main())
