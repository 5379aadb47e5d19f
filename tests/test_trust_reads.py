"""Issue 11, item 3 — every bad file answered, nothing overwritten.

One test per case of the issue: a workbook's hidden sheet of stale rows, keys across the sheets and
files of one load, a closed site's activity, files a programme officer could not act on (ragged CSV,
GeoJSON, binary, CSV renamed ``.xlsx``, UTF-16, unreadable cells reported twice, empty files and
untouched templates, Excel's ``;;;;`` lines, duplicated headers), multi-line quoted cells and their
line numbers, control characters, site lists that erase known values or carry no date.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from fsdash.catalogue import load_catalogue
from fsdash.readers import LINE_COLUMN, ReadError, read_csv, read_tables
from fsdash.validation import describe_failure
from fsdash.warehouse.ingest import IngestRefused, import_site_list, report_lines
from fsdash.warehouse.store import reader, writer

from conftest import (
    ACTIVITE_HEADER,
    ACTIVITE_ROWS,
    SITES_HEADER,
    SITES_ROWS,
    TODAY,
    cell_text,
    csv_bytes,
    ingest_files,
)

CATALOGUE = load_catalogue()
ANCT_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "anct" / "liste-fs-20240901.csv"


def _sites_csv() -> bytes:
    return csv_bytes(SITES_HEADER, SITES_ROWS)


def _workbook(sheets: list[tuple[str, list[str], list[list[object]], bool]]) -> bytes:
    """An XLSX of (name, header, rows, hidden) sheets, cells as a site types them."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for name, header, rows, hidden in sheets:
        sheet = book.add_worksheet(name)
        for j, value in enumerate(header):
            sheet.write(0, j, value)
        for i, values in enumerate(rows, start=1):
            for j, value in enumerate(values):
                if value is not None:
                    sheet.write(i, j, cell_text(value))
        if hidden:
            sheet.hide()
    book.close()
    return buffer.getvalue()


def _current(db: Path, table: str = "activite") -> list[tuple]:
    with reader(db) as con:
        return con.sql(
            f"SELECT site_id, periode, usagers_accueillis FROM {table} WHERE is_current ORDER BY ALL"
        ).fetchall()


def _messages(result) -> list[str]:
    return [m for f in result.files for t in f.tables for m in t.messages()]


# --- workbooks: hidden sheets, keys across sheets and files ----------------------------------------


