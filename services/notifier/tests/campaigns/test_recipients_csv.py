"""The seed's recipients CSV: normalised, deduplicated, checked against the template."""

from __future__ import annotations

import io

import pytest

from cauce_notifier.campaigns.phone_batches import PhoneBatches, read_phones
from cauce_notifier.campaigns.phones import InvalidPhone, is_region, to_e164
from cauce_notifier.campaigns.recipients_csv import (
    PHONE_BATCH_ROWS,
    AcceptedRow,
    CsvRefused,
    RejectedRow,
    read_recipients,
)

SEED = """Recipient-Phone-Number,variable_1,variable_2
+573001234567,Juan,Pérez
+573001234568,María,García
"""


def rows(text: str, variables: int = 2, region: str = "CO") -> list[AcceptedRow | RejectedRow]:
    return list(read_recipients(io.StringIO(text), variables=variables, default_region=region))


def test_the_seed_example_is_accepted_whole() -> None:
    assert rows(SEED) == [
        AcceptedRow(2, "+573001234567", ("Juan", "Pérez"), "CO"),
        AcceptedRow(3, "+573001234568", ("María", "García"), "CO"),
    ]


def test_a_messy_file_keeps_the_good_rows_and_says_why_for_the_rest() -> None:
    messy = (
        "\ufeffrecipient-phone-number , Variable_1 ,variable_2\n"  # BOM, case, spaces
        " 57 300 123 4567 ,  Juan ,Pérez\n"  # spaces, no '+'
        "3001234568,Ana,Gómez\n"  # national number, default region CO
        "+57 300 123 4567,Juan,Otra vez\n"  # duplicate of line 2
        "12345,Pedro,Paz\n"  # not a number
        "+573001234569,,Ruiz\n"  # missing variable
        "+573001234570,Luz\n"  # a cell short
        ",,\n"  # blank
        '+573001234571,"dos\nlíneas",x\n'  # a line break inside a quoted cell
        "+573001234572,mucho     espacio,x\n"
        "+14155552671,Bob,Smith\n"  # another country, kept
    )
    got = rows(messy)
    accepted = [r for r in got if isinstance(r, AcceptedRow)]
    rejected = {r.line: r.reason for r in got if isinstance(r, RejectedRow)}
    assert [(r.line, r.phone, r.variables, r.country) for r in accepted] == [
        (2, "+573001234567", ("Juan", "Pérez"), "CO"),
        (3, "+573001234568", ("Ana", "Gómez"), "CO"),
        (12, "+14155552671", ("Bob", "Smith"), "US"),
    ]
    assert rejected == {
        4: "duplicate of line 2",
        5: "not a valid phone number",
        6: "variable_1 is empty",
        7: "expected 3 column(s), found 2",
        8: "empty row",
        9: "variable_1 has a line break, a tab or more than four spaces in a row",
        11: "variable_1 has a line break, a tab or more than four spaces in a row",
    }
    duplicate = next(r for r in got if isinstance(r, RejectedRow) and r.line == 4)
    assert duplicate.cells == ("+57 300 123 4567", "Juan", "Otra vez")  # as in the file


@pytest.mark.parametrize(
    ("text", "variables", "reason"),
    [
        ("", 1, "empty"),
        ("phone_number\n+573001234567\n", 1, "takes 1 variable"),
        ("Recipient-Phone-Number,variable_1,variable_2\n", 1, "found 2"),
        ("Recipient-Phone-Number,variable_2\n", 1, "variable_1"),
        ("nombre,variable_1\n", 1, "first column"),
    ],
)
def test_a_file_that_does_not_fit_the_template_is_refused_whole(
    text: str, variables: int, reason: str
) -> None:
    with pytest.raises(CsvRefused, match=reason):
        rows(text, variables)


def test_a_template_without_variables_takes_a_phone_column_only() -> None:
    assert rows("telefono\n+573001234567\n", variables=0) == [
        AcceptedRow(2, "+573001234567", (), "CO")
    ]


def test_rows_are_read_lazily() -> None:
    """A generator of lines is consumed as rows are asked for: nothing loads it whole."""
    consumed = 0

    def lines():  # type: ignore[no-untyped-def]
        nonlocal consumed
        yield "Recipient-Phone-Number,variable_1\n"
        for i in range(1_000_000):
            consumed += 1
            yield f"+57300{i:07d},v\n"

    reader = read_recipients(lines(), variables=1, default_region="CO")
    first = [next(reader) for _ in range(3)]
    assert all(isinstance(r, AcceptedRow) for r in first)
    assert consumed <= 2 * PHONE_BATCH_ROWS  # a batch and the next of a million


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+57 300 123 4567", "CO", "+573001234567"),
        ("573001234567", "CO", "+573001234567"),
        ("(300) 123-4567", "CO", "+573001234567"),
        ("0057 300 123 4567", "CO", "+573001234567"),
        ("55 1234 5678", "MX", "+525512345678"),
        ("+1 415 555 2671", "CO", "+14155552671"),
    ],
)
def test_phones_become_e164(raw: str, region: str, e164: str) -> None:
    assert to_e164(raw, region) == e164


@pytest.mark.parametrize("raw", ["", "12", "abc", "+57 123", "300 123 4567 999"])
def test_invalid_phones_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        to_e164(raw, "CO")


def test_regions_are_libphonenumbers() -> None:
    assert is_region("co") and is_region("MX") and not is_region("XX")


def test_numbers_read_in_the_worker_process_are_read_the_same() -> None:
    raws = ["+57 300 123 4567", "573001234568", "12", "", "(300) 123-4569", "abc"]
    batches = PhoneBatches()
    try:
        assert batches.read(raws, "CO").result() == read_phones(raws, "CO")
        assert batches.read(raws[:1], "CO").result() == [("+573001234567", "CO")]
    finally:
        batches.close()
    in_worker = read_recipients(
        io.StringIO(SEED), variables=2, default_region="CO", read_numbers=batches.read
    )
    assert [r.phone for r in in_worker if isinstance(r, AcceptedRow)] == [
        "+573001234567",
        "+573001234568",
    ]
    batches.close()
