"""Downloads behind every chart: CSV for French Excel and XLSX, from the same frame.

CSV for French Excel means UTF-8 with a BOM, ``;`` between cells and a decimal comma; dates as
JJ/MM/AAAA. Numbers stay numbers in the XLSX (the reader sorts and sums them).

Formula injection (OWASP « CSV injection »): a spreadsheet runs a cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return as a formula, and site names, labels and file
names come from users. Every *text* cell (and header) starting so is written behind a single
quote, which the spreadsheet shows as text. Decided: numbers stay numbers — a numeric column is
written as digits, a negative value included (``-12,5`` is a number, not a formula), and a text
cell that is nothing but a number (``-3``, ``+2,5``) is left as it is. The XLSX needs no guard:
its text cells are stored as strings, never as formulas (tests/test_exports.py reads them back).
"""

from __future__ import annotations

import io

import polars as pl

CSV_SEPARATOR = ";"

#: What a spreadsheet reads as the start of a formula.
_FORMULA_START = r"^[=+\-@\t\r]"
#: A text cell that is only a number, which no spreadsheet runs: ``-3``, ``+2,5``, ``-0.5``.
_PLAIN_NUMBER = r"^[+-]?[0-9]+([.,][0-9]+)?$"


def neutralised(text: pl.Expr) -> pl.Expr:
    """A text column whose cells a spreadsheet cannot run as formulas (module docstring)."""
    risky = text.str.contains(_FORMULA_START) & ~text.str.contains(_PLAIN_NUMBER)
    return pl.when(risky).then(pl.lit("'") + text).otherwise(text)


def _safe_text(text: str) -> str:
    """One text (a column header), neutralised like a cell."""
    return pl.select(neutralised(pl.lit(text, dtype=pl.String))).item()


def _french_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a French spreadsheet reads as numbers and dates."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype.is_float():
            out.append(col.round(6).cast(pl.String).str.replace(r"\.", ",").alias(name))
        elif dtype.is_decimal():
            out.append(col.cast(pl.String).str.replace(r"\.", ",").alias(name))
        elif dtype == pl.Date:
            out.append(col.dt.strftime("%d/%m/%Y").alias(name))
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            out.append(col.dt.strftime("%d/%m/%Y %H:%M").alias(name))
        elif dtype == pl.Boolean:
            out.append(col.replace_strict({True: "oui", False: "non"}, return_dtype=pl.String).alias(name))
        elif dtype.is_numeric():
            out.append(col)
        elif isinstance(dtype, pl.List | pl.Array):
            joined = col.list.eval(pl.element().cast(pl.String)).list.join(", ")
            out.append(neutralised(joined).alias(name))
        elif isinstance(dtype, pl.Struct):
            out.append(neutralised(col.struct.json_encode()).alias(name))
        else:  # text, categories, lists, structs: what a user may have written
            out.append(neutralised(col.cast(pl.String, strict=False)).alias(name))
    return frame.select(out).rename(_safe_text)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    _french_cells(frame).write_csv(buffer, separator=CSV_SEPARATOR)
    return b"\xef\xbb\xbf" + buffer.getvalue()


def xlsx_bytes(frame: pl.DataFrame, sheet: str = "donnees") -> bytes:
    buffer = io.BytesIO()
    frame.write_excel(buffer, worksheet=sheet[:31], autofit=True)
    return buffer.getvalue()
