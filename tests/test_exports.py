"""Downloads open in French Excel: BOM, `;`, decimal comma, dates JJ/MM/AAAA; XLSX keeps numbers."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl

from fsdash.exports import csv_bytes, xlsx_bytes

FRAME = pl.DataFrame(
    {"Trimestre": ["T1 2024"], "Demandes": [1234], "Taux": [0.125], "Date": [dt.date(2024, 3, 31)], "Conforme": [True]}
)


def test_csv_for_french_excel():
    data = csv_bytes(FRAME)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    assert text.splitlines() == ["Trimestre;Demandes;Taux;Date;Conforme", "T1 2024;1234;0,125;31/03/2024;oui"]


def test_xlsx_keeps_numbers_and_dates():
    back = pl.read_excel(io.BytesIO(xlsx_bytes(FRAME)))
    assert back["Demandes"].to_list() == [1234]
    assert back["Taux"].to_list() == [0.125]


# --- formula injection (OWASP): text that a spreadsheet would run is written behind a quote ----------

HOSTILE = [
    '=HYPERLINK("http://exemple.invalid";"clic")',
    "+33 1 23 45 67 89",
    "-2+3",
    "@SOMME(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "Maison =France Services",
    "-3",
    "+2,5",
    None,
]


def _cells(data: bytes) -> list[list[str]]:
    import csv

    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=";"))


def test_csv_text_cells_that_would_run_as_formulas_are_quoted():
    frame = pl.DataFrame({"Site": HOSTILE})
    assert [(row or [""])[0] for row in _cells(csv_bytes(frame))[1:]] == [
        '\'=HYPERLINK("http://exemple.invalid";"clic")',
        "'+33 1 23 45 67 89",
        "'-2+3",
        "'@SOMME(A1:A9)",
        "'\t=1+1",
        "'\r=1+1",
        "Maison =France Services",  # a formula sign inside a text is harmless
        "-3",  # a text that is only a number is a number
        "+2,5",
        "",
    ]


def test_csv_numbers_stay_numbers_negative_ones_included():
    frame = pl.DataFrame({"Écart": [-12.5, 3.0], "Solde": [-4, 7], "Libellé": ["-x", "y"]})
    assert _cells(csv_bytes(frame)) == [["Écart", "Solde", "Libellé"], ["-12,5", "-4", "'-x"], ["3,0", "7", "y"]]


def test_csv_headers_categories_and_lists_are_neutralised_too():
    frame = pl.DataFrame({"=Nom": ["a"], "Format": pl.Series(["=cat"], dtype=pl.Categorical), "Listes": [["=a", "b"]]})
    header, row = _cells(csv_bytes(frame))
    assert header == ["'=Nom", "Format", "Listes"]
    assert row[0] == "a" and row[1] == "'=cat"
    assert not row[2].startswith(("=", "+", "-", "@"))


def test_xlsx_stores_formula_like_text_as_text():
    """XLSX text cells are shared strings, never formulas: no quote needed, the text comes back intact."""
    import zipfile

    data = xlsx_bytes(pl.DataFrame({"Site": [h for h in HOSTILE if h is not None]}))
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    back = pl.read_excel(io.BytesIO(data))
    assert back["Site"].to_list()[0] == HOSTILE[0]
