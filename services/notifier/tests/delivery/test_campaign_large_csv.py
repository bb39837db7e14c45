"""A ~10 MB recipients file as spreadsheets export them, uploaded through the API: the
counts, every rejected line with its reason, and a sample of the accepted rows are
exactly what the test built into the file.

The file is generated here: a byte-order mark and CRLF line ends (Excel's "CSV UTF-8"),
numbers written every way people type them (spaces, ``57…`` without ``+``, national,
parentheses and dashes, ``0057``, padded), quoted values with commas, and, scattered
through it, duplicates (in another spelling), rows missing a variable or a column,
blank lines, rows of empty cells, invalid numbers and a value with a line break inside
its quotes (one record over two lines: the line numbers after it must still be right).
Nothing is sent: the campaign is never started.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cauce_devstack.servers import NatsServer

from .conftest import Stack
from .test_campaigns import api, campaign_stack, new_campaign


@pytest.fixture
async def stack(nats_server: NatsServer, database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    """The campaigns' stack, reading the upload's numbers in a worker process (as a
    replica with two cores would: ``CAUCE_CAMPAIGN_PHONE_WORKER``); the in-process
    reading is every other upload test's."""
    async with campaign_stack(
        nats_server, database_url, tmp_path, campaign_phone_worker=True
    ) as running:
        yield running


TARGET_BYTES = 10 * 1024 * 1024
#: Every this many rows, one of each kind of bad row is mixed in.
BAD_EVERY = 200
SAMPLE = 40

#: How a good row's number is written (all of them ``+57300…``, a valid Colombian mobile).
SPELLINGS: tuple[Callable[[str], str], ...] = (
    lambda n: f"+57 {n[:3]} {n[3:6]} {n[6:]}",  # spaces
    lambda n: f"57{n}",  # country code without +
    lambda n: n,  # national (the campaign's region, CO)
    lambda n: f"+57{n}",
    lambda n: f"({n[:3]}) {n[3:6]}-{n[6:]}",
    lambda n: f"  57 {n[:3]} {n[3:]} ",  # padded
    lambda n: f"0057{n}",
)
LINE_BREAK = "variable_1 has a line break, a tab or more than four spaces in a row"


def csv_row(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


@dataclass
class MessyFile:
    """What the test wrote, and what the notifier must make of it."""

    chunks: list[str] = field(default_factory=list)
    line: int = 1  # the header
    size: int = 0
    #: (line, E.164, variables) in file order: the recipients' order (seq = index + 1).
    accepted: list[tuple[int, str, tuple[str, str]]] = field(default_factory=list)
    #: line -> (reason, the row's cells)
    rejected: dict[int, tuple[str, list[str]]] = field(default_factory=dict)

    def write(self, text: str) -> int:
        """Append ``text`` (whole records); the line it starts on."""
        start = self.line + 1
        self.chunks.append(text)
        self.size += len(text.encode())
        self.line += text.count("\r\n")
        return start

    def good(self, index: int) -> None:
        national = f"300{index:07d}"
        spell = SPELLINGS[index % len(SPELLINGS)]
        variables = (
            f"Cliente Número {index}",
            f"placa ABC{index % 1000:03d}, vigencia 2025, saldo $ {index * 7 % 999_999}:"
            " pague antes del 01/09/2025 en línea",
        )
        line = self.write(csv_row([spell(national), *variables]))
        self.accepted.append((line, f"+57{national}", variables))

    def bad(self, text: str, reason: str, cells: list[str]) -> None:
        self.rejected[self.write(text)] = (reason, cells)

    def bad_rows(self, index: int) -> None:
        """One of each kind; their numbers (``301…``) are never among the good ones,
        except the duplicate's."""
        other = f"301{index:07d}"
        earlier_line, earlier, _ = self.accepted[len(self.accepted) // 2]
        again = f"{earlier[1:3]} {earlier[3:]}"  # the same number, spelled otherwise
        rows: list[tuple[list[str], str]] = [
            ([again, "Otra vez", "duplicado"], f"duplicate of line {earlier_line}"),
            ([other, "Juan", ""], "variable_2 is empty"),
            ([other, "Juan"], "expected 3 column(s), found 2"),
            (["300 12", "Ana", "Ruiz"], "not a valid phone number"),
            (["", "", ""], "empty row"),
            ([other, "Juan\r\nPérez", "Ruiz"], LINE_BREAK),
        ]
        for cells, reason in rows:
            self.bad(csv_row(cells), reason, cells)
        self.bad("\r\n", "empty row", [])  # a blank line

    def encoded(self) -> bytes:
        header = "\ufeffRecipient-Phone-Number,variable_1,variable_2\r\n"
        return (header + "".join(self.chunks)).encode()


def messy_file(target_bytes: int) -> MessyFile:
    built = MessyFile()
    index = 0
    while built.size < target_bytes:
        built.good(index)
        index += 1
        if index % BAD_EVERY == 0:
            built.bad_rows(index)
    return built


def cells_of(row: str) -> str:
    """The ``row`` column of the rejections CSV, without the leading ``'`` that keeps a
    spreadsheet from reading a cell starting with ``+`` as a formula."""
    return row[1:] if row.startswith("'") else row


async def test_a_10_mb_messy_csv_is_counted_and_its_rejections_listed_exactly(
    stack: Stack,
) -> None:
    built = messy_file(TARGET_BYTES)
    data = built.encoded()
    assert len(data) >= TARGET_BYTES
    assert len(built.rejected) > 2000 and len(built.accepted) > 60_000  # the file is "big"

    campaign_id = await new_campaign(stack)
    started = time.monotonic()
    answer = await api(
        stack,
        "POST",
        f"/api/v1/campaigns/{campaign_id}/upload-recipients",
        files={"file": ("clientes.csv", data, "text/csv")},
        timeout=120,
    )
    took = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    loaded = answer.json()
    print(
        f"\n{len(data) / 1e6:.1f} MB, {len(built.accepted)} accepted,"
        f" {len(built.rejected)} rejected: loaded in {took:.1f} s"
    )
    assert (loaded["accepted"], loaded["rejected"]) == (len(built.accepted), len(built.rejected))
    first = sorted(built.rejected.items())[:20]
    assert loaded["rejections"] == [{"line": n, "reason": r} for n, (r, _) in first]
    campaign = (await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}")).json()
    assert (campaign["recipients"], campaign["rejected"], campaign["status"]) == (
        len(built.accepted),
        len(built.rejected),
        "DRAFT",
    )

    # every rejected line, with its reason and its cells as they were in the file
    listed = await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}/rejections", timeout=60)
    header, *rows = list(csv.reader(io.StringIO(listed.text)))
    assert header == ["line", "reason", "row"]
    got = {int(line): (reason, cells_of(row)) for line, reason, row in rows}
    assert len(rows) == len(got)  # each line once
    expected = {line: (reason, ",".join(cells)) for line, (reason, cells) in built.rejected.items()}
    assert got == expected

    # a sample of the accepted rows: in file order, the number in E.164, values as written
    sampled = random.Random(7).sample(range(len(built.accepted)), SAMPLE)
    for index in [0, *sampled, len(built.accepted) - 1]:
        _, phone, variables = built.accepted[index]
        page = await api(
            stack,
            "GET",
            f"/api/v1/campaigns/{campaign_id}/recipients",
            params={"after": index, "limit": 1},  # seq = index + 1
        )
        item: dict[str, Any] = page.json()["items"][0]
        assert (item["seq"], item["phone"], tuple(item["variables"]), item["outcome"]) == (
            index + 1,
            phone,
            variables,
            "pending",
        )
