"""The official ANCT list of structures read into the ``sites`` table, and its opening hours.

The small file ``fixtures/anct/liste-fs-20240901.csv`` is hand-made in the publisher's format
(UTF-8, ``,``, quoted). Its eight structures, and what each one checks:

====  ====  =================  =========  ==========================================  =====
id    line  format             type       hours                                        h/sem
====  ====  =================  =========  ==========================================  =====
101   2     Fixe               Principal  published form, Monday afternoon only        28.5
102   3     Fixe (La Poste)    Principal  closed Monday, Saturday morning              25
103   4-6   Bus_équivalent     Principal  address holding two newlines                 35
104   7-8   Multisites         Principal  00:00 placeholder, overlaps, repeated slot   16
105   9     Fixe_antenne(s)    Antenne    retyped: 9h00-12h00 ; 14h-17h, 09h-12h…      20.5
106   10    Itinérante         Antenne    no hours at all                              —
107   11    Fixe               Principal  « sur rendez-vous » on Tuesday: unreadable    —
108   12    Fixe (« La poste »)  Principal  six days                                   28
====  ====  =================  =========  ==========================================  =====

The real list (``../shared/reference/anct/liste-fs-20240801.csv``, 2,845 structures) is checked
against counts computed here independently, with the ``csv`` module and regular expressions.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import re
from pathlib import Path

import polars as pl
import pytest

from fsdash.network.anct import ANCT_COLUMNS, REQUIRED_COLUMNS, read_anct_list, snapshot_date
from fsdash.network.hours import HoursError, day_slots, weekly_hours
from fsdash.readers import LINE_COLUMN, ReadError
from fsdash.validation import ValidationContext, validate

from conftest import REPO_ROOT, SITES_HEADER, SITES_ROWS, TODAY, csv_bytes

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "anct" / "liste-fs-20240901.csv"
REAL_LIST = REPO_ROOT.parent / "shared" / "reference" / "anct" / "liste-fs-20240801.csv"
WEEK = ["h_lundi", "h_mardi", "h_mercredi", "h_jeudi", "h_vendredi", "h_samedi"]


def t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def context() -> ValidationContext:
    sites = pl.DataFrame(schema={"site_id": pl.String, "date_labellisation": pl.Date})
    return ValidationContext(sites=sites, totals={}, today=TODAY)


# --- hours ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, slots",
    [
        ("09:00 - 12:00 / 14:00 - 17:00", [("09:00", "12:00"), ("14:00", "17:00")]),
        ("13:30 - 17:00", [("13:30", "17:00")]),
        ("00:00 - 00:00", []),
        ("00:00 - 00:00 / 09:00 - 12:00", [("09:00", "12:00")]),
        ("00:00 - 00:00 / 00:00 - 00:00 / 08:30 - 16:00", [("08:30", "16:00")]),
        ("", []),
        ("   ", []),
        (None, []),
        ("9h00-12h00", [("09:00", "12:00")]),
        ("09h-12h", [("09:00", "12:00")]),
        ("09:00-12:00", [("09:00", "12:00")]),
        ("9H30 - 12H", [("09:30", "12:00")]),
        ("09:00-12:00;14:00-17:00", [("09:00", "12:00"), ("14:00", "17:00")]),
        ("09:00-12:00 , 14:00-17:00", [("09:00", "12:00"), ("14:00", "17:00")]),
        ("  09 : 00  -  12 : 00   /  14:00 -17:00 ", [("09:00", "12:00"), ("14:00", "17:00")]),
        ("9h à 12h et 14h à 17h", [("09:00", "12:00"), ("14:00", "17:00")]),
        ("14:00 - 17:00 / 09:00 - 12:00", [("09:00", "12:00"), ("14:00", "17:00")]),  # sorted
        # as published: repeated and overlapping slots are merged, never counted twice
        ("08:30 - 11:30 / 08:30 - 11:30", [("08:30", "11:30")]),
        ("09:00 - 12:00 / 09:00 - 16:30 / 14:00 - 16:30", [("09:00", "16:30")]),
        ("09:00 - 12:00 / 12:00 - 14:00", [("09:00", "14:00")]),
        ("18:00 - 24:00", [("18:00", "00:00")]),
    ],
)
def test_day_slots(text, slots):
    assert day_slots(text) == [(t(a), t(b)) for a, b in slots]


@pytest.mark.parametrize(
    "text, hours",
    [
        ("09:00 - 12:00 / 14:00 - 17:00", 6.0),
        ("13:30 - 17:00", 3.5),
        ("00:00 - 00:00", 0.0),
        ("00:00 - 00:00 / 09:00 - 12:00", 3.0),
        ("", 0.0),
        (None, 0.0),
        ("9h00-12h00", 3.0),
        ("09h-12h ; 13h30-16h45", 6.25),
        ("09:00 - 16:00 / 13:00 - 16:00", 7.0),  # overlap: the union, not 10 h
        ("08:45 - 10:15 / 10:30 - 11:30 / 10:30 - 12:00 / 13:30 - 14:30 / 15:00 - 16:15", 5.25),
        ("18:00 - 00:00", 6.0),  # until midnight
    ],
)
def test_day_hours(text, hours):
    """One day's hours: the union of its slots (a site open that day only)."""
    assert (weekly_hours({"lundi": text})[0] or 0.0) == pytest.approx(hours)


