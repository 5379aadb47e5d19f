"""Reading users' files: encodings, separators, French numbers, headers, XLSX, Parquet, refusals."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
import xlsxwriter

from fsdash.readers import LINE_COLUMN, ReadError, normalise_header, read_tables
from fsdash.templates import xlsx_template
from fsdash.validation import ValidationContext, validate

from conftest import ACTIVITE_HEADER, ACTIVITE_ROWS, SITES_HEADER, SITES_ROWS, TODAY, csv_bytes


def context() -> ValidationContext:
    sites = pl.DataFrame(
        {"site_id": ["FS001", "FS002", "FS003", "FS004"], "date_labellisation": [r[7] for r in SITES_ROWS]}
    )
    return ValidationContext(sites=sites, totals={}, today=TODAY)


def read_one(data: bytes, name: str, catalogue):
    tables = read_tables(data, name, catalogue)
    assert len(tables) == 1
    return tables[0]


def typed(raw, catalogue) -> pl.DataFrame:
    """Validated rows; fails the test if any row was rejected."""
    result = validate(raw, catalogue, context())
    assert result.failures.is_empty(), result.failures.to_dicts()
    return result.valid


# --- encodings × separators -------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "cp1252"]
SEPARATORS = [",", ";"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("sep", SEPARATORS)
def test_every_encoding_and_separator_reads_the_same_values(encoding, sep, catalogue):
    data = csv_bytes(SITES_HEADER, SITES_ROWS, encoding=encoding, sep=sep)
    if encoding == "cp1252":
        assert "ê".encode("cp1252") in data and "ê".encode() not in data  # really Windows-1252
    if encoding == "utf-8-sig":
        assert data.startswith(b"\xef\xbb\xbf")
    raw = read_one(data, "sites.csv", catalogue)
    assert raw.table.code == "sites"
    assert raw.frame.columns[0] == LINE_COLUMN
    assert raw.frame["site_id"].to_list() == ["FS001", "FS002", "FS003", "FS004"]  # no BOM glued to it
    assert raw.frame["nom"].to_list() == [r[1] for r in SITES_ROWS]
    assert raw.frame["latitude"].to_list() == ["46,2052", "46,2561", "41,9192", None]
    assert raw.frame[LINE_COLUMN].to_list() == [2, 3, 4, 5]

    reference = read_one(csv_bytes(SITES_HEADER, SITES_ROWS), "ref.csv", catalogue)
    assert raw.frame.equals(reference.frame)
    valid = typed(raw, catalogue)
    assert valid["nom"].to_list() == [r[1] for r in SITES_ROWS]
    assert valid["latitude"].to_list() == [46.2052, 46.2561, 41.9192, None]
    assert valid["date_labellisation"].to_list() == [r[7] for r in SITES_ROWS]
    assert valid["date_fermeture"].to_list() == [None, dt.date(2024, 6, 30), None, None]
    assert valid["ancienne_msap"].to_list() == [True, False, False, None]
    assert valid["departement"].to_list() == ["01", "01", "2A", "2A"]  # leading zero kept
    assert valid["code_commune"].to_list() == ["01053", "01283", "2A004", "2A247"]


@pytest.mark.parametrize("line_end", ["\r\n", "\n"])
def test_line_endings(line_end, catalogue):
    raw = read_one(csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS, line_end=line_end), "a.csv", catalogue)
    assert raw.frame["site_id"].to_list() == [r[0] for r in ACTIVITE_ROWS]
    assert raw.frame["fermetures_annoncees_7j"].to_list() == [str(r[-1]) for r in ACTIVITE_ROWS]


# --- French numbers ---------------------------------------------------------------------------

NUMBER_HEADER = [
    "site_id",
    "annee",
    "trimestre",
    "usagers_accueillis",
    "demandes",
    "agents_accueil",
    "agents_etp",
    "heures_ouverture_hebdo",
    "jours_ouverture_hebdo",
]


@pytest.mark.parametrize(
    "encoding, spaces",
    [
        ("utf-8", [" ", "\u00a0", "\u202f"]),
        ("utf-8-sig", [" ", "\u00a0", "\u202f"]),
        ("cp1252", [" ", "\u00a0"]),  # U+202F does not exist in Windows-1252
    ],
)
def test_decimal_commas_and_thousands_separators(encoding, spaces, catalogue):
    rows = []
    for i, space in enumerate(spaces):
        rows.append(["FS001", 2023, 1 + i, f"1{space}234", f"12{space}345", "3", "2,5", "35,75", "5"])
    rows.append(["FS002", 2023, 1, "1234", "12345", "3", "2.5", "35.75", "5"])  # dots also accepted
    for sep in SEPARATORS:
        raw = read_one(csv_bytes(NUMBER_HEADER, rows, encoding=encoding, sep=sep), "n.csv", catalogue)
        valid = typed(raw, catalogue)
        assert valid.height == len(rows)
        assert valid["usagers_accueillis"].to_list() == [1234] * len(rows)
        assert valid["demandes"].to_list() == [12345] * len(rows)
        assert valid["agents_etp"].to_list() == [2.5] * len(rows)
        assert valid["heures_ouverture_hebdo"].to_list() == [35.75] * len(rows)
        assert valid["usagers_accueillis"].dtype == pl.Int64
        assert valid["agents_etp"].dtype == pl.Float64


def test_integer_written_with_decimal_zero_is_accepted(catalogue):
    rows = [["FS001", 2023, 1, "1200,0", "1500,00", "3", "2", "30", "5"]]
    valid = typed(read_one(csv_bytes(NUMBER_HEADER, rows), "n.csv", catalogue), catalogue)
    assert valid["usagers_accueillis"].to_list() == [1200]
    assert valid["demandes"].to_list() == [1500]


# --- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed_header, code",
    [
        ("Usagers accueillis ", "usagers_accueillis"),
        ("ANNÉE", "annee"),
        (" Année", "annee"),
        ("Site ID", "site_id"),
        ("Heures-Ouverture-Hebdo", "heures_ouverture_hebdo"),
        ("Courriels répondus 72h", "courriels_repondus_72h"),
    ],
)
def test_normalise_header(typed_header, code):
    assert normalise_header(typed_header) == code


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_headers_retyped_with_accents_capitals_and_spaces_match(encoding, catalogue):
    header = [
        " Site_ID ",
        "ANNÉE",
        "Trimestre ",
        "Usagers accueillis",
        "Demandes",
        "Agents Accueil",
        "Agents ETP",
        "Heures ouverture hebdo",
        "Jours-Ouverture-Hebdo",
        "Commentaire libre",
    ]
    rows = [["FS001", 2024, 1, 1300, 1600, 3, 2.5, 30.0, 5, "RAS"]]
    raw = read_one(csv_bytes(header, rows, encoding=encoding), "activité.csv", catalogue)
    assert raw.table.code == "activite"
    assert raw.ignored_columns == ["commentaire_libre"]
    valid = typed(raw, catalogue)
    row = valid.row(0, named=True)
    assert (
        row["site_id"],
        row["annee"],
        row["trimestre"],
        row["usagers_accueillis"],
        row["demandes"],
        row["agents_etp"],
        row["heures_ouverture_hebdo"],
    ) == ("FS001", 2024, 1, 1300, 1600, 2.5, 30.0)


# --- XLSX ---------------------------------------------------------------------------------------


def _workbook(sheets: dict[str, tuple[list[str], list[list[object]]]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    for name, (header, rows) in sheets.items():
        sheet = book.add_worksheet(name)
        for j, title in enumerate(header):
            sheet.write_string(0, j, title)
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, bool):
                    sheet.write_boolean(i, j, value)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(i, j, dt.datetime.combine(value, dt.time()), date_format)
                elif isinstance(value, (int, float)):
                    sheet.write_number(i, j, value)
                else:
                    sheet.write_string(i, j, value)
    book.close()
    return buffer.getvalue()


def test_xlsx_with_several_sheets(catalogue):
    data = _workbook(
        {
            "Notes": (["Remarques de la préfecture"], [["à relire"]]),
            "sites": (SITES_HEADER, SITES_ROWS),
            "Activité T4": (ACTIVITE_HEADER, ACTIVITE_ROWS),
        }
    )
    tables = read_tables(data, "reporting.xlsx", catalogue)
    assert [(t.table.code, t.sheet) for t in tables] == [("sites", "sites"), ("activite", "Activité T4")]
    sites, activite = tables
    assert sites.where == "reporting.xlsx, feuille « sites »"
    assert sites.frame[LINE_COLUMN].to_list() == [2, 3, 4, 5]

    valid_sites = typed(sites, catalogue)
    assert valid_sites["date_labellisation"].to_list() == [r[7] for r in SITES_ROWS]
    assert valid_sites["latitude"].to_list() == [46.2052, 46.2561, 41.9192, None]
    assert valid_sites["code_commune"].to_list() == ["01053", "01283", "2A004", "2A247"]
    assert valid_sites["ancienne_msap"].to_list() == [True, False, False, None]

    valid_act = typed(activite, catalogue)
    assert valid_act["usagers_accueillis"].to_list() == [r[3] for r in ACTIVITE_ROWS]
    assert valid_act["agents_etp"].to_list() == [r[9] for r in ACTIVITE_ROWS]
    assert valid_act["trimestre"].to_list() == [r[2] for r in ACTIVITE_ROWS]


def test_xlsx_sheet_named_like_a_table_with_missing_columns_is_refused(catalogue):
    data = _workbook({"activite": (["site_id", "annee", "trimestre"], [["FS001", 2024, 1]])})
    with pytest.raises(ReadError) as err:
        read_tables(data, "r.xlsx", catalogue)
    message = str(err.value)
    assert "feuille « activite »" in message and "usagers_accueillis" in message


def test_xlsx_without_any_table_is_refused(catalogue):
    data = _workbook({"Feuil1": (["a", "b"], [["1", "2"]])})
    with pytest.raises(ReadError, match="aucune feuille"):
        read_tables(data, "r.xlsx", catalogue)


def test_generated_xlsx_template_is_readable_and_documentation_sheets_are_skipped(catalogue):
    """The workbook handed to sites must come back through the reader: one table per sheet."""
    tables = read_tables(xlsx_template(catalogue), "modele-reporting-france-services.xlsx", catalogue)
    assert sorted(t.table.code for t in tables) == sorted(catalogue.tables)
    assert all(t.sheet == t.table.code for t in tables)
    assert not {"Lisez-moi", "Listes"} & {t.sheet for t in tables}
    assert all(t.frame.height == 0 for t in tables)


# --- Parquet ----------------------------------------------------------------------------------


def test_parquet_typed_columns_are_read(catalogue):
    frame = pl.DataFrame(
        [dict(zip(ACTIVITE_HEADER, row, strict=False)) for row in ACTIVITE_ROWS],
        schema_overrides={"agents_etp": pl.Float64, "heures_ouverture_hebdo": pl.Float64},
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    raw = read_one(buffer.getvalue(), "activite.parquet", catalogue)
    assert raw.table.code == "activite"
    valid = typed(raw, catalogue)
    for column in ACTIVITE_HEADER:
        assert valid[column].to_list() == frame[column].to_list(), column


def test_parquet_sites_with_dates_and_booleans(catalogue):
    frame = pl.DataFrame(
        [dict(zip(SITES_HEADER, row, strict=False)) for row in SITES_ROWS],
        schema_overrides={"latitude": pl.Float64, "longitude": pl.Float64},
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    valid = typed(read_one(buffer.getvalue(), "sites.parquet", catalogue), catalogue)
    for column in SITES_HEADER:
        assert valid[column].to_list() == frame[column].to_list(), column


def test_unreadable_parquet_is_refused(catalogue):
    with pytest.raises(ReadError, match="Parquet illisible"):
        read_tables(b"PAR1 not really", "x.parquet", catalogue)


# --- refusals ---------------------------------------------------------------------------------


def test_file_in_another_shape_is_refused_naming_the_missing_columns(catalogue):
    header = [c for c in ACTIVITE_HEADER if c not in ("demandes", "agents_etp")]
    rows = [[v for c, v in zip(ACTIVITE_HEADER, r, strict=False) if c in header] for r in ACTIVITE_ROWS]
    with pytest.raises(ReadError) as err:
        read_tables(csv_bytes(header, rows), "activite_T4.csv", catalogue)
    message = str(err.value)
    assert message.startswith("activite_T4.csv : colonnes manquantes pour la table « activite »")
    assert message.endswith(": demandes, agents_etp")


def test_unrelated_file_is_refused(catalogue):
    with pytest.raises(ReadError, match="colonnes manquantes"):
        read_tables("nom;prénom\nDupont;Jean\n".encode("cp1252"), "annuaire.csv", catalogue)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b"   "])
def test_empty_file_is_refused(data, catalogue):
    with pytest.raises(ReadError, match="vide"):
        read_tables(data, "vide.csv", catalogue)


def test_ragged_csv_is_refused_with_a_read_error(catalogue):
    # decimal comma in a comma-separated file, unquoted: one field too many
    data = (
        b"site_id,annee,trimestre,reponses_tres_satisfait,reponses_satisfait,reponses_peu_satisfait,"
        b"reponses_pas_satisfait\nFS001,2024,1,1,2,3,4,5\n"
    )
    with pytest.raises(ReadError, match="structure CSV illisible"):
        read_tables(data, "borne.csv", catalogue)


def test_unsupported_format_is_refused(catalogue):
    with pytest.raises(ReadError, match="format non pris en charge"):
        read_tables(b"%PDF-1.4", "rapport.pdf", catalogue)


def test_control_characters_are_stripped_from_a_parquet_file_s_text():
    """A Parquet or a sheet may hold NUL bytes in its cells: looked for among each column's distinct
    values, removed from every row that has them, every other cell untouched."""
    from fsdash.readers import read_parquet

    names = ["Maison\x00 France\x07 Services", "Bus\x1f de la Creuse", "Antenne", "Maison\x00 France\x07 Services"]
    buffer = io.BytesIO()
    pl.DataFrame({"nom": names, "code": ["A\x7f", "B", "C\tD", None], "n": [1, 2, 3, 4]}).write_parquet(buffer)
    frame = read_parquet(buffer.getvalue(), "sites.parquet")
    assert frame["nom"].to_list() == ["Maison France Services", "Bus de la Creuse", "Antenne", "Maison France Services"]
    assert frame["code"].to_list() == ["A", "B", "C\tD", None]  # a tab is text
    clean = io.BytesIO()
    pl.DataFrame({"nom": ["Antenne"], "n": [1]}).write_parquet(clean)
    assert read_parquet(clean.getvalue(), "sites.parquet")["nom"].to_list() == ["Antenne"]
