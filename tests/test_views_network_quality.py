"""Sections of Trajectoire et maillage, Chargements et qualité and the Dictionnaire, without Streamlit.

Each section is built on a small hand-made warehouse — the conftest network (``loaded_db``), the
tiny geography and the registry cases of the coverage and site quality tests, the hand-made
official files — and checked for its tiles, its table, its empty state and, above all, its data
date: a registry section dates from the registry and the situation day, an official series from
its latest value, the loads from the last load, and none borrows the activity feed's date unless
it compares with the feed.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from test_coverage import CANTON_SITES, DAY, make_warehouse, tiny_geography  # noqa: F401
from test_site_quality import SITES as FLAGGED_SITES

from fsdash import formats
from fsdash.cache import cached
from fsdash.identity import Identity
from fsdash.metrics import candidates, coverage, quality
from fsdash.metrics.scope import NATIONAL, Scope, resolve
from fsdash.official import ACTS, LABELS
from fsdash.views import dictionary, network
from fsdash.views import quality as quality_views
from fsdash.views.common import registry_date
from fsdash.warehouse.store import current_reader, reader

from conftest import ACTIVITE_HEADER, ACTIVITE_ROWS, REPO_ROOT, TODAY, csv_bytes, ingest_files

OFFICIAL_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "official"
PROGRAMME = Identity("equipe@anct.gouv.fr", "Équipe", "programme")
LIMIT = 200 * 1024 * 1024  # bytes, as .streamlit/config.toml


def table_rows(section, *columns: str) -> list[tuple]:
    return section.table.frame.select(columns).rows()


def tile(section, label_start: str) -> str:
    return next(t.value for t in section.tiles if t.label.startswith(label_start))


def assert_registry_dated(section, con, day: dt.date | None) -> None:
    """The registry's own date (and the situation day when the figures are computed at one)."""
    assert registry_date(con) in section.data_date
    if day is not None:
        assert f"Situation au {formats.date_long(day)}" in section.data_date
    assert "trimestre" not in section.data_date  # never the activity feed's date


@pytest.fixture
def official_db(loaded_db: Path) -> Path:
    """The conftest network with the hand-made official files of the Ain (DITP and Etalab)."""
    from fsdash.warehouse.official_series import import_official_paths
    from fsdash.warehouse.store import writer

    with writer(loaded_db) as con:
        import_official_paths(
            con,
            [OFFICIAL_FIXTURES / "ditp-ain.csv", OFFICIAL_FIXTURES / "etalab-ain.csv"],
            file_date=dt.date(2024, 9, 1),
            today=TODAY,
        )
    return loaded_db


# --- Trajectoire et maillage ----------------------------------------------------------------------


def test_trajectory_counts_open_sites_with_the_national_targets(loaded_db):
    with reader(loaded_db) as con:
        section = network.trajectory(con, NATIONAL, TODAY)
        assert_registry_dated(section, con, TODAY)
    sites = dict(table_rows(section, "Date", "Sites ouverts (référentiel)"))
    # FS001 from 15/11/2019; FS002 from 01/06/2021 until its closure on 30/06/2024; FS003 from 2022; FS004 (bus) from 10/2024
    assert sites[dt.date(2019, 12, 1)] == 1
    assert sites[dt.date(2021, 6, 1)] == 2
    assert sites[dt.date(2022, 1, 1)] == 3
    assert sites[dt.date(2024, 7, 1)] == 2
    assert sites[dt.date(2024, 11, 1)] == 3
    assert section.table.frame.columns == ["Date", "Sites ouverts (référentiel)"]  # no official series loaded
    assert "série officielle non chargée" in section.source
    assert section.chart is not None and section.empty is None
    assert [n.split(" au ")[0] for n in section.notes] == ["Objectif : 300", "Objectif : 2\u202f500"]
    assert section.definitions[0].startswith("**Date de labellisation**")