@pytest.mark.parametrize(
    "text",
    [
        "sur rendez-vous",
        "09:00",
        "09:00 - ",
        "09:00 - 12:00 - 14:00",
        "25:00 - 26:00",
        "9h75 - 12h",
        "14:00 - 12:00",
        "09:00 - 09:00",
        "matin / 14:00 - 17:00",
    ],
)
def test_unreadable_cell_is_refused_with_the_cell_quoted(text):
    with pytest.raises(ValueError) as info:
        day_slots(text)
    assert isinstance(info.value, HoursError)
    assert f"« {text} »" in str(info.value)
    assert "illisibles" in str(info.value)


def test_weekly_hours_totals_days_and_summary():
    cells = {
        "h_lundi": "13:30 - 17:00",
        "h_mardi": "09:00 - 12:00 / 13:30 - 17:00",
        "h_mercredi": "00:00 - 00:00",
        "h_jeudi": None,
        "h_vendredi": "09:00 - 12:00 / 13:30 - 16:00",
        "h_samedi": "",
    }
    hours, days, summary = weekly_hours(cells)
    assert hours == 3.5 + 6.5 + 5.5
    assert days == 3
    assert summary == "lun. 13:30-17:00 ; mar. 09:00-12:00 13:30-17:00 ; ven. 09:00-12:00 13:30-16:00"


def test_weekly_hours_follows_the_week_whatever_the_key_order_or_spelling():
    hours, days, summary = weekly_hours({"Samedi": "09:00-12:00", "lundi": "9h-12h", "mer": "14h-16h30"})
    assert (hours, days) == (8.5, 3)
    assert summary == "lun. 09:00-12:00 ; mer. 14:00-16:30 ; sam. 09:00-12:00"


@pytest.mark.parametrize(
    "cells",
    [
        {d: None for d in WEEK},
        {d: "" for d in WEEK},
        {d: "00:00 - 00:00" for d in WEEK},
        {},
    ],
)
def test_a_site_without_any_hours_publishes_none(cells):
    assert weekly_hours(cells) == (None, None, None)


def test_weekly_hours_names_the_unreadable_day():
    with pytest.raises(HoursError) as info:
        weekly_hours({"h_lundi": "09:00 - 12:00", "h_mardi": "fermé le matin"})
    assert info.value.day == "h_mardi"
    assert "« fermé le matin »" in str(info.value)


# --- snapshot date ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, date",
    [
        ("liste-fs-20240801.csv", dt.date(2024, 8, 1)),
        ("/tmp/téléchargements/liste-fs-20231215.csv", dt.date(2023, 12, 15)),
        ("liste-fs-2024-09-01.csv", dt.date(2024, 9, 1)),
        ("liste-fs.csv", None),
        ("liste-fs-20241341.csv", None),
        ("sites.csv", None),
    ],
)
def test_snapshot_date(name, date):
    assert snapshot_date(name) == date


# --- the hand-made list -----------------------------------------------------------------------


def utf8_bytes() -> bytes:
    return FIXTURE.read_bytes()


def bom_bytes() -> bytes:
    return b"\xef\xbb\xbf" + FIXTURE.read_bytes()


