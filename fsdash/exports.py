"""Downloads behind every chart: CSV for French Excel and XLSX, from the same frame.

CSV for French Excel means UTF-8 with a BOM, ``;`` between cells and a decimal comma; dates as
JJ/MM/AAAA. Numbers stay numbers in the XLSX (the reader sorts and sums them).
"""

from __future__ import annotations

import io

import polars as pl

CSV_SEPARATOR = ";"


def _french_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a French spreadsheet reads as numbers and dates."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype.is_float():
            out.append(col.round(6).cast(pl.String).str.replace(r"\.", ",").alias(name))
        elif dtype == pl.Date:
            out.append(col.dt.strftime("%d/%m/%Y").alias(name))
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            out.append(col.dt.strftime("%d/%m/%Y %H:%M").alias(name))
        elif dtype == pl.Boolean:
            out.append(col.replace_strict({True: "oui", False: "non"}, return_dtype=pl.String).alias(name))
        elif isinstance(dtype, (pl.List, pl.Struct)):
            out.append(col.cast(pl.String, strict=False).alias(name))
        else:
            out.append(col)
    return frame.select(out)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    _french_cells(frame).write_csv(buffer, separator=CSV_SEPARATOR)
    return b"\xef\xbb\xbf" + buffer.getvalue()


def xlsx_bytes(frame: pl.DataFrame, sheet: str = "donnees") -> bytes:
    buffer = io.BytesIO()
    frame.write_excel(buffer, worksheet=sheet[:31], autofit=True)
    return buffer.getvalue()
