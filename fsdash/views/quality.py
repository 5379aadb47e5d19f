"""Chargements et qualité: the site registry's quality flags, the reconciliation with the official
series, every file loaded and every rejected row with its reason — for the programme team.

Each section dates itself from its own source: the registry's date for the registry flags, the
official series' latest value (and the data it is compared with) for the reconciliation, the last
load for the loads and the quarantine.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from fsdash import charts, formats
from fsdash.cache import cached
from fsdash.circulaire import MIN_OPEN_DAYS_PER_WEEK, MIN_OPENING_HOURS_PER_WEEK
from fsdash.metrics import official, quality, site_quality
from fsdash.metrics.scope import Scope
from fsdash.official import LABELS
from fsdash.views.common import (
    REGISTRY_SOURCE,
    chart_spec,
    feed_date,
    is_demo,
    registry_date,
    situation_date,
    territory_note,
)
from fsdash.views.section import Column, Message, Section, Table, Tile
from fsdash.warehouse.schema import STATUS_LABELS

OFFICIAL_INDICATORS = {
    "nb-labellisations-france-services": "Sites labellisés (Etalab)",
    "IND-323": "Actes mensuels / demandes (IND-323)",
    "IND-246": "Satisfaction aux bornes (IND-246)",
}

#: Registry flags shown as tiles (keys of :func:`fsdash.metrics.site_quality.site_quality_summary`).
REGISTRY_FLAGS = {
    "sites_without_hours": "Sites fixes sans horaires publiés",
    "sites_under_24h": f"Ouverts moins de {MIN_OPENING_HOURS_PER_WEEK.value:g} h par semaine",
    "sites_under_5_days": f"Ouverts moins de {MIN_OPEN_DAYS_PER_WEEK.value:g} jours par semaine",
    "duplicate_names": "Noms en double",
    "duplicate_coordinates": "Coordonnées en double",
    "outside_departement": "Coordonnées hors de leur département",
}

LOADS_SOURCE = "journal des chargements de l'entrepôt (lots et quarantaine)"
OFFICIAL_SOURCE = "séries officielles du baromètre (DITP, Etalab) et données de fsdash"
NO_LOAD = "Aucun fichier chargé : utilisez « python -m fsdash ingest FICHIER… »."

#: Titles the page draws itself, above the widgets its sections depend on.
UPLOAD_TITLE = "Charger des fichiers de reporting"
RECONCILIATION_TITLE = "Rapprochement avec les séries officielles"

NO_OFFICIAL_SERIES = Section(
    "rapprochement",
    RECONCILIATION_TITLE,
    heading="none",
    messages=(
        Message(
            "Aucune série officielle chargée : python -m fsdash import-indicators FICHIER… (baromètre des "
            "résultats de l'action publique : labellisations, actes mensuels IND-323, satisfaction IND-246)."
        ),
    ),
)


def last_load(wh) -> str:
    """« Dernier chargement le 28 novembre 2026 (83 fichiers chargés) »: the data date of the loads."""
    loaded = _batches(wh)
    if loaded.is_empty():
        return "Aucun chargement"
    day: dt.datetime = loaded["loaded_at"].max()
    return f"Dernier chargement le {formats.date_long(day.date())} ({formats.number(loaded.height)} fichiers chargés)"


@cached(maxsize=8, kind="query")
def _batches(wh) -> pl.DataFrame:
    return quality.batches(wh)


def has_loads(wh) -> bool:
    """Whether any file was ever loaded: the page stops after the upload when none was."""
    return not _batches(wh).is_empty()


# --- the site registry ---------------------------------------------------------------------------


@cached(maxsize=64, kind="section")
def registry_quality(wh, scope: Scope, day: dt.date) -> Section:
    """Open sites whose published data needs checking (charter 2.4 minima, duplicates, misplaced
    coordinates), counted by flag, and the flagged sites."""
    area = scope.territory()
    counts = site_quality.site_quality_summary(wh, area, day)
    # the flagged sites and their audit comments: only the départements the viewer sees site by site
    flagged = site_quality.site_quality_flags(wh, area, day).filter(scope.site_detail_filter())
    table = None
    if not flagged.is_empty():
        table = Table(
            flagged.select(
                pl.col("site_id").alias("Site"),
                pl.col("nom").alias("Nom"),
                pl.col("departement").alias("Département"),
                pl.col("format").alias("Format"),
                pl.col("signalements").alias("Signalements"),
            )
        )
    notes = [
        f"Règles de la charte : ouverture d'au moins {MIN_OPENING_HOURS_PER_WEEK.value:g} heures sur "
        f"{MIN_OPEN_DAYS_PER_WEEK.value:g} jours ({MIN_OPENING_HOURS_PER_WEEK.source}) ; les antennes en sont "
        "exemptées, les bus et sites itinérants ne sont pas tenus de publier des horaires fixes."
    ]
    if scope.detail_departements is not None:
        notes.append(
            "Les sites signalés des autres départements ne sont pas listés : leur détail est réservé à leur comité "
            "départemental, au comité national et à l'équipe du programme ; les comptes couvrent tout le territoire."
        )
    notes += territory_note(wh, scope, "Territoire contrôlé")
    return Section(
        "qualite-referentiel",
        "Qualité du référentiel des sites",
        tiles=tuple(Tile(label, formats.number(counts[key])) for key, label in REGISTRY_FLAGS.items()),
        tile_rows=(3, 3),
        table=table,
        table_in_expander=False,
        source=REGISTRY_SOURCE,
        data_date=f"{situation_date(day)}. {registry_date(wh)}",
        demo=is_demo(wh),
        notes=tuple(notes),
    )


# --- official series -----------------------------------------------------------------------------


def reconciliation_available(wh) -> bool:
    """Whether official series are loaded: the page offers the indicator and tolerance only then."""
    return official.has_official_series(wh)


def _official_date(wh, indicator: str) -> str:
    latest = official.official_summary(wh).get(indicator, {}).get("latest_date")
    if latest is None:
        return "Série officielle sans valeur mesurée"
    return f"Série officielle jusqu'au {formats.date_long(dt.date.fromisoformat(latest))}"


@cached(maxsize=64, kind="section")
def reconciliation(wh, scope: Scope, indicator: str, tolerance: float) -> Section:
    """fsdash's figures beside the official series, zone by zone and date by date, with the gaps
    beyond the tolerance the viewer chose flagged."""
    if not official.has_official_series(wh):
        return NO_OFFICIAL_SERIES
    key = f"rapprochement-{indicator}"
    rows = official.reconcile(wh, scope, indicator, tolerance=tolerance)
    if rows.is_empty():
        return Section(key, RECONCILIATION_TITLE, heading="none", empty="Aucune donnée pour ce filtre.")
    compared = registry_date(wh) if indicator == LABELS else feed_date(wh)
    table = rows.select(
        pl.col("zone_name").alias("Zone"),
        pl.col("date").alias("Date"),
        pl.col("official").alias("Valeur officielle"),
        pl.col("feed").alias("Valeur fsdash"),
        pl.col("gap").alias("Écart"),
        pl.col("gap_relative").alias("Écart relatif"),
        pl.col("flag").alias("Hors tolérance"),
        pl.col("note").alias("Note"),
    )
    return Section(
        key,
        RECONCILIATION_TITLE,
        heading="none",
        chart=chart_spec(charts.reconciliation_gaps(official.reconciliation_summary(rows), tolerance)),
        chart_alt="Écart relatif médian et maximal entre fsdash et la série officielle, date par date, "
        "et la tolérance choisie.",
        table=Table(table, (Column("Écart relatif", "percent"), Column("Hors tolérance", "boolean"))),
        source=OFFICIAL_SOURCE,
        data_date=f"{_official_date(wh, indicator)}. {compared}",
        demo=is_demo(wh),
        notes=("Écart = valeur fsdash − valeur officielle. " + (rows["note"].drop_nulls().first() or ""),),
    )


# --- loads and rejections -------------------------------------------------------------------------


def _loads_common(wh) -> dict:
    return {"source": LOADS_SOURCE, "data_date": last_load(wh), "demo": is_demo(wh)}


@cached(maxsize=8, kind="section")
def loads(wh) -> Section:
    """Files loaded, files with rejected rows, rows rejected."""
    loaded = _batches(wh)
    if loaded.is_empty():
        return Section("chargements", "Chargements", empty=NO_LOAD)
    return Section(
        "chargements",
        "Chargements",
        tiles=(
            Tile("Fichiers chargés", formats.number(loaded.height)),
            Tile("Fichiers avec rejets", formats.number(loaded.filter(pl.col("status") != "accepte").height)),
            Tile("Lignes rejetées", formats.number(loaded["rows_rejected"].sum())),
        ),
        **_loads_common(wh),
    )


@cached(maxsize=8, kind="section")
def batches(wh) -> Section:
    """Every file loaded, newest first, with its status and counts and the start of its SHA-256."""
    loaded = _batches(wh)
    if loaded.is_empty():
        return Section("lots-charges", "Lots chargés", empty=NO_LOAD)
    table = loaded.select(
        pl.col("batch_id").alias("Lot"),
        pl.col("file_name").alias("Fichier"),
        pl.col("loaded_at").alias("Chargé le"),
        pl.col("loaded_by").fill_null("non enregistré").alias("Chargé par"),
        pl.col("status").replace_strict(STATUS_LABELS, default=pl.col("status")).alias("Statut"),
        pl.col("tables").alias("Tables"),
        pl.col("rows_read").alias("Lignes lues"),
        pl.col("rows_accepted").alias("Acceptées"),
        pl.col("rows_rejected").alias("Rejetées"),
        pl.col("revisions_created").alias("Révisions"),
        pl.col("sha256").str.slice(0, 12).alias("Empreinte"),
    )
    return Section(
        "lots-charges",
        "Lots chargés",
        table=Table(table, (Column("Lot", "integer"), Column("Chargé le", "datetime"))),
        table_in_expander=False,
        **_loads_common(wh),
    )


@cached(maxsize=8, kind="section")
def rejections_by_rule(wh) -> Section:
    """Problems and rows rejected, by consistency rule and table."""
    by_rule = quality.rejections_by_rule(wh)
    if by_rule.is_empty():
        return Section(
            "rejets-par-regle",
            "Rejets par règle",
            messages=(Message("Aucune ligne rejetée.", "success"),),
            **_loads_common(wh),
        )
    return Section(
        "rejets-par-regle",
        "Rejets par règle",
        table=Table(
            by_rule.rename({"rule": "Règle", "table_code": "Table", "problemes": "Problèmes", "lignes": "Lignes"})
        ),
        table_in_expander=False,
        **_loads_common(wh),
    )


@cached(maxsize=8, kind="section")
def rejected_batches(wh) -> dict[int, str]:
    """Batches with rejected rows, newest first, as the batch selector names them: « lot 12 — fichier.csv »."""
    with_rejects = _batches(wh).filter(pl.col("rows_rejected") > 0)
    return {batch: f"lot {batch} — {name}" for batch, name in with_rejects.select("batch_id", "file_name").iter_rows()}


@cached(maxsize=64, kind="section")
def quarantine(wh, batch_id: int) -> Section:
    """The rejected rows of one batch, each with its line, column, value, rule and reason."""
    rows = quality.quarantine(wh, batch_id)
    key = f"quarantaine-lot-{batch_id}"
    if rows.is_empty():
        return Section(key, heading="none", empty="Aucune ligne en quarantaine pour ce lot.")
    return Section(
        key,
        f"Quarantaine du lot {batch_id}",
        heading="none",
        table=Table(
            rows.select(
                pl.col("line").alias("Ligne"),
                pl.col("column_name").alias("Colonne"),
                pl.col("value").alias("Valeur"),
                pl.col("rule").alias("Règle"),
                pl.col("message").alias("Motif"),
            ),
            (Column("Ligne", "integer"),),
        ),
        table_in_expander=False,
        **_loads_common(wh),
    )