def test_trajectory_beside_the_official_label_series(official_db):
    with reader(official_db) as con:
        ain = resolve(con, Scope("departement", "01"))
        section = network.trajectory(con, ain, TODAY)
        assert registry_date(con) in section.data_date
    # Etalab's departmental stocks are dated one month after their publication (30/04/2021 -> 31/05/2021)
    official = dict(
        section.table.frame.drop_nulls("Sites labellisés (série officielle)")
        .select("Date", "Sites labellisés (série officielle)")
        .rows()
    )
    assert official == {dt.date(2021, 5, 31): 2, dt.date(2021, 6, 30): 2, dt.date(2024, 7, 31): 2}
    assert section.data_date.endswith("Série officielle jusqu'au 31 juillet 2024")
    assert "Etalab" in section.source
    assert not section.notes  # no target below the national scope, the scope is its own territory


def test_trajectory_of_a_site_is_its_departement_s(loaded_db):
    with reader(loaded_db) as con:
        site = resolve(con, Scope("site", "FS003"))
        section = network.trajectory(con, site, TODAY)
        narrowed = network.trajectory(con, resolve(con, Scope("departement", "2A", formats=("FIXE",))), TODAY)
    assert dict(table_rows(section, "Date", "Sites ouverts (référentiel)"))[dt.date(2024, 11, 1)] == 2
    assert section.notes == ("Territoire mesuré : Département 2A — Corse-du-Sud (tous formats et porteurs).",)
    assert narrowed.table.frame.equals(section.table.frame)  # the bus is counted: formats are not filtered
    assert "tous formats et porteurs" in narrowed.notes[0]


def test_trajectory_empty_state():
    section = network.trajectory(make_warehouse([]), NATIONAL, DAY)
    assert section.empty == "Aucun site labellisé dans ce périmètre."
    assert section.chart is None and section.table is None


def test_trajectory_by_format_and_carrier(loaded_db):
    with reader(loaded_db) as con:
        by_format = network.trajectory_by(con, NATIONAL, TODAY, "format")
        by_carrier = network.trajectory_by(con, NATIONAL, TODAY, "porteur")
        assert_registry_dated(by_format, con, TODAY)
    november = by_format.table.frame.filter(pl.col("Date") == dt.date(2024, 11, 1))
    assert dict(november.select("Format", "Sites").rows()) == {"Fixe": 2, "Bus (ou équivalent)": 1}
    assert by_format.key == "trajectoire-par-format" and by_format.definitions[0].startswith("**Format")
    assert "Porteur" in by_carrier.table.frame.columns
    empty = network.trajectory_by(make_warehouse([]), NATIONAL, DAY, "type_site")
    assert empty.empty == "Aucune donnée pour ce filtre."


def test_former_msap(loaded_db):
    with reader(loaded_db) as con:
        section = network.msap(con, NATIONAL)
        assert_registry_dated(section, con, None)
    # FS001 (former MSAP, labelled 15/11/2019); FS004 does not say
    assert [t.value for t in section.tiles] == ["1", "1", "0"]
    assert section.tiles[1].label == "… avant le 31/12/2021"
    assert section.notes[0].startswith("1 site dont la source ne dit pas")


@pytest.mark.usefixtures("tiny_geography")
def test_coverage_tiles_on_the_tiny_geography():
    con = make_warehouse(CANTON_SITES)
    ain = Scope("departement", "01")
    section = network.coverage_tiles(con, ain, DAY)
    cantons = section.tiles[0]
    assert (cantons.label, cantons.value) == ("Cantons couverts", formats.percent(3 / 5, 1))
    assert cantons.caption == f"3 sur 5 ; jusqu'à {formats.percent(4 / 5, 1)} en comptant les cantons incertains"
    within = coverage.population_within(con, ain, DAY)
    assert [t.label for t in section.tiles[1:]] == [
        "Population à moins de 5 km",
        "Population à moins de 10 km",
        "Population à moins de 20 km",
    ]
    assert [t.value for t in section.tiles[1:]] == [formats.percent(s, 1) for s in within["share"]]
    assert "0 commune, 0 habitant" in section.definitions[0]  # the Ain has cantons everywhere
    national = network.coverage_tiles(con, NATIONAL, DAY)
    assert f"1 commune, {formats.number(2_000_000)} habitants" in national.definitions[0]  # Paris
    assert "Situation au 30 juin 2024" in section.data_date and "INSEE/IGN" in section.source


