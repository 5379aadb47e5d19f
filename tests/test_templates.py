"""Site templates and the indicator dictionary, generated from the catalogue."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys

import polars as pl
import pytest
import xlsxwriter

from fsdash.catalogue import load_catalogue
from fsdash.templates import write_templates, xlsx_template
from fsdash.views.dictionary import dictionary_markdown
from fsdash.warehouse.ingest import report_lines

from conftest import (
    ACTIVITE_HEADER,
    ACTIVITE_ROWS,
    DETAIL_HEADER,
    DETAIL_ROWS,
    REPO_ROOT,
    SITES_HEADER,
    SITES_ROWS,
    cell_text,
    ingest_files,
    table_counts,
)

CATALOGUE = load_catalogue()
XLSX_NAME = "modele-reporting-france-services.xlsx"

SATISFACTION = [["FS001", 2023, 4, 120, 80, 10, 5], ["FS003", 2023, 4, 40, 30, 5, 1]]
ENQUETE = [["FS001", 2023, "ACCUEIL", 50, 1, 2, 7, 20, 20], ["FS001", 2023, "RECOMMANDATION", 50, 0, 1, 4, 15, 30]]

#: What a site types into each template: (columns it fills, rows).
FILLED = {
    "sites": (SITES_HEADER, SITES_ROWS),
    "activite": (ACTIVITE_HEADER, ACTIVITE_ROWS),
    "demandes_detail": (DETAIL_HEADER, DETAIL_ROWS),
    "satisfaction_borne": (
        [
            "site_id",
            "annee",
            "trimestre",
            "reponses_tres_satisfait",
            "reponses_satisfait",
            "reponses_peu_satisfait",
            "reponses_pas_satisfait",
        ],
        SATISFACTION,
    ),
    "enquete_annuelle": (
        [
            "site_id",
            "annee",
            "question",
            "repondants",
            "reponses_1",
            "reponses_2",
            "reponses_3",
            "reponses_4",
            "reponses_5",
        ],
        ENQUETE,
    ),
}


def in_template_order(table: str) -> list[list[object]]:
    """The filled rows laid out in the template's column order (blank where the site typed nothing)."""
    header, rows = FILLED[table]
    codes = [c.code for c in CATALOGUE.table(table).columns]
    return [[dict(zip(header, r, strict=False)).get(code) for code in codes] for r in rows]


def test_cli_template_writes_one_csv_per_table_and_a_workbook(tmp_path):
    outdir = tmp_path / "modeles"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-m", "fsdash", "template", str(outdir)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    expected = sorted([f"modele-{code}.csv" for code in CATALOGUE.tables] + [XLSX_NAME])
    assert sorted(p.name for p in outdir.iterdir()) == expected
    assert result.stdout.count("modèle écrit : ") == len(expected)
    for code, table in CATALOGUE.tables.items():
        data = (outdir / f"modele-{code}.csv").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), code  # UTF-8 BOM for French Excel
        text = data[3:].decode("utf-8")
        assert text.endswith("\r\n") and text.count("\n") == 1, code  # header only
        assert text.rstrip("\r\n").split(";") == [c.code for c in table.columns], code


def test_xlsx_template_sheets_and_headers(tmp_path):
    (path,) = [p for p in write_templates(tmp_path) if p.suffix == ".xlsx"]
    sheets = pl.read_excel(path, sheet_id=0, infer_schema_length=0)
    assert list(sheets) == ["Lisez-moi", "Listes", *CATALOGUE.tables]
    for code, table in CATALOGUE.tables.items():
        assert sheets[code].columns == [c.code for c in table.columns], code
        assert sheets[code].height == 0
    listes = sheets["Listes"]
    for code, dim in CATALOGUE.dimensions.items():
        assert listes[code].drop_nulls().to_list() == dim.codes, code


def test_filled_csv_templates_round_trip_through_ingest(tmp_path):
    outdir = tmp_path / "modeles"
    write_templates(outdir)
    files = []
    for code in FILLED:
        template = (outdir / f"modele-{code}.csv").read_bytes()
        lines = [";".join(cell_text(v) for v in r) for r in in_template_order(code)]
        files.append((f"{code}-rempli.csv", template + "\r\n".join(lines).encode("utf-8") + b"\r\n"))
    db = tmp_path / "entrepot.duckdb"
    result = ingest_files(db, files)
    assert result.exit_code == 0, [m for f in result.files for t in f.tables for m in t.messages()]
    counts = table_counts(db)
    assert {code: counts[code] for code in FILLED} == {code: len(rows) for code, (_, rows) in FILLED.items()}
    _assert_values_in_warehouse(db)


