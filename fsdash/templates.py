"""Site templates (CSV and XLSX) and the indicator dictionary, generated from the catalogue.

The templates are what a site fills in each quarter; they are built from the same YAML the
validator reads, so a template can never ask for a column the validator refuses.
"""

from __future__ import annotations

import io
from pathlib import Path

import xlsxwriter

from fsdash.catalogue import Catalogue, Column, Table, load_catalogue

CSV_SEPARATOR = ";"
TYPE_LABELS = {
    "text": "texte",
    "enum": "code de liste",
    "int": "nombre entier",
    "float": "nombre décimal",
    "date": "date JJ/MM/AAAA",
    "bool": "oui / non",
}


def range_text(column: Column) -> str:
    if column.min is None and column.max is None:
        return ""
    return f"{column.min:g} à {column.max:g}".replace(".", ",")


def csv_template(table: Table) -> bytes:
    """Header-only CSV for French Excel: UTF-8 with BOM, ``;`` separator."""
    header = CSV_SEPARATOR.join(c.code for c in table.columns) + "\r\n"
    return ("\ufeff" + header).encode("utf-8")


def _dictionary_rows(catalogue: Catalogue) -> list[list[str]]:
    rows = []
    for table in catalogue.tables.values():
        for c in table.columns:
            values = f"liste « {c.dimension} »" if c.dimension else range_text(c)
            rows.append(
                [
                    table.code,
                    c.code,
                    c.label,
                    c.definition,
                    c.unit or "",
                    TYPE_LABELS[c.type],
                    "oui" if c.mandatory else "non",
                    values,
                    c.source or "",
                ]
            )
    return rows


DICTIONARY_HEADER = [
    "table",
    "colonne",
    "libellé",
    "définition",
    "unité",
    "type",
    "obligatoire",
    "valeurs admises",
    "source (circulaire, charte)",
]


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
    for j, title in enumerate(DICTIONARY_HEADER):
        readme.write(2, j, title, bold)
    for i, row in enumerate(_dictionary_rows(catalogue), start=3):
        for j, value in enumerate(row):
            readme.write(i, j, value, wrap)
    readme.set_column(0, 1, 22)
    readme.set_column(2, 3, 45)
    readme.set_column(4, 8, 16)
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


def dictionary_markdown(catalogue: Catalogue | None = None) -> str:
    """docs/indicateurs.md: the catalogue for readers, regenerated and checked by a test."""
    catalogue = catalogue or load_catalogue()
    out = [
        "# Dictionnaire des indicateurs France Services",
        "",
        "Fichier généré depuis `schemas/catalogue.yaml` par `python -m fsdash catalogue` : "
        "ne pas le modifier à la main.",
        "",
    ]
    for table in catalogue.tables.values():
        grain = ", ".join(table.grain)
        out += [
            f"## Table `{table.code}` — {table.label}",
            "",
            table.definition,
            "",
            f"Grain : {grain}."
            + (
                " Période : trimestre."
                if table.period == "quarter"
                else " Période : année."
                if table.period == "year"
                else ""
            ),
            "",
            "| colonne | libellé | définition | unité | type | obligatoire | valeurs admises | source |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in table.columns:
            values = f"liste `{c.dimension}`" if c.dimension else range_text(c)
            out.append(
                f"| `{c.code}` | {c.label} | {c.definition} | {c.unit or ''} | {TYPE_LABELS[c.type]} | "
                f"{'oui' if c.mandatory else 'non'} | {values} | {c.source or ''} |"
            )
        out.append("")
    out += ["## Listes de codes", ""]
    for dim in catalogue.dimensions.values():
        out += [f"### `{dim.code}` — {dim.label}", "", f"Source : {dim.source}.", "", "| code | libellé |", "|---|---|"]
        out += [f"| `{v.code}` | {v.label} |" for v in dim.values]
        out.append("")
    out += ["## Règles de cohérence", "", "| code | table | contrôle | source |", "|---|---|---|---|"]
    for rule in catalogue.rules:
        out.append(f"| `{rule.code}` | {rule.table or 'toutes'} | {rule.message} | {rule.source or ''} |")
    out.append("")
    return "\n".join(out)