def french_excel_bytes() -> bytes:
    """The list opened and saved again by French Excel: cp1252, ``;``, CRLF, quotes only where
    needed, decimal commas, codes read as numbers (leading zeros lost), a trailing ``;;;`` line."""
    records = list(csv.reader(io.StringIO(FIXTURE.read_text(encoding="utf-8"), newline="")))
    header = records[0]
    buffer = io.StringIO()
    out = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    out.writerow(header)
    for record in records[1:]:
        row = dict(zip(header, record, strict=False))
        for column in ("latitude", "longitude"):
            row[column] = row[column].replace(".", ",")
        for column in ("insee_dep", "insee_com", "code_postal"):
            if row[column].isdigit():
                row[column] = str(int(row[column]))
        out.writerow([row[c] for c in header])
    out.writerow([""] * len(header))
    return buffer.getvalue().encode("cp1252")


def read(data: bytes, catalogue):
    return read_anct_list(data, FIXTURE.name, catalogue)


def test_hand_made_list_is_read_into_the_sites_shape(catalogue):
    raw, warnings = read(utf8_bytes(), catalogue)
    frame = raw.frame
    assert raw.table is catalogue.table("sites")
    assert frame.columns == [LINE_COLUMN, *[c.code for c in catalogue.table("sites").columns]]
    assert all(dtype == pl.String for name, dtype in frame.schema.items() if name != LINE_COLUMN)
    assert frame[LINE_COLUMN].to_list() == [2, 3, 4, 7, 9, 10, 11, 12]  # 103 spans 4-6, 104 spans 7-8
    assert frame["site_id"].to_list() == [str(i) for i in range(101, 109)]
    assert set(raw.ignored_columns) == {"lib_com", "mail", "telephone", "prise_rdv", "commentaire", "groupe_fs"}

    rows = {r["site_id"]: r for r in frame.iter_rows(named=True)}
    assert [rows[i]["format"] for i in sorted(rows)] == [
        "FIXE",
        "FIXE",
        "BUS",
        "MULTISITES",
        "FIXE_ANTENNES",
        "ITINERANT",
        "FIXE",
        "FIXE",
    ]
    assert [rows[i]["type_site"] for i in sorted(rows)] == ["PRINCIPAL"] * 4 + ["ANTENNE"] * 2 + ["PRINCIPAL"] * 2
    assert {i for i, r in rows.items() if r["la_poste"] == "oui"} == {"102", "108"}
    assert {i: r["porteur"] for i, r in rows.items() if r["porteur"]} == {"102": "LA_POSTE", "108": "LA_POSTE"}
    assert all(r["la_poste"] == "non" for i, r in rows.items() if i not in ("102", "108"))

    first = rows["101"]
    assert first["nom"] == "France services de Valserhône"
    assert (first["code_commune"], first["departement"], first["code_postal"]) == ("01033", "01", "01200")
    assert first["date_labellisation"] == "01/01/2020"
    assert (first["latitude"], first["longitude"]) == ("46.1060711578546", "5.8260084241619")
    assert first["horaires"] == (
        "lun. 13:30-17:00 ; mar. 09:00-12:00 13:30-17:00 ; mer. 09:00-12:00 13:30-17:00 ; "
        "jeu. 09:00-12:00 13:30-17:00 ; ven. 09:00-12:00 13:30-16:00"
    )
    assert (first["heures_ouverture_hebdo"], first["jours_ouverture_hebdo"]) == ("28.5", "5")
    assert all(first[c] is None for c in ("date_fermeture", "ancienne_msap", "heberge_etat", "porteur"))

    assert rows["103"]["adresse"] == "27 Avenue Robert Schuman, Parking de la mairie"
    assert rows["104"]["date_labellisation"] == "15/03/2021"
    assert rows["104"]["horaires"] == "lun. 09:00-12:00 14:00-17:00 ; mar. 09:00-16:00 ; mer. 08:30-11:30"
    assert {i: (r["heures_ouverture_hebdo"], r["jours_ouverture_hebdo"]) for i, r in rows.items()} == {
        "101": ("28.5", "5"),
        "102": ("25", "5"),
        "103": ("35", "5"),
        "104": ("16", "3"),
        "105": ("20.5", "5"),
        "106": (None, None),
        "107": (None, None),
        "108": ("28", "6"),
    }
    assert rows["106"]["horaires"] is None and rows["107"]["horaires"] is None
    assert (rows["105"]["code_commune"], rows["105"]["departement"]) == ("2A004", "2A")
    assert rows["106"]["departement"] == "974" and rows["106"]["latitude"] == "-21.0096"

    assert warnings == [
        "liste-fs-20240901.csv, ligne 11, colonne « h_mardi » : horaires « sur rendez-vous » illisibles : "
        "heure « sur rendez » inconnue (forme attendue « 09:00 - 12:00 / 14:00 - 17:00 ») "
        "— heures d'ouverture du site laissées vides"
    ]


