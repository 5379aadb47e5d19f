"""Funding of the network (circular of 1 July 2019, annex 4).

What the text says, and how it is computed here:

* « forfaitiser le financement de chaque structure à hauteur de 30 000 euros par an » — every
  labelled structure is entitled to the flat amount of the year (table ``forfaits``: 30 000 € from
  2019, the later amounts are data), **pro rata of the days it is open in the year** (labelled on
  or before the day, not yet closed: the same rule as the network counts);
* « Pour les structures portées par des collectivités et des associations, ce montant est réparti
  entre le […] FNADT – programme 112 et le fonds inter-opérateurs » — the split of each carrier
  type is read from ``forfaits`` (the circular does not give it; the demo uses half and half and
  says so in the ``origine`` column);
* « Pour les structures postales, 4 000 € sont pris en charge par le fonds inter opérateurs, le
  reste étant versé à La Poste au travers du Fonds Postal de Péréquation Territoriale » — a site is
  postal when its carrier is La Poste or its ``la_poste`` flag is set;
* « Lorsque la structure […] est hébergée dans une implantation de l'État, le financement
  forfaitaire perçu est réduit à la hauteur du coût des prestations mutualisées offertes » — sites
  flagged ``heberge_etat`` receive the flat amount minus ``abattement_heberge_etat`` of the year,
  the reduction being shared by the funders pro rata of their parts (the text does not say which
  fund is reduced);
* a site whose carrier is not known (the ANCT list names only La Poste) follows the « Autre »
  rates, and is shown as « non renseigné ».

These are amounts **due under the rules**, not payments. The Banque des Territoires envelope
(30 M€ to 2022: 17 M€ La Poste, 10 M€ animation, 3 M€ buses) is followed from its commitments and
payments (table ``enveloppe_bdt``, in k€), and the regularisation of the 2018 arrears (368 MSAP)
from the prefects' payments (table ``regularisation_msap_2018``).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from fsdash.cache import cached
from fsdash.circulaire import BDT_ENVELOPE_LINES, MSAP_ARREARS_2018
from fsdash.metrics.scope import NATIONAL, UNKNOWN_CARRIER, Scope

#: Funding sources of the flat amount, in display order: code -> (rates column, French label).
SOURCES = {
    "FNADT": ("part_fnadt", "FNADT (programme 112)"),
    "FONDS_INTEROPERATEURS": ("part_fonds_interoperateurs", "Fonds inter-opérateurs"),
    "FONDS_POSTAL": ("part_fonds_postal", "Fonds postal de péréquation territoriale"),
    "NON_REPARTI": (None, "Non réparti par le barème"),
}
#: The rates a site with an unknown carrier follows.
FALLBACK_CARRIER = "AUTRE"
POSTAL_CARRIER = "LA_POSTE"

_SITE_FUNDING_SCHEMA = {
    "annee": pl.Int64,
    "site_id": pl.String,
    "nom": pl.String,
    "departement": pl.String,
    "region": pl.String,
    "porteur": pl.String,
    "heberge_etat": pl.Boolean,
    "jours_ouverts": pl.Int64,
    "jours_annee": pl.Int64,
    "prorata": pl.Float64,
    "bareme": pl.Boolean,
    "montant_forfait": pl.Float64,
    "abattement": pl.Float64,
    "montant_du": pl.Float64,
    "FNADT": pl.Float64,
    "FONDS_INTEROPERATEURS": pl.Float64,
    "FONDS_POSTAL": pl.Float64,
    "NON_REPARTI": pl.Float64,
}


@cached(maxsize=16)
def _has_rows(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """False when the table is missing (a warehouse from before the catalogue had it) or empty."""
    exists = con.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", params=[table]).fetchall()
    return bool(exists[0][0]) and con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0] > 0


# --- the flat amount per site and year --------------------------------------------------------


@cached(maxsize=8)
def funding_rates(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The rates as loaded (``forfaits``), by year then carrier."""
    if not _has_rows(con, "forfaits"):
        return pl.DataFrame(
            schema={
                "annee": pl.Int64,
                "porteur": pl.String,
                "montant_forfait": pl.Int64,
                "part_fnadt": pl.Int64,
                "part_fonds_interoperateurs": pl.Int64,
                "part_fonds_postal": pl.Int64,
                "abattement_heberge_etat": pl.Int64,
                "origine": pl.String,
            }
        )
    return con.sql("""SELECT annee, porteur, montant_forfait, part_fnadt, part_fonds_interoperateurs,
                             part_fonds_postal, abattement_heberge_etat, origine
                      FROM forfaits ORDER BY annee, porteur""").pl()