@pytest.mark.usefixtures("tiny_geography")
def test_uncovered_cantons_and_their_empty_states():
    con = make_warehouse(CANTON_SITES)
    section = network.uncovered_cantons(con, Scope("departement", "01"), DAY)
    assert table_rows(section, "Canton", "Population", "Incertain") == [("0102", 500, False), ("0105", 300, True)]
    assert not section.table_in_expander and not section.messages
    covered = network.uncovered_cantons(con, Scope("departement", "02"), DAY)
    assert covered.messages[0].kind == "success" and covered.table is None
    paris = network.uncovered_cantons(con, Scope("departement", "75"), DAY)
    assert paris.messages[0].text.startswith("Aucun canton dans ce périmètre")
    assert "Situation au 30 juin 2024" in paris.data_date


@pytest.mark.usefixtures("tiny_geography")
def test_farthest_communes():
    con = make_warehouse(CANTON_SITES)
    section = network.farthest_communes(con, Scope("departement", "01"), DAY)
    far = coverage.farthest_communes(con, Scope("departement", "01"), DAY, network.FARTHEST_SHOWN)
    assert section.table.frame["Commune"].to_list() == far["code_insee"].to_list()
    assert section.table.frame["Distance (km)"].to_list() == far["distance_km"].round(1).to_list()
    assert section.table.column("Distance (km)").decimals == 1
    assert network.farthest_communes(con, Scope("departement", "88"), DAY).empty == "Aucune commune dans ce périmètre."


@pytest.mark.usefixtures("tiny_geography")
def test_opening_candidates():
    con = make_warehouse(CANTON_SITES)
    national = network.opening_candidates(con, NATIONAL, DAY, 10)
    assert national.messages[0].text.startswith("Choisissez un département") and national.table is None
    assert not network.candidates_possible(NATIONAL) and network.candidates_possible(Scope("departement", "01"))
    section = network.opening_candidates(con, Scope("departement", "01"), DAY, 5)
    ranked = candidates.opening_candidates(con, Scope("departement", "01"), DAY, network.CANDIDATES_SHOWN, 5)
    assert section.table.frame["Commune"].to_list() == ranked["code_insee"].to_list()
    assert section.table.frame.columns[0] == "Rang" and "Rayon d'accessibilité visé : 5 km." in section.notes
    assert table_rows(section, "Commune", "Habitants rapprochés") == [("01002", 2000), ("01003", 500)]
    nothing = network.opening_candidates(con, Scope("departement", "02"), DAY, 20)
    # Delta has its own site and its canton is covered: nothing left to bring closer
    assert nothing.table is None and nothing.messages[0].kind == "success"


# --- Chargements et qualité -----------------------------------------------------------------------


def test_the_table_of_loads_names_every_status_the_ingest_reports():
    from fsdash.warehouse import ingest, official_series

    assert quality_views.STATUS_LABELS is ingest.STATUS_LABELS is official_series.STATUS_LABELS
    assert set(quality_views.STATUS_LABELS) == {"accepte", "partiel", "rejete", "deja_charge", "vide"}


def test_registry_quality_counts_each_flag():
    con = make_warehouse(FLAGGED_SITES)
    section = quality_views.registry_quality(con, NATIONAL, DAY)
    assert [t.value for t in section.tiles] == ["3", "2", "1", "2", "2", "1"]
    assert section.tiles[1].label == "Ouverts moins de 24 h par semaine" and section.tile_rows == (3, 3)
    assert section.table.frame.height == 11 and section.table.frame.columns[-1] == "Signalements"
    assert section.data_date == "Situation au 30 juin 2024. Référentiel sans date de chargement"
    clean = quality_views.registry_quality(make_warehouse([]), NATIONAL, DAY)
    assert clean.table is None and {t.value for t in clean.tiles} == {"0"}


