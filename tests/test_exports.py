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
