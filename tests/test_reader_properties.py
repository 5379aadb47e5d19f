"""Property-based tests of the readers (Hypothesis): any bytes, under any of the names a user may
give them, give a validated frame or a handled, French refusal (:class:`ReadError`) — never an
unhandled exception; and a table's text survives every encoding the readers accept."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsdash.catalogue import load_catalogue
from fsdash.network.anct import read_anct_list
from fsdash.official.definitions import load_definitions
from fsdash.official.readers import read_official
from fsdash.official.validation import validate_official
from fsdash.readers import LINE_COLUMN, ReadError, read_tables
from fsdash.validation import ValidationContext, validate

from conftest import ACTIVITE_HEADER

CATALOGUE = load_catalogue()
DEFINITIONS = load_definitions()
CONTEXT = ValidationContext(
    pl.DataFrame({"site_id": ["FS001"], "date_labellisation": [dt.date(2020, 1, 1)]}), {}, dt.date(2025, 1, 1)
)
NAMES = ["depot.csv", "depot.xlsx", "depot.parquet", "depot.txt"]
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Bytes that look like a file more often than uniform noise does: a table's header, separators,
#: quotes, newlines, NUL bytes, BOMs, non-ASCII letters, and the signatures of binary formats.
_PIECES = st.sampled_from(
    [
        ";".join(ACTIVITE_HEADER).encode(),
        b"site_id;annee;trimestre",
        b";",
        b",",
        b'"',
        b"\n",
        b"\r\n",
        b"\x00",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        "é".encode(),
        "é".encode("cp1252"),
        b"FS001;2024;1;12",
        b"PK\x03\x04",
        b"PAR1",
        b";;;;",
    ]
)
FILE_BYTES = st.one_of(
    st.binary(max_size=400), st.lists(st.one_of(_PIECES, st.binary(max_size=8)), max_size=40).map(b"".join)
)


@PROPERTY
@given(data=FILE_BYTES, name=st.sampled_from(NAMES))
def test_any_bytes_give_a_validated_frame_or_a_french_refusal(data: bytes, name: str) -> None:
    try:
        tables = read_tables(data, name, CATALOGUE)
    except ReadError as exc:
        assert str(exc).startswith(name + " ") or str(exc).startswith(name + ",")
        return
    for raw in tables:
        assert raw.frame[LINE_COLUMN].dtype == pl.Int64
        result = validate(raw, CATALOGUE, CONTEXT)
        assert result.valid.height + result.rejected.height == raw.frame.height


@PROPERTY
@given(data=FILE_BYTES)
def test_any_bytes_as_a_site_list_or_an_official_series_are_read_or_refused(data: bytes) -> None:
    try:
        raw, _ = read_anct_list(data, "liste-fs-20240901.csv", CATALOGUE)
        assert raw.table.code == "sites"
    except ReadError as exc:
        assert str(exc).startswith("liste-fs-20240901.csv")
    try:
        table = read_official(data, "ditp.csv", DEFINITIONS)
        validate_official(table, DEFINITIONS)
    except ReadError as exc:
        assert str(exc).startswith("ditp.csv")


_CELL = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters='";,\t\n\r'), max_size=12
).map(str.strip)


@PROPERTY
@given(
    rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"]),
)
def test_a_table_reads_the_same_in_every_accepted_encoding(rows: list[list[str]], encoding: str) -> None:
    text = "site_id;annee;trimestre\n" + "".join(";".join(r) + "\n" for r in rows)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return  # a character cp1252 cannot write
    from fsdash.readers import read_csv

    want = read_csv(text.encode("utf-8"), "t.csv").frame
    got = read_csv(data, "t.csv").frame
    assert got.equals(want)
    kept = [r for r in rows if any(r)]
    assert got.height == len(kept)  # blank rows dropped, every other kept with its line
    assert got[LINE_COLUMN].to_list() == [i + 2 for i, r in enumerate(rows) if any(r)]