@cached(maxsize=8)
def funding_years(con: duckdb.DuckDBPyConnection) -> tuple[int, ...]:
    """Years the rates table covers, oldest first."""
    return tuple(sorted(set(funding_rates(con)["annee"].to_list())))


@cached(maxsize=64)
def site_funding(con: duckdb.DuckDBPyConnection, scope: Scope, first_year: int, last_year: int) -> pl.DataFrame:
    """One row per site open at least one day of each year from ``first_year`` to ``last_year``.

    ``jours_ouverts`` / ``jours_annee`` = ``prorata``; ``bareme`` is false when no rate is loaded
    for the site's carrier that year (its amounts are then null). ``montant_du`` = prorata ×
    (forfait − abattement if State-hosted); the sources (``FNADT``, ``FONDS_INTEROPERATEURS``,
    ``FONDS_POSTAL``, ``NON_REPARTI`` when the parts do not add up to the amount) sum to it.
    """
    if not _has_rows(con, "forfaits") or first_year > last_year:
        return pl.DataFrame(schema=_SITE_FUNDING_SCHEMA)
    # DuckDB reads the scope's sites; the site × year grid (a few tens of thousands of rows) is
    # cheaper in Polars than in a cross join planned and run by DuckDB (≈ 10 ms there, ≈ 2 ms here).
    where, params = scope.sites_filter()
    sites = con.sql(
        f"""
        SELECT s.site_id, s.nom, s.departement, s.region, coalesce(s.heberge_etat, false) AS heberge_etat,
               s.date_labellisation, s.date_fermeture,
               CASE WHEN s.porteur = '{POSTAL_CARRIER}' OR coalesce(s.la_poste, false) THEN '{POSTAL_CARRIER}'
                    ELSE coalesce(s.porteur, '{UNKNOWN_CARRIER}') END AS porteur
        FROM sites s WHERE {where}""",
        params=params,
    ).pl()
    rates = funding_rates(con).select(
        pl.col("annee"),
        pl.col("porteur").alias("bareme_porteur"),
        pl.col("montant_forfait").cast(pl.Float64),
        pl.col("abattement_heberge_etat").cast(pl.Float64),
        pl.col("part_fnadt").cast(pl.Float64),
        pl.col("part_fonds_interoperateurs").cast(pl.Float64),
        pl.col("part_fonds_postal").cast(pl.Float64),
    )
    years = pl.DataFrame({"annee": range(first_year, last_year + 1)}, schema={"annee": pl.Int64})
    start = pl.date(pl.col("annee"), 1, 1)
    end = pl.date(pl.col("annee") + 1, 1, 1)
    opened = pl.max_horizontal("date_labellisation", start)
    closed = pl.min_horizontal(pl.col("date_fermeture").fill_null(end), end)
    frame = (
        sites.lazy()
        .join(years.lazy(), how="cross")
        .with_columns(
            (closed - opened).dt.total_days().clip(lower_bound=0).cast(pl.Int64).alias("jours_ouverts"),
            (end - start).dt.total_days().cast(pl.Int64).alias("jours_annee"),
            pl.when(pl.col("porteur") == UNKNOWN_CARRIER)
            .then(pl.lit(FALLBACK_CARRIER))
            .otherwise(pl.col("porteur"))
            .alias("bareme_porteur"),
        )
        .filter(pl.col("jours_ouverts") > 0)
        .join(rates.lazy(), on=["annee", "bareme_porteur"], how="left")
        .with_columns(
            (pl.col("jours_ouverts") / pl.col("jours_annee")).alias("prorata"),
            pl.col("montant_forfait").is_not_null().alias("bareme"),
            pl.when(pl.col("heberge_etat"))
            .then(pl.col("abattement_heberge_etat").fill_null(0.0))
            .otherwise(0.0)
            .alias("abattement"),
        )
        .sort("annee", "site_id")
    )
    kept = (
        pl.when(pl.col("montant_forfait") > 0)
        .then((pl.col("montant_forfait") - pl.col("abattement")) / pl.col("montant_forfait"))
        .otherwise(0.0)
    )
    parts = {code: column for code, (column, _) in SOURCES.items() if column}
    frame = frame.with_columns(
        (pl.col("prorata") * (pl.col("montant_forfait") - pl.col("abattement"))).alias("montant_du"),
        *[(pl.col("prorata") * pl.col(column) * kept).alias(code) for code, column in parts.items()],
    ).with_columns(
        (pl.col("montant_du") - pl.sum_horizontal(list(parts))).clip(lower_bound=0.0).round(6).alias("NON_REPARTI")
    )
    return frame.select(list(_SITE_FUNDING_SCHEMA)).cast(_SITE_FUNDING_SCHEMA).collect()