@pytest.mark.parametrize("variant", [bom_bytes, french_excel_bytes])
def test_every_shape_of_the_file_gives_the_same_frame(catalogue, variant):
    reference, reference_warnings = read(utf8_bytes(), catalogue)
    raw, warnings = read(variant(), catalogue)
    assert raw.frame.equals(reference.frame), (raw.frame, reference.frame)
    assert warnings == reference_warnings


def test_french_excel_variant_really_is_cp1252_with_semicolons():
    data = french_excel_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("cp1252").splitlines()[1].startswith("101;1;France services de Valserhône;")
    assert "46,1060711578546" in data.decode("cp1252")


def test_hand_made_list_validates(catalogue):
    raw, _ = read(utf8_bytes(), catalogue)
    result = validate(raw, catalogue, context())
    assert result.failures.is_empty(), result.failures.to_dicts()
    valid = result.valid
    assert valid.height == 8
    assert valid.schema["heures_ouverture_hebdo"] == pl.Float64
    assert valid.filter(pl.col("site_id") == "101").row(0, named=True)["date_labellisation"] == dt.date(2020, 1, 1)
    assert valid["la_poste"].sum() == 2


def test_unknown_values_are_left_for_the_validator(catalogue):
    text = (
        FIXTURE.read_text(encoding="utf-8")
        .replace('"Bus_équivalent"', '"Péniche"')
        .replace('"Espace labellisé 15/03/2021"', '"Espace labellisé"')
    )
    raw, _ = read(text.encode("utf-8"), catalogue)
    rows = {r["site_id"]: r for r in raw.frame.iter_rows(named=True)}
    assert rows["103"]["format"] == "Péniche"
    assert rows["104"]["date_labellisation"] == "Espace labellisé"
    failures = validate(raw, catalogue, context()).failures
    assert set(zip(failures[LINE_COLUMN], failures["colonne"], strict=False)) == {
        (4, "format"),
        (7, "date_labellisation"),
    }


def test_another_shape_is_refused_naming_the_missing_columns(catalogue):
    data = csv_bytes(SITES_HEADER, SITES_ROWS)  # the registry template, not the ANCT list
    with pytest.raises(ReadError) as info:
        read_anct_list(data, "sites.csv", catalogue)
    message = str(info.value)
    assert message.startswith(
        "sites.csv : ce fichier n'a pas la forme de la liste des structures France Services ; colonnes manquantes : "
    )
    assert message.endswith(", ".join(c for c in REQUIRED_COLUMNS if c not in ("latitude", "longitude")))


def test_a_list_without_its_hours_columns_is_refused(catalogue):
    records = list(csv.DictReader(io.StringIO(FIXTURE.read_text(encoding="utf-8"), newline="")))
    kept = [c for c in ANCT_COLUMNS if c not in ("h_samedi", "type_fs")]
    data = csv_bytes(kept, [[r[c] for c in kept] for r in records], sep=",")
    with pytest.raises(ReadError, match=r"colonnes manquantes : h_samedi, type_fs$"):
        read_anct_list(data, "liste.csv", catalogue)


def test_optional_address_columns_may_be_absent(catalogue):
    records = list(csv.DictReader(io.StringIO(FIXTURE.read_text(encoding="utf-8"), newline="")))
    kept = [c for c in ANCT_COLUMNS if c not in ("adresse", "complement_adresse", "code_postal")]
    raw, _ = read_anct_list(csv_bytes(kept, [[r[c] for c in kept] for r in records]), "liste.csv", catalogue)
    assert raw.frame["adresse"].null_count() == raw.frame.height
    assert raw.frame["code_postal"].null_count() == raw.frame.height
    assert validate(raw, catalogue, context()).failures.is_empty()


def test_empty_file_is_refused(catalogue):
    with pytest.raises(ReadError, match="fichier vide"):
        read_anct_list(b"", "liste-fs-20240801.csv", catalogue)


