"""Importing the official list of France Services: upsert, history, closures, order of lists."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fsdash.metrics.network import sites_labelled_at
from fsdash.metrics.scope import NATIONAL
from fsdash.warehouse.ingest import IngestRefused, import_site_list
from fsdash.warehouse.store import reader, writer

from conftest import REPO_ROOT, sha256_file, table_counts

TODAY = dt.date(2024, 11, 27)
REAL_LIST = REPO_ROOT.parent / "shared" / "reference" / "anct" / "liste-fs-20240801.csv"
HEADER = [
    "id_fs",
    "insee_dep",
    "lib_fs",
    "adresse",
    "complement_adresse",
    "insee_com",
    "code_postal",
    "lib_com",
    "latitude",
    "longitude",
    "mail",
    "telephone",
    "h_lundi",
    "h_mardi",
    "h_mercredi",
    "h_jeudi",
    "h_vendredi",
    "h_samedi",
    "prise_rdv",
    "commentaire",
    "type_fs",
    "format_fs",
    "groupe_fs",
    "labellisation_fs",
]
WEEK = ["09:00 - 12:00 / 14:00 - 17:00"] * 5 + [""]  # 30 h over 5 days


def structure(
    id_fs: str,
    dep: str,
    commune: str,
    name: str,
    label: str,
    *,
    hours: list[str] = WEEK,
    fmt: str = "Fixe",
    kind: str = "Principal",
    lat: float = 46.2,
    lon: float = 5.2,
) -> dict:
    row = dict.fromkeys(HEADER, "")
    row.update(
        id_fs=id_fs,
        insee_dep=dep,
        lib_fs=name,
        adresse="1 place de la Mairie",
        insee_com=commune,
        code_postal=("20" if commune[:2] in ("2A", "2B") else commune[:2]) + "000",
        lib_com=name,
        latitude=str(lat),
        longitude=str(lon),
        type_fs=kind,
        format_fs=fmt,
        labellisation_fs=f"Espace labellisé {label}",
        prise_rdv="Non",
    )
    for day, cell in zip(["h_lundi", "h_mardi", "h_mercredi", "h_jeudi", "h_vendredi", "h_samedi"], hours, strict=True):
        row[day] = cell
    return row


def list_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer_ = csv.DictWriter(out, fieldnames=HEADER, quoting=csv.QUOTE_NONNUMERIC)
    writer_.writeheader()
    writer_.writerows(rows)
    return out.getvalue().encode("utf-8")


JANUARY = [
    structure("1", "01", "01053", "France services de Bourg-en-Bresse", "01/01/2020"),
    structure("2", "01", "01283", "France services La Poste d'Oyonnax", "01/02/2020", lat=46.25, lon=5.65),
    structure("3", "2A", "2A004", "France services d'Ajaccio", "01/09/2021", lat=41.92, lon=8.74),
]
AUGUST = [
    structure(
        "1", "01", "01053", "France services de Bourg-en-Bresse", "01/01/2020", hours=["09:00 - 12:00"] * 5 + [""]
    ),  # hours cut to 15 h
    structure("3", "2A", "2A004", "France services d'Ajaccio", "01/09/2021", lat=41.92, lon=8.74),
    structure(
        "4",
        "2B",
        "2B033",
        "Bus France services de Bastia",
        "01/04/2024",
        fmt="Bus_équivalent",
        hours=[""] * 6,
        lat=42.70,
        lon=9.45,
    ),
]


def load(db: Path, name: str, rows: list[dict]):
    with writer(db) as con:
        return import_site_list(con, name, list_bytes(rows), today=TODAY)


def history(db: Path) -> list[tuple]:
    with reader(db) as con:
        return con.sql("SELECT site_id, event, event_date FROM site_history ORDER BY site_id, event").fetchall()


def test_first_list_labels_every_structure(db_path):
    result = load(db_path, "liste-fs-20240101.csv", JANUARY)
    assert result.exit_code == 0
    with reader(db_path) as con:
        rows = con.sql(
            "SELECT site_id, format, type_site, porteur, la_poste, heures_ouverture_hebdo, "
            "jours_ouverture_hebdo, region, source FROM sites ORDER BY site_id"
        ).fetchall()
        lists = con.sql("SELECT list_date, sites, new_sites, closed_sites FROM site_lists").fetchall()
    assert rows == [
        ("1", "FIXE", "PRINCIPAL", None, False, 30.0, 5, "84", "liste_anct"),
        ("2", "FIXE", "PRINCIPAL", "LA_POSTE", True, 30.0, 5, "84", "liste_anct"),
        ("3", "FIXE", "PRINCIPAL", None, False, 30.0, 5, "94", "liste_anct"),
    ]
    assert lists == [(dt.date(2024, 1, 1), 3, 3, 0)]
    assert [h[1] for h in history(db_path)] == ["labellisation"] * 3


def test_reimporting_the_same_list_changes_nothing(db_path):
    load(db_path, "liste-fs-20240101.csv", JANUARY)
    before = table_counts(db_path)
    result = load(db_path, "liste-fs-20240101.csv", JANUARY)
    assert result.files[0].status == "deja_charge"
    assert table_counts(db_path) == before


def test_newer_list_records_new_changed_and_closed_sites(db_path):
    load(db_path, "liste-fs-20240101.csv", JANUARY)
    load(db_path, "liste-fs-20240801.csv", AUGUST)
    events = history(db_path)
    assert ("2", "fermeture", dt.date(2024, 8, 1)) in events
    assert ("4", "labellisation", dt.date(2024, 4, 1)) in events
    assert ("1", "modification", None) in events
    with reader(db_path) as con:
        closed = con.sql("SELECT site_id, date_fermeture FROM sites WHERE date_fermeture IS NOT NULL").fetchall()
        hours = con.sql("SELECT heures_ouverture_hebdo FROM sites WHERE site_id = '1'").fetchall()
        total = con.sql("SELECT count(*) FROM sites").fetchall()
        open_at = sites_labelled_at(con, NATIONAL, (dt.date(2024, 1, 1), dt.date(2024, 8, 1)))["sites"].to_list()
        lists = con.sql("SELECT list_date, sites, new_sites, closed_sites FROM site_lists ORDER BY 1").fetchall()
    assert closed == [("2", dt.date(2024, 8, 1))]
    assert hours == [(15.0,)]
    assert total == [(4,)]  # nothing deleted
    assert open_at == [3, 3]  # 1, 2, 3 in January; 1, 3, 4 in August
    assert lists[-1] == (dt.date(2024, 8, 1), 3, 1, 1)


def test_a_site_back_in_a_later_list_is_reopened(db_path):
    load(db_path, "liste-fs-20240101.csv", JANUARY)
    load(db_path, "liste-fs-20240801.csv", AUGUST)
    load(db_path, "liste-fs-20241001.csv", [*AUGUST, JANUARY[1]])
    assert ("2", "reouverture", None) in history(db_path)
    with reader(db_path) as con:
        assert con.sql("SELECT date_fermeture FROM sites WHERE site_id = '2'").fetchall() == [(None,)]


def test_an_older_list_after_a_newer_one_is_refused(db_path):
    load(db_path, "liste-fs-20240801.csv", AUGUST)
    before = sha256_file(db_path)
    with pytest.raises(IngestRefused, match="plus ancienne"):
        load(db_path, "liste-fs-20240101.csv", JANUARY)
    assert sha256_file(db_path) == before


def test_carrier_known_from_another_file_survives_a_list_import(db_path, tmp_path):
    from conftest import SITES_HEADER, ingest_files, write_csv

    load(db_path, "liste-fs-20240101.csv", JANUARY)
    enriched = [
        "1",
        "France services de Bourg-en-Bresse",
        "01053",
        "01",
        "FIXE",
        "PRINCIPAL",
        "COMMUNE",
        dt.date(2020, 1, 1),
        None,
        46.2,
        5.2,
        True,
        False,
    ]
    path = write_csv(tmp_path / "sites-porteurs.csv", SITES_HEADER, [enriched])
    ingest_files(db_path, [(path.name, path.read_bytes())], today=TODAY)
    load(db_path, "liste-fs-20240801.csv", AUGUST)
    with reader(db_path) as con:
        assert con.sql("SELECT porteur, ancienne_msap FROM sites WHERE site_id = '1'").fetchall() == [("COMMUNE", True)]


def test_cli_import_sites_and_refusals(db_path, tmp_path):
    good = tmp_path / "liste-fs-20240101.csv"
    good.write_bytes(list_bytes(JANUARY))
    ok = subprocess.run(
        [sys.executable, "-m", "fsdash", "import-sites", "--db", str(db_path), str(good)],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "3 structures, 3 nouvelles, 0 fermée" in ok.stdout
    other = tmp_path / "autre.csv"
    other.write_text("id;nom\n1;x\n", encoding="utf-8")
    before = sha256_file(db_path)
    refused = subprocess.run(
        [sys.executable, "-m", "fsdash", "import-sites", "--db", str(db_path), str(other)],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert "colonnes manquantes" in refused.stderr and "labellisation_fs" in refused.stderr
    assert sha256_file(db_path) == before


@pytest.mark.skipif(not REAL_LIST.exists(), reason="liste ANCT de référence absente (../shared/reference)")
def test_real_list_loads_every_structure_and_the_trajectory(db_path):
    with writer(db_path) as con:
        result = import_site_list(con, REAL_LIST.name, REAL_LIST.read_bytes(), today=TODAY)
    assert result.rows_rejected == 0, result.files[0].tables[0].messages()[:5]
    # independent count from the raw CSV: label dates parsed with a regex, not with the importer
    with open(REAL_LIST, encoding="utf-8") as fh:
        labels = [re.search(r"(\d\d)/(\d\d)/(\d{4})", r["labellisation_fs"]).groups() for r in csv.DictReader(fh)]
    dates = [dt.date(int(y), int(m), int(d)) for d, m, y in labels]
    checkpoints = [dt.date(2020, 1, 1), dt.date(2020, 12, 31), dt.date(2022, 12, 31), dt.date(2024, 8, 1)]
    with reader(db_path) as con:
        total = con.sql("SELECT count(*) FROM sites").fetchall()[0][0]
        trajectory = sites_labelled_at(con, NATIONAL, tuple(checkpoints))["sites"].to_list()
    assert total == len(dates) == 2845
    assert trajectory == [sum(d <= c for d in dates) for c in checkpoints]