def test_hidden_sheet_of_stale_rows_changes_no_current_figure(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    assert ingest_files(db, [("sites.csv", _sites_csv())]).exit_code == 0
    stale = [[*r[:3], 1, *r[4:]] for r in ACTIVITE_ROWS]  # every usagers_accueillis = 1
    book = _workbook([("activite", ACTIVITE_HEADER, ACTIVITE_ROWS, False), ("ancien", ACTIVITE_HEADER, stale, True)])
    result = ingest_files(db, [("activite.xlsx", book)])
    assert result.exit_code == 0, _messages(result)
    figures = _current(db)
    assert sorted(r[2] for r in figures) == sorted(r[3] for r in ACTIVITE_ROWS)
    assert 1 not in [r[2] for r in figures]
    lines = report_lines(result)
    assert any("feuille « ancien » : feuille masquée, ignorée" in line for line in lines), lines
    with reader(db) as con:
        assert con.sql("SELECT max(revision) FROM activite").fetchall()[0][0] == 1


def test_a_key_in_two_visible_sheets_is_rejected_in_the_second_naming_the_first(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    ingest_files(db, [("sites.csv", _sites_csv())])
    stale = [[*ACTIVITE_ROWS[0][:3], 1, *ACTIVITE_ROWS[0][4:]]]
    book = _workbook(
        [("activite", ACTIVITE_HEADER, ACTIVITE_ROWS, False), ("activite bis", ACTIVITE_HEADER, stale, False)]
    )
    result = ingest_files(db, [("activite.xlsx", book)])
    assert result.exit_code == 1
    assert 1 not in [r[2] for r in _current(db)]
    (second,) = [t for t in result.files[0].tables if t.where.endswith("« activite bis »")]
    assert second.rows_rejected == 1
    (message,) = second.messages()
    assert message.startswith("activite.xlsx, feuille « activite bis », ligne 2 : la même clé (site_id=FS001")
    assert "(activite.xlsx, feuille « activite »)" in message and message.endswith("[cle_unique_chargement]")


def test_a_site_quarter_in_two_files_of_one_load_is_not_overwritten(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    ingest_files(db, [("sites.csv", _sites_csv())])
    later = [[*r[:3], r[3] + 1, *r[4:]] for r in ACTIVITE_ROWS[:1]]
    result = ingest_files(
        db, [("a.csv", csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS)), ("b.csv", csv_bytes(ACTIVITE_HEADER, later))]
    )
    assert result.exit_code == 1
    assert ("FS001", dt.date(2023, 10, 1), ACTIVITE_ROWS[0][3]) in _current(db)
    b = next(f for f in result.files if f.file_name == "b.csv")
    assert b.tables[0].failures["regle"].to_list() == ["cle_unique_chargement"]


# --- a closed site ---------------------------------------------------------------------------------


def test_activity_of_a_closed_site_after_its_closure_is_rejected(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    ingest_files(db, [("sites.csv", _sites_csv())])  # FS002 closed on 30/06/2024
    rows = [
        ["FS002", 2024, 2, 900, 1000, 160, 45, 44, 2, 2.0, 2, 26.5, 5, 1, 0],  # ends on the closure: kept
        ["FS002", 2024, 3, 900, 1000, 160, 45, 44, 2, 2.0, 2, 26.5, 5, 1, 0],  # after it: rejected
    ]
    result = ingest_files(db, [("activite.csv", csv_bytes(ACTIVITE_HEADER, rows))])
    assert result.exit_code == 1
    assert _current(db) == [("FS002", dt.date(2024, 4, 1), 900)]
    (message,) = result.files[0].tables[0].messages()
    assert message == (
        "activite.csv, ligne 3, colonne « trimestre » : la période déclarée commence après la fermeture du site "
        "(30/06/2024) : un site fermé ne déclare plus d'activité [periode_avant_fermeture]"
    )
    with reader(db) as con:
        assert con.sql("SELECT sum(demandes) FROM activite WHERE is_current").fetchall()[0][0] == 1000


# --- files a programme officer can act on ----------------------------------------------------------


def _refusal(data: bytes, name: str) -> str:
    with pytest.raises(ReadError) as err:
        read_tables(data, name, CATALOGUE)
    return str(err.value)


def test_ragged_csv_names_the_line_in_french() -> None:
    data = b"site_id;annee;trimestre\nFS001;2024;1\nFS001;2024;2;oups\n"
    message = _refusal(data, "activite.csv")
    assert message.startswith("activite.csv : structure CSV illisible, ligne 3 : 4 cellules alors que l'en-tête en a 3")
    assert "Consider" not in message and "truncate_ragged_lines" not in message


def test_geojson_binary_and_renamed_files_are_refused_in_french() -> None:
    geojson = b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null}]}\n'
    assert _refusal(geojson, "sites.geojson").startswith("sites.geojson : format non pris en charge")
    assert "colonnes manquantes" in _refusal(geojson, "sites.csv")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    assert (
        _refusal(png, "activite.csv")
        == "activite.csv : ce fichier est une image PNG, pas un tableau CSV (contenu binaire)"
    )
    xlsx_as_csv = _workbook([("activite", ACTIVITE_HEADER, ACTIVITE_ROWS, False)])
    assert "un classeur XLSX ou une archive ZIP" in _refusal(xlsx_as_csv, "activite.csv")
    renamed = _refusal(csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS), "activite.xlsx")
    assert renamed.startswith(
        "activite.xlsx : ce n'est pas un classeur Excel, c'est un fichier texte (un CSV renommé ?)"
    )
    broken = _refusal(b"PK\x03\x04" + b"\x00" * 200, "activite.xlsx")
    assert broken.startswith("activite.xlsx : classeur Excel illisible") and "calamine" not in broken


def test_random_bytes_are_refused_naming_the_encodings_tried() -> None:
    garbage = bytes((i * 97 + 13) % 256 for i in range(3000))
    message = _refusal(garbage, "activite.csv")
    assert (
        "encodages essayés : UTF-8, UTF-16, Windows-1252" in message
        or "essayés : UTF-8, UTF-16, Windows-1252" in message
    )


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_decoded(codec: str) -> None:
    text = csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS).decode("utf-8")
    (raw,) = read_tables(text.encode(codec), "activite.csv", CATALOGUE)
    assert raw.table.code == "activite" and raw.frame.height == len(ACTIVITE_ROWS)
    (as_utf8,) = read_tables(text.encode("utf-8"), "activite.csv", CATALOGUE)
    assert raw.frame.equals(as_utf8.frame)