# --- the real list ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_rows() -> list[dict[str, str]]:
    if not REAL_LIST.exists():
        pytest.skip(f"liste ANCT de référence absente ({REAL_LIST})")
    with open(REAL_LIST, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def real(real_rows):
    from fsdash.catalogue import load_catalogue

    catalogue = load_catalogue()
    raw, warnings = read_anct_list(REAL_LIST.read_bytes(), REAL_LIST.name, catalogue)
    return raw, warnings, validate(raw, catalogue, context())


_SLOT = re.compile(r"(\d\d):(\d\d) - (\d\d):(\d\d)")


def covered_minutes(cell: str) -> set[int]:
    """Minutes of the day covered by the cell's slots: a set, so repeats and overlaps count once."""
    assert _SLOT.sub("", cell).replace("/", "").strip() == "", cell  # every cell is in the published form
    minutes: set[int] = set()
    for h1, m1, h2, m2 in _SLOT.findall(cell):
        minutes |= set(range(int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)))
    return minutes


def test_real_list_is_read_whole(real, real_rows):
    raw, warnings, _ = real
    assert raw.frame.height == len(real_rows) == 2845
    assert raw.frame["site_id"].is_unique().all()
    assert raw.frame["site_id"].to_list() == [r["id_fs"] for r in real_rows]
    assert warnings == []  # every published hours cell is readable


def test_real_list_line_numbers(real):
    raw, _, _ = real
    lines = REAL_LIST.read_text(encoding="utf-8").split("\n")
    for line, site_id in raw.frame.select(LINE_COLUMN, "site_id").iter_rows():
        assert lines[line - 1].startswith(f'"{site_id}",'), (line, site_id)
    # records holding newlines shift the lines after them
    assert raw.frame[LINE_COLUMN][-1] > raw.frame.height + 1


def test_real_list_validates(real):
    _, _, result = real
    failures = result.failures.to_dicts()
    assert failures == [], "\n".join(f"ligne {f[LINE_COLUMN]}, {f['colonne']} : {f['message']}" for f in failures[:30])
    assert result.valid.height == 2845


def test_real_list_counts_by_format_and_type(real, real_rows):
    _, _, result = real
    formats = {
        "Fixe": "FIXE",
        "Multisites": "MULTISITES",
        "Bus_équivalent": "BUS",
        "Fixe_antenne(s)": "FIXE_ANTENNES",
        "Itinérante": "ITINERANT",
    }
    types = {"Principal": "PRINCIPAL", "Antenne": "ANTENNE"}
    expected = collections.Counter((formats[r["format_fs"]], types[r["type_fs"]]) for r in real_rows)
    got = collections.Counter(result.valid.select("format", "type_site").iter_rows())
    assert got == expected
    assert collections.Counter(result.valid["format"]) == collections.Counter(
        formats[r["format_fs"]] for r in real_rows
    )


def test_real_list_la_poste(real, real_rows):
    _, _, result = real
    expected = sum("la poste" in r["lib_fs"].lower() for r in real_rows)
    assert result.valid["la_poste"].sum() == expected
    assert (result.valid["porteur"] == "LA_POSTE").sum() == expected


def test_real_list_sites_under_the_charter_minimum(real, real_rows):
    """Charter 2.4 (24 h over five days), counted again with regexes and sets of minutes."""
    week_minutes = {}
    week_days = {}
    for r in real_rows:
        days = [covered_minutes(r[c]) for c in WEEK]
        if any(days):
            week_minutes[r["id_fs"]] = sum(len(d) for d in days)
            week_days[r["id_fs"]] = sum(1 for d in days if d)
    under_24h = {i for i, m in week_minutes.items() if m < 24 * 60}
    under_5_days = {i for i, d in week_days.items() if d < 5}

    valid = real[2].valid
    published = valid.filter(pl.col("heures_ouverture_hebdo").is_not_null())
    assert published.height == len(week_minutes)
    assert valid.filter(pl.col("heures_ouverture_hebdo").is_null()).height == len(real_rows) - len(week_minutes)
    assert set(published.filter(pl.col("heures_ouverture_hebdo") < 24)["site_id"]) == under_24h
    assert set(published.filter(pl.col("jours_ouverture_hebdo") < 5)["site_id"]) == under_5_days
    both = published.filter((pl.col("heures_ouverture_hebdo") < 24) & (pl.col("jours_ouverture_hebdo") < 5))
    assert set(both["site_id"]) == under_24h & under_5_days
    # and every site's total, to the minute
    totals = dict(
        published.select("site_id", (pl.col("heures_ouverture_hebdo") * 60).round().cast(pl.Int64)).iter_rows()
    )
    assert totals == week_minutes