def test_loads_batches_and_an_empty_quarantine(loaded_db):
    with reader(loaded_db) as con:
        loads = quality_views.loads(con)
        batches = quality_views.batches(con)
        rules = quality_views.rejections_by_rule(con)
        day = quality.batches(con)["loaded_at"].max().date()
        assert quality_views.rejected_batches(con) == {}
    assert [t.value for t in loads.tiles] == ["3", "0", "0"]
    assert loads.data_date == f"Dernier chargement le {formats.date_long(day)} (3 fichiers chargés)"
    assert batches.data_date == loads.data_date == rules.data_date
    assert set(batches.table.frame["Statut"]) == {"chargé"}
    assert batches.table.column("Chargé le").kind == "datetime"
    assert rules.messages[0].text == "Aucune ligne rejetée." and rules.table is None


def test_rejected_rows_by_rule_and_batch(loaded_db):
    rows = [list(r) for r in ACTIVITE_ROWS[:2]] + [["FS999", 2023, 4, 10, 12, 1, 1, 1, 2, 1.0, 1, 24.0, 5, 0, 0]]
    result = ingest_files(loaded_db, [("activite-inconnu.csv", csv_bytes(ACTIVITE_HEADER, rows))])
    assert result.exit_code == 1
    with reader(loaded_db) as con:
        batch = quality.batches(con)["batch_id"].max()
        assert quality_views.rejected_batches(con) == {batch: f"lot {batch} — activite-inconnu.csv"}
        section = quality_views.quarantine(con, batch)
        by_rule = quality_views.rejections_by_rule(con)
        batches = quality_views.batches(con)
        loads = quality_views.loads(con)
    assert section.table.frame.height >= 1 and "FS999" in section.table.frame["Valeur"].to_list()
    assert section.table.frame.columns == ["Ligne", "Colonne", "Valeur", "Règle", "Motif"]
    assert by_rule.table.frame.columns == ["Règle", "Table", "Problèmes", "Lignes"]
    assert batches.table.frame.row(0, named=True)["Statut"] == "chargé en partie"  # newest first
    assert [t.value for t in loads.tiles][:2] == ["4", "1"]


def test_reconciliation_with_the_official_series(official_db):
    with reader(official_db) as con:
        ain = resolve(con, Scope("departement", "01"))
        strict = quality_views.reconciliation(con, ain, ACTS, 0.03)
        loose = quality_views.reconciliation(con, ain, ACTS, 0.05)
        labels = quality_views.reconciliation(con, ain, LABELS, 0.05)
        latest = dt.date.fromisoformat(quality_views.official.official_summary(con)[ACTS]["latest_date"])
        assert registry_date(con) in labels.data_date
    flags = dict(table_rows(strict, "Date", "Hors tolérance"))
    assert flags[dt.date(2023, 10, 1)] is True and not any(dict(table_rows(loose, "Date", "Hors tolérance")).values())
    q4 = strict.table.frame.filter(pl.col("Date") == dt.date(2023, 10, 1)).row(0, named=True)
    assert (q4["Valeur officielle"], q4["Valeur fsdash"], q4["Écart"]) == (2550, 2450, -100)
    assert strict.table.column("Écart relatif").kind == "percent"
    assert (
        strict.data_date
        == f"Série officielle jusqu'au {formats.date_long(latest)}. Données jusqu'au 1er trimestre 2024"
    )
    assert strict.notes[0].startswith("Écart = valeur fsdash − valeur officielle.")
    assert strict.key == "rapprochement-IND-323" and strict.chart is not None
    assert "trimestre" not in labels.data_date  # labels are compared with the registry, not the feed


def test_reconciliation_without_official_values(loaded_db):
    with reader(loaded_db) as con:
        section = quality_views.reconciliation(con, NATIONAL, ACTS, 0.05)
        assert quality_views.reconciliation_available(con)  # the table exists, empty
    assert section.empty == "Aucune donnée pour ce filtre."


