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
    # The network open that day, each site told whether the scope keeps it: duplicates are sought in
    # the whole network, then the scope keeps its own sites. Names and windows are worked out in Polars
    # (a regular expression over every name costs DuckDB about 6 ms, Polars well under one).
    sites = con.sql(
        f"""
        SELECT s.site_id, s.nom, s.departement, s.format, s.type_site, s.latitude, s.longitude, s.horaires,
               s.heures_ouverture_hebdo AS heures, s.jours_ouverture_hebdo AS jours, ({where}) AS dans_le_perimetre
        FROM sites s WHERE {OPEN_AT.format(d="?")}""",
        params=[*params, day, day],
    ).pl()
    fixed = pl.col("format").is_in(FIXED_FORMATS)
    name_key = (
        pl.col("nom")
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )
    lat_key, lon_key = pl.col("latitude").round(5), pl.col("longitude").round(5)
    not_antenna = pl.col("type_site").ne_missing("ANTENNE")
    flags = (
        sites.with_columns(name_key.alias("_nom"), lat_key.alias("_lat"), lon_key.alias("_lon"))
        .with_columns(
            (
                fixed
                & pl.col("horaires").str.strip_chars().replace("", None).is_null()
                & pl.col("heures").is_null()
                & pl.col("jours").is_null()
            ).alias("sans_horaires"),
            (not_antenna & (pl.col("heures") < MIN_OPENING_HOURS_PER_WEEK.value).fill_null(False)).alias(
                "moins_de_24h"
            ),
            (not_antenna & (pl.col("jours") < MIN_OPEN_DAYS_PER_WEEK.value).fill_null(False)).alias("moins_de_5_jours"),
            (pl.len().over("departement", "_nom") > 1).alias("nom_en_double"),
            (
                fixed
                & pl.col("_lat").is_not_null()
                & pl.col("_lon").is_not_null()
                & (fixed.cast(pl.Int64).sum().over("_lat", "_lon") > 1)
            ).alias("coordonnees_en_double"),
        )
        .filter(pl.col("dans_le_perimetre"))
    )
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
