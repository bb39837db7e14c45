"""A campaign's recipients from the seed's CSV, checked row by row, never loaded whole.

The format (the seed's, so its users' files keep working)::

    Recipient-Phone-Number,variable_1,variable_2
    +573001234567,Juan,Pérez

The first column is the phone number (``Recipient-Phone-Number``; ``phone``,
``phone_number`` and ``telefono`` are accepted too), then exactly as many
``variable_N`` columns as the template has parameters, in the order WhatsApp takes them
(header, body, then a URL button's suffix). A file whose columns do not match the
template is refused whole (:class:`CsvRefused`); otherwise each row is accepted or
rejected with its line number and reason:

- the phone becomes E.164 (:func:`~cauce_notifier.campaigns.phones.to_e164`, in the
  campaign's default region); an invalid one is rejected;
- a number already accepted earlier in the file is rejected as a duplicate;
- every variable must be non-empty, at most :data:`MAX_VARIABLE_CHARS` long, and free
  of line breaks, tabs and runs of more than four spaces (WhatsApp refuses those);
- blank rows and rows with the wrong number of cells are rejected.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from cauce_notifier.campaigns.phone_batches import PhoneResult, read_phones
from cauce_runtime import CauceError

PHONE_COLUMNS = frozenset(
    {"recipient-phone-number", "phone", "phone_number", "telefono", "teléfono"}
)
#: Longest template parameter we accept (WhatsApp's body limit leaves room for more;
#: a longer value is almost always a spreadsheet mistake).
MAX_VARIABLE_CHARS = 1024
#: What WhatsApp refuses in a parameter: a line break, a tab, five or more spaces in a row.
_FORBIDDEN = re.compile(r"[\r\n\t]| {5,}")


class CsvRefused(CauceError):
    """The whole file cannot be used (unreadable, or its columns do not fit)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AcceptedRow:
    line: int
    #: E.164 (``+573001234567``): personal data, never logged.
    phone: str
    variables: tuple[str, ...]
    #: The number's region (``CO``): what a message to it costs.
    country: str | None = None


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str
    #: The row as it was in the file, so the operator can fix and re-upload it.
    cells: tuple[str, ...]


Row = AcceptedRow | RejectedRow


#: Rows read together: their numbers go to ``read_phones`` as one batch (another
#: process's, for an upload: :class:`~cauce_notifier.campaigns.phone_batches.PhoneBatches`).
PHONE_BATCH_ROWS = 2000

#: Starts reading a batch of numbers in a region: each ``(e164, region)`` or why it is
#: invalid, when the future is done.
ReadPhones = Callable[[Sequence[str], str], "Future[list[PhoneResult]]"]


def read_here(raws: Sequence[str], default_region: str) -> Future[list[PhoneResult]]:
    """:func:`~cauce_notifier.campaigns.phone_batches.read_phones` in this thread."""
    done: Future[list[PhoneResult]] = Future()
    done.set_result(read_phones(raws, default_region))
    return done


def read_recipients(
    lines: Iterable[str],
    *,
    variables: int,
    default_region: str,
    read_numbers: ReadPhones = read_here,
) -> Iterator[Row]:
    """Each data row of ``lines`` (a text file, read lazily, a batch of
    :data:`PHONE_BATCH_ROWS` at a time), accepted or rejected. The next batch's
    numbers are being read (by ``read_numbers``) while this one's rows are checked."""
    reader = csv.reader(lines, strict=False)
    header = next(reader, None)
    if header is None:
        raise CsvRefused("the file is empty: it needs a header row")
    _check_header([cell.strip() for cell in header], variables)
    width = variables + 1
    seen: dict[str, int] = {}

    def next_batch() -> tuple[list[tuple[int, tuple[str, ...], bool]], Future[list[PhoneResult]]]:
        """The next rows (line, cells, whether it has a number to read), their numbers
        being read."""
        records = [(line, cells, _shaped(cells, width)) for line, cells in _next_records(reader)]
        phones = [cells[0] for _, cells, shaped in records if shaped]
        return records, read_numbers(phones, default_region)

    records, numbers = next_batch()
    while records:
        following = next_batch()
        read = iter(numbers.result())
        for line, cells, shaped in records:
            number = next(read) if shaped else None
            yield checked_row(line, cells, width, default_region, seen, number=number)
        records, numbers = following


def _next_records(reader: Any) -> list[tuple[int, tuple[str, ...]]]:
    """The next rows of ``reader`` with the line each starts on (a cell may span lines)."""
    records = []
    for _ in range(PHONE_BATCH_ROWS):
        line = reader.line_num + 1
        cells = next(reader, None)
        if cells is None:
            break
        records.append((line, tuple(cells)))
    return records


def _shaped(cells: tuple[str, ...], width: int) -> bool:
    """Whether a row has a number worth reading: not blank, the right number of cells."""
    return len(cells) == width and any(cell.strip() for cell in cells)


def _check_header(header: list[str], variables: int) -> None:
    if not header or header[0].lstrip("\ufeff").lower() not in PHONE_COLUMNS:
        raise CsvRefused(
            "the first column must be Recipient-Phone-Number (found "
            f"{header[0][:40] if header else 'nothing'!r})"
        )
    given = header[1:]
    expected = [f"variable_{n}" for n in range(1, variables + 1)]
    if [name.lower() for name in given] != expected:
        wanted = ", ".join(expected) or "no variable columns"
        raise CsvRefused(
            f"the template takes {variables} variable(s): the columns after the phone "
            f"must be {wanted} (found {len(given)}: {', '.join(g[:20] for g in given[:5])})"
        )


def checked_row(
    line: int,
    cells: tuple[str, ...],
    width: int,
    region: str,
    seen: dict[str, int],
    names: tuple[str, ...] = (),
    *,
    number: PhoneResult | None = None,
) -> Row:
    """One row (the phone, then the variables) accepted or rejected; ``seen`` holds the
    numbers accepted so far and their lines. ``names`` are the variables' names in
    reasons (``variable_1``... by default); ``number``, the phone already read (else it
    is read here)."""
    if not any(cell.strip() for cell in cells):
        return RejectedRow(line, "empty row", cells)
    if len(cells) != width:
        return RejectedRow(line, f"expected {width} column(s), found {len(cells)}", cells)
    if number is None:
        [number] = read_phones([cells[0]], region)
    if isinstance(number, str):
        return RejectedRow(line, number, cells)
    phone, country = number
    values = tuple(cell.strip() for cell in cells[1:])
    labels = names or tuple(f"variable_{n}" for n in range(1, len(values) + 1))
    problem = next(
        (
            reason
            for name, value in zip(labels, values, strict=True)
            if (reason := _bad_variable(name, value))
        ),
        None,
    )
    if problem is not None:
        return RejectedRow(line, problem, cells)
    first = seen.setdefault(phone, line)
    if first != line:
        return RejectedRow(line, f"duplicate of line {first}", cells)
    return AcceptedRow(line, phone, values, country)


def _bad_variable(name: str, value: str) -> str | None:
    if not value:
        return f"{name} is empty"
    if len(value) > MAX_VARIABLE_CHARS:
        return f"{name} is longer than {MAX_VARIABLE_CHARS} characters"
    if _FORBIDDEN.search(value):
        return f"{name} has a line break, a tab or more than four spaces in a row"
    return None