def test_cp1252_file_with_wrong_columns_names_its_encoding() -> None:
    data = "site;année\nFS001;2024\n".encode("cp1252")
    assert _refusal(data, "x.csv").endswith("; fichier lu en Windows-1252, séparateur « ; »")


def test_an_unreadable_mandatory_cell_is_reported_once(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    ingest_files(db, [("sites.csv", _sites_csv())])
    rows = [[*ACTIVITE_ROWS[0][:3], "mille", *ACTIVITE_ROWS[0][4:]]]
    result = ingest_files(db, [("activite.csv", csv_bytes(ACTIVITE_HEADER, rows))])
    failures = result.files[0].tables[0].failures
    assert failures.select("colonne", "regle").rows() == [("usagers_accueillis", "format")]


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_refused_saying_no_line(data: bytes, tmp_path: Path) -> None:
    with pytest.raises(IngestRefused) as err:
        ingest_files(tmp_path / "w.duckdb", [("activite.csv", data)])
    assert err.value.messages[0] == "activite.csv : fichier vide, aucune ligne à charger"


def test_a_header_only_file_is_said_empty_and_exits_1(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    ingest_files(db, [("sites.csv", _sites_csv())])
    result = ingest_files(db, [("activite.csv", csv_bytes(ACTIVITE_HEADER, [[None] * len(ACTIVITE_HEADER)] * 3))])
    assert result.exit_code == 1 and result.files[0].status == "vide"
    assert (
        report_lines(result)[0] == "activite.csv : aucune ligne de données (modèle non rempli ?) : rien n'a été chargé"
    )
    with reader(db) as con:
        assert con.sql("SELECT count(*) FROM batches WHERE file_name = 'activite.csv'").fetchall()[0][0] == 0


def test_excel_trailing_separator_lines_are_dropped_not_rejected(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    ingest_files(db, [("sites.csv", _sites_csv())])
    data = csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS) + (b";" * (len(ACTIVITE_HEADER) - 1) + b"\r\n") * 4
    result = ingest_files(db, [("activite.csv", data)])
    assert result.exit_code == 0, _messages(result)
    assert result.files[0].tables[0].rows_read == len(ACTIVITE_ROWS)
    assert not any("None" in m for m in _messages(result))


def test_blank_rows_in_a_sheet_keep_the_sheet_row_numbers(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    ingest_files(db, [("sites.csv", _sites_csv())])
    bad = [*ACTIVITE_ROWS[0][:3], "mille", *ACTIVITE_ROWS[0][4:]]
    book = _workbook([("activite", ACTIVITE_HEADER, [ACTIVITE_ROWS[1], [None] * len(ACTIVITE_HEADER), bad], False)])
    result = ingest_files(db, [("a.xlsx", book)])
    messages = _messages(result)
    assert messages[0].startswith(
        "a.xlsx, feuille « activite », ligne 4, colonne « usagers_accueillis » : valeur « mille »"
    )


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_duplicated_header_is_refused_naming_both_columns(kind: str) -> None:
    header = [*ACTIVITE_HEADER, "Demandes"]
    rows = [[*r, 1] for r in ACTIVITE_ROWS]
    if kind == "csv":
        message = _refusal(csv_bytes(header, rows), "activite.csv")
        assert message.startswith("activite.csv, ligne 1 : ")
    else:
        message = _refusal(_workbook([("activite", header, rows, False)]), "activite.xlsx")
        assert message.startswith("activite.xlsx, feuille « activite » : ")
    assert (
        "les colonnes « demandes » (n° 5) et « Demandes » (n° 16) désignent toutes deux la colonne « demandes »"
        in message
    )


def test_the_line_of_a_row_after_a_multi_line_quoted_address_is_the_file_line() -> None:
    header = ["site_id", "nom", "code_commune", "departement", "format", "type_site", "date_labellisation", "adresse"]
    text = (
        ";".join(header) + "\n"
        'FS001;Bourg;01053;01;FIXE;PRINCIPAL;15/11/2019;"12 rue de la Paix\nBâtiment B\n2e étage"\n'
        "FS002;Oyonnax;01283;01;FIXE;PRINCIPAL;pas une date;\n"
    )
    (raw,) = read_tables(text.encode("utf-8"), "sites.csv", CATALOGUE)
    assert raw.frame[LINE_COLUMN].to_list() == [2, 5]
    assert raw.frame["adresse"][0] == "12 rue de la Paix\nBâtiment B\n2e étage"
    from fsdash.validation import ValidationContext, validate

    context = ValidationContext(pl.DataFrame(schema={"site_id": pl.String, "date_labellisation": pl.Date}), {}, TODAY)
    result = validate(raw, CATALOGUE, context)
    (failure,) = result.failures.iter_rows(named=True)
    assert describe_failure(raw.where, failure).startswith("sites.csv, ligne 5, colonne « date_labellisation »")


def test_control_characters_are_stripped_from_text(tmp_path: Path) -> None:
    rows = [list(r) for r in SITES_ROWS]
    rows[0][1] = "Maison\x00 France\x07 Services"
    data = csv_bytes(SITES_HEADER, rows)
    assert b"\x00" in data
    db = tmp_path / "w.duckdb"
    assert ingest_files(db, [("sites.csv", data)]).exit_code == 0
    with reader(db) as con:
        assert con.sql("SELECT nom FROM sites WHERE site_id = 'FS001'").fetchall() == [("Maison France Services",)]
    assert read_csv(data.decode().encode("utf-16"), "s.csv").frame["nom"][0] == "Maison France Services"


# --- site lists --------------------------------------------------------------------------------------


def _import(db: Path, name: str, data: bytes, **kwargs):
    with writer(db) as con:
        return import_site_list(con, name, data, today=TODAY, **kwargs)


def test_a_list_without_date_in_its_name_is_refused_unless_dated(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    data = ANCT_FIXTURE.read_bytes()
    with pytest.raises(IngestRefused) as err:
        _import(db, "liste.csv", data)
    assert err.value.messages[0].startswith("liste.csv : la date de la liste ne figure pas dans le nom du fichier")
    assert "--date AAAA-MM-JJ" in err.value.messages[0]
    assert _import(db, "liste.csv", data, list_date=dt.date(2024, 9, 1)).files[0].status == "accepte"
    # the properly dated list of a later date is not blocked
    assert _import(db, "liste-fs-20241001.csv", data).files[0].status in ("accepte", "deja_charge")


def test_empty_optional_cells_of_a_list_keep_known_values_and_say_so(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    first = _import(db, "liste-fs-20240901.csv", ANCT_FIXTURE.read_bytes())
    assert first.files[0].status == "accepte"
    with reader(db) as con:
        before = con.sql(
            "SELECT site_id, horaires, heures_ouverture_hebdo, code_postal FROM sites ORDER BY site_id"
        ).fetchall()
    frame = pl.read_csv(ANCT_FIXTURE, infer_schema=False)
    emptied = frame.with_columns(
        pl.lit(None, pl.String).alias(c)
        for c in ["h_lundi", "h_mardi", "h_mercredi", "h_jeudi", "h_vendredi", "h_samedi", "code_postal"]
    )
    buffer = io.BytesIO()
    emptied.write_csv(buffer, quote_style="always")
    later = _import(db, "liste-fs-20241001.csv", buffer.getvalue())
    with reader(db) as con:
        after = con.sql(
            "SELECT site_id, horaires, heures_ouverture_hebdo, code_postal FROM sites ORDER BY site_id"
        ).fetchall()
    assert after == before
    known_hours = sum(1 for r in before if r[1] is not None)
    known_postcodes = sum(1 for r in before if r[3] is not None)
    (warning,) = [w for w in later.warnings if "valeurs connues" in w]
    assert warning.startswith("liste-fs-20241001.csv : cellules vides dans la liste, valeurs connues d'une liste")
    assert f"horaires ({known_hours} site" in warning
    assert f"code postal ({known_postcodes} site" in warning


def test_cli_import_sites_refuses_an_unreadable_date(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "fsdash",
            "import-sites",
            "--db",
            str(tmp_path / "w.duckdb"),
            "--date",
            "01/09/2024",
            str(ANCT_FIXTURE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "date illisible (AAAA-MM-JJ attendu)" in out.stderr and "Traceback" not in out.stderr