def test_upload_publishes_a_new_version_that_sections_see(loaded_db):
    from fsdash.upload import load_files

    before = current_reader(loaded_db)
    assert quality_views.loads(before) is quality_views.loads(before)  # cached per version
    corrected = [list(r) for r in ACTIVITE_ROWS]
    corrected[0][4] = 1550
    code, lines = load_files(
        [("activite-corrigee.csv", csv_bytes(ACTIVITE_HEADER, corrected))], loaded_db, PROGRAMME, LIMIT
    )
    assert code == 0 and any("1 révision créée" in line for line in lines)
    after = current_reader(loaded_db)
    assert after.cache_key != before.cache_key
    assert tile(quality_views.loads(after), "Fichiers chargés") == "4"
    assert tile(quality_views.loads(before), "Fichiers chargés") == "3"


def test_upload_into_a_demo_warehouse_is_refused(db_path, input_files):
    from fsdash.upload import load_files

    ingest_files(db_path, [(p.name, p.read_bytes()) for p in input_files], nature="demo")
    code, lines = load_files([("activite.csv", csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS))], db_path, PROGRAMME, LIMIT)
    assert code == 2 and "données de démonstration" in "\n".join(lines)


def test_sections_are_cached_per_version_and_arguments():
    calls = []

    @cached(maxsize=4, kind="section")
    def probe(wh, scope: Scope) -> int:
        calls.append(scope)
        return len(calls)

    class Versioned:
        cache_key = ("test", 1)

    assert probe(Versioned(), NATIONAL) == probe(Versioned(), NATIONAL) == 1
    assert network.trajectory.kind == quality_views.loads.kind == "section"


# --- Dictionnaire ---------------------------------------------------------------------------------


def test_plain_text_ignores_case_accents_and_spacing():
    assert dictionary.plain_text("Réponse\u202f sous  72\u00a0H") == "reponse sous 72 h"
    assert dictionary.plain_text(None) == ""
    frame = pl.DataFrame({"a": ["Délai de réponse", "Autre"], "b": ["x", None]})
    assert dictionary.matches(frame, "REPONSE").rows() == [("Délai de réponse", "x")]
    assert dictionary.matches(frame, "  ").equals(frame)


def test_search_narrows_tables_lists_and_rules():
    found = dictionary.indicators("réponse sous 72")
    assert [s.key for s in found.sections] == ["dictionnaire-activite"]
    assert "correspondant à la recherche" in found.sections[0].intro
    assert found.export.columns[:3] == ["Table", "Colonne", "Libellé"] and set(found.export["Table"]) == {"activite"}
    assert found.sections[0].table.frame.columns == [
        "Colonne",
        "Libellé",
        "Définition",
        "Format attendu",
        "Source et remarques",
    ]
    whole = dictionary.indicators("", ("sites",))
    assert [s.key for s in whole.sections] == ["dictionnaire-sites"]
    assert whole.export.height == dictionary.columns_frame("sites").height
    assert dictionary.indicators("zzzz introuvable").export is None
    assert dictionary.indicators("réponse sous 72") is found  # the same search is answered once
    lists = dictionary.code_lists("cnaf")
    assert lists and all(s.table.frame.height >= 1 for s in lists)
    rules = dictionary.rules("", ("activite",))
    assert set(rules.table.frame["Table"]) <= {"activite", dictionary.ALL_REPORT_TABLES}
    assert dictionary.rules("zzzz introuvable").empty == "Aucune règle ne correspond à la recherche."


def test_read_side_imports_no_write_side():
    code = (
        "import sys, json; import fsdash.views.network, fsdash.views.quality, fsdash.views.dictionary, fsdash.ui; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('fsdash.warehouse.ingest', 'fsdash.validation', "
        "'fsdash.readers', 'fsdash.warehouse.official_series', 'fsdash.upload', 'pandera')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert json.loads(out.stdout) == []
