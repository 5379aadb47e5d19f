"""Site templates (CSV and XLSX), generated from the catalogue; the workbook's « Lisez-moi » sheet is
the page's dictionary (:mod:`fsdash.views.dictionary`), not a second rendering of it.

The templates are what a site fills in each quarter; they are built from the same YAML the
validator reads, so a template can never ask for a column the validator refuses.
"""

from __future__ import annotations

import io
from pathlib import Path

import xlsxwriter

from fsdash.catalogue import TYPE_LABELS, Catalogue, Table, load_catalogue
from fsdash.views import dictionary

__all__ = ["TYPE_LABELS", "csv_template", "write_templates", "xlsx_template"]

CSV_SEPARATOR = ";"


def csv_template(table: Table) -> bytes:
    """Header-only CSV for French Excel: UTF-8 with BOM, ``;`` separator."""
    header = CSV_SEPARATOR.join(c.code for c in table.columns) + "\r\n"
    return ("\ufeff" + header).encode("utf-8")


def xlsx_template(catalogue: Catalogue) -> bytes:
    """One workbook: a sheet per table, a read-me, and the code lists behind drop-downs."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#E3E3FD", "font_color": "#000091"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    readme = book.add_worksheet("Lisez-moi")
    lists = book.add_worksheet("Listes")
    readme.write(
        0,
        0,
        "Modèle de reporting France Services — une feuille par table ; "
        "les en-têtes (ligne 1) ne doivent pas être modifiés. Dictionnaire ci-dessous.",
        bold,
    )
    readme_frame = dictionary.indicators().export  # the page's dictionary, every table and column
    for j, title in enumerate(readme_frame.columns):
        readme.write(2, j, title, bold)
    for i, row in enumerate(readme_frame.iter_rows(), start=3):
        for j, value in enumerate(row):
            readme.write(i, j, value, wrap)
    readme.set_column(0, 1, 22)
    readme.set_column(2, 3, 45)
    readme.set_column(4, 9, 16)
    ranges = {}
    for j, dim in enumerate(catalogue.dimensions.values()):
        lists.write(0, 2 * j, dim.code, bold)
        lists.write(0, 2 * j + 1, dim.label, bold)
        for i, value in enumerate(dim.values, start=1):
            lists.write(i, 2 * j, value.code)
            lists.write(i, 2 * j + 1, value.label)
        col = xlsxwriter.utility.xl_col_to_name(2 * j)
        ranges[dim.code] = f"=Listes!${col}$2:${col}${len(dim.values) + 1}"
    for table in catalogue.tables.values():
        sheet = book.add_worksheet(table.code)
        for j, column in enumerate(table.columns):
            sheet.write(0, j, column.code, bold)
            sheet.write_comment(
                0, j, f"{column.label}. {column.definition}" + (f" Unité : {column.unit}." if column.unit else "")
            )
            sheet.set_column(j, j, max(14, len(column.code) + 2))
            if column.dimension:
                sheet.data_validation(1, j, 5000, j, {"validate": "list", "source": ranges[column.dimension]})
        sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


def write_templates(outdir: Path, catalogue: Catalogue | None = None) -> list[Path]:
    catalogue = catalogue or load_catalogue()
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for table in catalogue.tables.values():
        path = outdir / f"modele-{table.code}.csv"
        path.write_bytes(csv_template(table))
        written.append(path)
    path = outdir / "modele-reporting-france-services.xlsx"
    path.write_bytes(xlsx_template(catalogue))
    written.append(path)
    return written