def test_unfilled_templates_load_nothing(tmp_path):
    paths = write_templates(tmp_path / "modeles")
    db = tmp_path / "entrepot.duckdb"
    result = ingest_files(db, [(p.name, p.read_bytes()) for p in paths if p.suffix == ".csv"])
    # an untouched template is not « chargé »: it is said to hold no row, and the exit code is 1
    assert result.exit_code == 1
    assert {f.status for f in result.files} == {"vide"}
    assert all(f.batch_id is None for f in result.files)
    lines = report_lines(result)
    assert all("aucune ligne de données" in line for line in lines if line.startswith("modele-"))
    counts = table_counts(db)
    assert all(counts[code] == 0 for code in CATALOGUE.tables)


def _filled_workbook(monkeypatch) -> bytes:
    """The generated workbook as a site returns it: rows typed under the headers of each table sheet."""
    real_close = xlsxwriter.Workbook.close

    def close(book):
        date_format = book.add_format({"num_format": "dd/mm/yyyy"})
        for sheet in book.worksheets():
            if sheet.name not in FILLED:
                continue
            for i, values in enumerate(in_template_order(sheet.name), start=1):
                for j, value in enumerate(values):
                    if value is None:
                        continue
                    if isinstance(value, bool):
                        sheet.write_string(i, j, "oui" if value else "non")
                    elif isinstance(value, dt.date):
                        sheet.write_datetime(i, j, dt.datetime.combine(value, dt.time()), date_format)
                    elif isinstance(value, (int, float)):
                        sheet.write_number(i, j, value)
                    else:
                        sheet.write_string(i, j, value)
        return real_close(book)

    monkeypatch.setattr(xlsxwriter.Workbook, "close", close)
    data = xlsx_template(CATALOGUE)
    monkeypatch.undo()
    return data


def test_filled_xlsx_template_round_trips_through_ingest(tmp_path, monkeypatch):
    data = _filled_workbook(monkeypatch)
    assert pl.read_excel(io.BytesIO(data), sheet_name="activite").height == len(ACTIVITE_ROWS)
    db = tmp_path / "entrepot.duckdb"
    result = ingest_files(db, [(XLSX_NAME, data)])
    assert result.exit_code == 0, [m for f in result.files for t in f.tables for m in t.messages()]
    assert sorted(t.table.code for t in result.files[0].tables) == sorted(CATALOGUE.tables)
    _assert_values_in_warehouse(db)


def _assert_values_in_warehouse(db) -> None:
    from fsdash.warehouse.store import reader

    with reader(db) as con:
        assert con.sql(
            "SELECT site_id, code_commune, departement, date_labellisation, date_fermeture, latitude, "
            "ancienne_msap FROM sites ORDER BY 1"
        ).fetchall() == [(r[0], r[2], r[3], r[7], r[8], r[9], r[11]) for r in SITES_ROWS]
        assert con.sql(
            "SELECT site_id, annee, trimestre, usagers_accueillis, demandes, agents_etp "
            "FROM activite ORDER BY annee, trimestre, site_id"
        ).fetchall() == sorted(
            [(r[0], r[1], r[2], r[3], r[4], r[9]) for r in ACTIVITE_ROWS], key=lambda t: (t[1], t[2], t[0])
        )
        assert con.sql("SELECT sum(nb_demandes) FROM demandes_detail").fetchall() == [
            (sum(r[-1] for r in DETAIL_ROWS),)
        ]
        assert con.sql(
            "SELECT site_id, reponses_tres_satisfait, reponses_pas_satisfait FROM satisfaction_borne ORDER BY 1"
        ).fetchall() == [("FS001", 120, 5), ("FS003", 40, 1)]
        assert con.sql(
            "SELECT question, repondants, reponses_5, periode FROM enquete_annuelle ORDER BY 1"
        ).fetchall() == [("ACCUEIL", 50, 20, dt.date(2023, 1, 1)), ("RECOMMANDATION", 50, 30, dt.date(2023, 1, 1))]


def test_committed_dictionary_matches_the_catalogue():
    committed = (REPO_ROOT / "docs" / "indicateurs.md").read_text(encoding="utf-8")
    assert committed == dictionary_markdown(), "docs/indicateurs.md is out of date: run « python -m fsdash catalogue »"


def test_dictionary_lists_every_column_code_and_rule():
    text = dictionary_markdown()
    for table in CATALOGUE.tables.values():
        assert f"## Table `{table.code}`" in text
        for column in table.columns:
            assert f"| `{column.code}` |" in text, column.code
    for dim in CATALOGUE.dimensions.values():
        for code in dim.codes:
            assert f"| `{code}` |" in text
    for rule in CATALOGUE.rules:
        assert f"| `{rule.code}` |" in text


@pytest.mark.parametrize("table", list(CATALOGUE.tables))
def test_template_header_is_accepted_by_the_reader(table):
    from fsdash.readers import read_tables
    from fsdash.templates import csv_template

    (raw,) = read_tables(csv_template(CATALOGUE.table(table)), f"modele-{table}.csv", CATALOGUE)
    assert raw.table.code == table
    assert raw.ignored_columns == []