def _totals(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return (
        frame.group_by(keys)
        .agg(
            pl.len().alias("sites"),
            pl.col("prorata").sum().alias("sites_equivalent"),
            pl.col("heberge_etat").sum().alias("sites_heberges_etat"),
            (~pl.col("bareme")).sum().alias("sites_sans_bareme"),
            pl.col("abattement").mul(pl.col("prorata")).sum().alias("abattements"),
            pl.col("montant_du").sum(),
            *[pl.col(code).sum() for code in SOURCES],
        )
        .sort(keys)
    )


@cached(maxsize=64)
def funding_by_year(con: duckdb.DuckDBPyConnection, scope: Scope, first_year: int, last_year: int) -> pl.DataFrame:
    """Per year: sites, site-years (``sites_equivalent``), amount due and its sources."""
    return _totals(site_funding(con, scope, first_year, last_year), ["annee"])


@cached(maxsize=64)
def funding_by_carrier(con: duckdb.DuckDBPyConnection, scope: Scope, first_year: int, last_year: int) -> pl.DataFrame:
    """Per year × carrier (``NON_RENSEIGNE`` when unknown): sites, site-years, amount and sources."""
    return _totals(site_funding(con, scope, first_year, last_year), ["annee", "porteur"])


@cached(maxsize=64)
def funding_by_departement(con: duckdb.DuckDBPyConnection, scope: Scope, year: int) -> pl.DataFrame:
    """One year, per département: sites, site-years, State-hosted sites, reductions, amount and sources."""
    return _totals(site_funding(con, scope, year, year), ["departement"])


@cached(maxsize=64)
def funding_by_source(con: duckdb.DuckDBPyConnection, scope: Scope, first_year: int, last_year: int) -> pl.DataFrame:
    """Long form for stacked bars: ``annee``, ``source`` (code of :data:`SOURCES`), ``montant``."""
    by_year = funding_by_year(con, scope, first_year, last_year)
    return (
        by_year.unpivot(index="annee", on=list(SOURCES), variable_name="source", value_name="montant")
        .filter(pl.col("montant").round(2) > 0)
        .sort("annee")
    )


# --- the Banque des Territoires envelope ------------------------------------------------------

_OPERATIONS_SCHEMA = {
    "code_operation": pl.String,
    "date_operation": pl.Date,
    "ligne": pl.String,
    "engagement": pl.Float64,
    "paiement": pl.Float64,
    "libelle": pl.String,
}


@cached(maxsize=8)
def envelope_operations(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every operation, oldest first (amounts in k€, as loaded)."""
    if not _has_rows(con, "enveloppe_bdt"):
        return pl.DataFrame(schema=_OPERATIONS_SCHEMA)
    return (
        con.sql("""SELECT code_operation, date_operation, ligne, engagement, paiement, libelle
                      FROM enveloppe_bdt ORDER BY date_operation, code_operation""")
        .pl()
        .cast(_OPERATIONS_SCHEMA)
    )


@cached(maxsize=16)
def envelope_status(con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None) -> pl.DataFrame:
    """Per line of annex 4 (always the three), at ``as_of`` (all operations when None), in euros.

    ``enveloppe``, ``engage``, ``paye``, ``reste_a_engager`` (envelope − committed),
    ``reste_a_payer`` (committed − paid), ``taux_engagement``, ``taux_paiement`` (of the envelope),
    and the anomalies ``depassement`` (committed above the envelope) and ``paye_sans_engagement``
    (paid above committed).
    """
    ops = envelope_operations(con)
    if as_of is not None:
        ops = ops.filter(pl.col("date_operation") <= as_of)
    sums = ops.group_by("ligne").agg(
        (pl.col("engagement").sum() * 1000).alias("engage"), (pl.col("paiement").sum() * 1000).alias("paye")
    )
    lines = pl.DataFrame(
        {"ligne": list(BDT_ENVELOPE_LINES), "enveloppe": [float(r.value) for r in BDT_ENVELOPE_LINES.values()]}
    )
    return (
        lines.join(sums, on="ligne", how="left", maintain_order="left")
        .with_columns(
            pl.col("engage").fill_null(0.0),
            pl.col("paye").fill_null(0.0),
        )
        .with_columns(
            (pl.col("enveloppe") - pl.col("engage")).alias("reste_a_engager"),
            (pl.col("engage") - pl.col("paye")).alias("reste_a_payer"),
            (pl.col("engage") / pl.col("enveloppe")).alias("taux_engagement"),
            (pl.col("paye") / pl.col("enveloppe")).alias("taux_paiement"),
            (pl.col("engage") > pl.col("enveloppe") + 0.005).alias("depassement"),
            (pl.col("paye") > pl.col("engage") + 0.005).alias("paye_sans_engagement"),
        )
    )


@cached(maxsize=8)
def envelope_timeline(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Cumulated commitments and payments (euros) per line at the end of each quarter.

    Columns ``date`` (last day of the quarter), ``ligne``, ``engage``, ``paye``, ``enveloppe``; every
    line has a row for every quarter from the first operation to the last, so steps read evenly.
    """
    ops = envelope_operations(con)
    schema = {"date": pl.Date, "ligne": pl.String, "engage": pl.Float64, "paye": pl.Float64, "enveloppe": pl.Float64}
    if ops.is_empty():
        return pl.DataFrame(schema=schema)
    ops = ops.with_columns(pl.col("date_operation").dt.month_end().alias("_m")).with_columns(
        pl.date(pl.col("_m").dt.year(), ((pl.col("_m").dt.month() - 1) // 3 + 1) * 3, 1).dt.month_end().alias("date")
    )
    grid = pl.date_range(ops["date"].min().replace(day=1), ops["date"].max(), interval="3mo", eager=True)
    grid = pl.DataFrame({"date": grid}).with_columns(pl.col("date").dt.month_end())
    lines = pl.DataFrame(
        {"ligne": list(BDT_ENVELOPE_LINES), "enveloppe": [float(r.value) for r in BDT_ENVELOPE_LINES.values()]}
    )
    moves = ops.group_by("date", "ligne").agg(
        (pl.col("engagement").sum() * 1000).alias("engage"), (pl.col("paiement").sum() * 1000).alias("paye")
    )
    return (
        grid.join(lines, how="cross")
        .join(moves, on=["date", "ligne"], how="left")
        .with_columns(pl.col("engage").fill_null(0.0), pl.col("paye").fill_null(0.0))
        .sort("ligne", "date")
        .with_columns(pl.col("engage").cum_sum().over("ligne"), pl.col("paye").cum_sum().over("ligne"))
        .select(list(schema))
        .sort("date", "ligne")
    )


# --- the 2018 arrears of the inter-operator fund ----------------------------------------------


def _arrears_rows(con: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame:
    schema = {
        "departement": pl.String,
        "date_delegation": pl.Date,
        "msap_regularisees": pl.Int64,
        "montant_verse": pl.Int64,
    }
    if not _has_rows(con, "regularisation_msap_2018"):
        return pl.DataFrame(schema=schema)
    departements = list(scope.departements)
    if scope.territory().level == "national":
        where, params = "TRUE", []
    else:
        where, params = f"r.departement IN ({', '.join('?' * len(departements))})", departements
    return (
        con.sql(
            f"""SELECT departement, date_delegation, msap_regularisees, montant_verse
                       FROM regularisation_msap_2018 r WHERE {where}
                       ORDER BY date_delegation, departement""",
            params=params,
        )
        .pl()
        .cast(schema)
    )


@cached(maxsize=64)
def arrears_by_departement(con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL) -> pl.DataFrame:
    """Per département of the territory: MSAP regularised, amount paid, last payment date.

    The data are départemental: a site scope shows its département; format and carrier filters
    do not apply.
    """
    return (
        _arrears_rows(con, scope)
        .group_by("departement")
        .agg(
            pl.col("msap_regularisees").sum(),
            pl.col("montant_verse").sum(),
            pl.col("date_delegation").max().alias("derniere_regularisation"),
        )
        .sort("departement")
    )


@cached(maxsize=64)
def arrears_timeline(con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL) -> pl.DataFrame:
    """Cumulated MSAP regularised by date (``date``, ``msap_regularisees``, ``restant``).

    ``restant`` is counted against the 368 MSAP of the circular only at national scope (the text
    gives no breakdown by département); it is null otherwise.
    """
    rows = _arrears_rows(con, scope)
    frame = rows.group_by(pl.col("date_delegation").alias("date")).agg(pl.col("msap_regularisees").sum()).sort("date")
    frame = frame.with_columns(pl.col("msap_regularisees").cum_sum())
    owed = int(MSAP_ARREARS_2018.value) if scope.level == "national" else None
    return frame.with_columns((pl.lit(owed, pl.Int64) - pl.col("msap_regularisees")).alias("restant"))
