"""Quality of the site registry: open sites whose published data needs checking.

Each open site gets the flags below (one boolean column each); only flagged sites are returned.

* ``sans_horaires`` — no published hours (neither ``horaires`` nor weekly hours/days); fixed
  formats only (FIXE, MULTISITES, FIXE_ANTENNES): a bus or an itinerant service publishes its
  rounds elsewhere ;
* ``moins_de_24h`` — published weekly hours below :data:`MIN_OPENING_HOURS_PER_WEEK` (charter
  2.4); sites that publish their weekly hours only ;
* ``moins_de_5_jours`` — published days per week below :data:`MIN_OPEN_DAYS_PER_WEEK` (charter
  2.4); sites that publish their days only ;
* ``nom_en_double`` — another open site of the same département has the same name (case,
  accents, punctuation and spacing ignored). Two towns of different départements may share a
  name (L'Isle-Jourdain, Gers and Vienne), so twins are sought département by département ;
* ``coordonnees_en_double`` — another open fixed site has the same coordinates (to 1e-5°, about
  a metre), wherever it is: typically a geocoding default or a site registered twice. Buses and
  itinerant services are left out: their depot is often a fixed site's address ;
* ``hors_departement`` — coordinates outside the site's own département
  (:func:`fsdash.metrics.coverage.outside_departement`).

The charter's minima (2.4) apply to « chaque structure », whatever its format, so the 24 h /
5 days flags cover buses and itinerant services too when they publish hours; antennas
(``type_site = 'ANTENNE'``) are left out: an antenna completes the opening of the structure it
belongs to and is not bound by the minimum on its own. Duplicates are sought in the network
open that day, then the scope keeps its own sites. A duplicate is something to check, not
always an error (two structures sharing a building, a site relabelled under a new number).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from fsdash.cache import cached
from fsdash.circulaire import MIN_OPEN_DAYS_PER_WEEK, MIN_OPENING_HOURS_PER_WEEK
from fsdash.formats import number
from fsdash.metrics.coverage import outside_departement
from fsdash.metrics.network import OPEN_AT
from fsdash.metrics.scope import Scope

FIXED_FORMATS = ("FIXE", "MULTISITES", "FIXE_ANTENNES")
"""Formats expected to publish opening hours (a place people come to)."""

FLAGS = {
    "sans_horaires": "aucun horaire publié (site fixe)",
    "moins_de_24h": f"moins de {number(MIN_OPENING_HOURS_PER_WEEK.value)} heures d'ouverture par semaine "
    f"({MIN_OPENING_HOURS_PER_WEEK.source})",
    "moins_de_5_jours": f"ouvert moins de {number(MIN_OPEN_DAYS_PER_WEEK.value)} jours par semaine "
    f"({MIN_OPEN_DAYS_PER_WEEK.source})",
    "nom_en_double": "même nom qu'un autre site ouvert",
    "coordonnees_en_double": "mêmes coordonnées qu'un autre site ouvert",
    "hors_departement": "coordonnées hors de son département",
}
"""Flag codes (columns) and their French labels, in display order."""

SUMMARY_KEYS = {
    "sans_horaires": "sites_without_hours",
    "moins_de_24h": "sites_under_24h",
    "moins_de_5_jours": "sites_under_5_days",
    "nom_en_double": "duplicate_names",
    "coordonnees_en_double": "duplicate_coordinates",
    "hors_departement": "outside_departement",
}


@cached(maxsize=64)
def site_quality_flags(con: duckdb.DuckDBPyConnection, scope: Scope, day: dt.date) -> pl.DataFrame:
    """Open sites of the scope with at least one flag (see the module docstring).

    Columns: ``site_id``, ``nom``, ``departement``, ``format``, one boolean per flag of
    :data:`FLAGS`, ``signalements`` (the French labels of its flags, « ; »-separated) and
    ``nb_signalements``. Sorted by département and site.
    """
    where, params = scope.sites_filter()
    formats = ", ".join("?" for _ in FIXED_FORMATS)
    flags = con.sql(
        f"""
        WITH open_sites AS (
            SELECT s.*,
                   trim(regexp_replace(lower(strip_accents(s.nom)), '[^a-z0-9]+', ' ', 'g')) AS nom_cle,
                   round(s.latitude, 5) AS lat_cle, round(s.longitude, 5) AS lon_cle
            FROM sites s WHERE {OPEN_AT.format(d="?")}),
        flagged AS (
            SELECT site_id, nom, departement, format, region, latitude, longitude,
                   format IN ({formats}) AND nullif(trim(horaires), '') IS NULL
                       AND heures_ouverture_hebdo IS NULL AND jours_ouverture_hebdo IS NULL AS sans_horaires,
                   type_site IS DISTINCT FROM 'ANTENNE'
                       AND coalesce(heures_ouverture_hebdo < ?, FALSE) AS moins_de_24h,
                   type_site IS DISTINCT FROM 'ANTENNE'
                       AND coalesce(jours_ouverture_hebdo < ?, FALSE) AS moins_de_5_jours,
                   count(*) OVER (PARTITION BY departement, nom_cle) > 1 AS nom_en_double,
                   format IN ({formats}) AND lat_cle IS NOT NULL AND lon_cle IS NOT NULL
                       AND sum(CASE WHEN format IN ({formats}) THEN 1 ELSE 0 END)
                           OVER (PARTITION BY lat_cle, lon_cle) > 1 AS coordonnees_en_double
            FROM open_sites)
        SELECT site_id, nom, departement, format, latitude, longitude, sans_horaires, moins_de_24h,
               moins_de_5_jours, nom_en_double, coordonnees_en_double
        FROM flagged s WHERE {where}""",
        params=[
            day,
            day,
            *FIXED_FORMATS,
            MIN_OPENING_HOURS_PER_WEEK.value,
            MIN_OPEN_DAYS_PER_WEEK.value,
            *FIXED_FORMATS,
            *FIXED_FORMATS,
            *params,
        ],
    ).pl()
    outside = outside_departement(flags.select("site_id", "nom", "departement", "latitude", "longitude"))
    flags = flags.with_columns(pl.col("site_id").is_in(outside["site_id"].implode()).alias("hors_departement"))
    labels = [pl.when(pl.col(code)).then(pl.lit(label)) for code, label in FLAGS.items()]
    return (
        flags.with_columns(pl.col(code).fill_null(False) for code in FLAGS)
        .filter(pl.any_horizontal(*FLAGS))
        .with_columns(
            pl.concat_str(labels, separator=" ; ", ignore_nulls=True).alias("signalements"),
            pl.sum_horizontal(pl.col(code).cast(pl.Int64) for code in FLAGS).alias("nb_signalements"),
        )
        .select("site_id", "nom", "departement", "format", *FLAGS, "signalements", "nb_signalements")
        .sort(["departement", "site_id"])
    )


def site_quality_summary(con: duckdb.DuckDBPyConnection, scope: Scope, day: dt.date) -> dict[str, int]:
    """Number of open sites of the scope carrying each flag, plus ``sites_flagged`` (any flag).

    Keys: ``sites_without_hours``, ``sites_under_24h``, ``sites_under_5_days``,
    ``duplicate_names``, ``duplicate_coordinates``, ``outside_departement`` (sites, not pairs:
    two sites sharing a name count 2), ``sites_flagged``.
    """
    flags = site_quality_flags(con, scope, day)
    summary = {key: int(flags[code].sum()) for code, key in SUMMARY_KEYS.items()}
    summary["sites_flagged"] = flags.height
    return summary
