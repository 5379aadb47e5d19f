"""Accueil: the strategic committee's headline figures for the scope — the network against the
circular's targets, the activity of the last quarter, satisfaction and money."""

from __future__ import annotations

import datetime as dt

import polars as pl

from fsdash import charts, formats
from fsdash.cache import cached
from fsdash.circulaire import BDT_ENVELOPE, EVERY_CANTON_COVERED, SITES_AT_1_JAN_2020
from fsdash.metrics import activity, coverage, funding, network, satisfaction
from fsdash.metrics.scope import Scope
from fsdash.views.common import (
    FEED_SOURCE,
    REGISTRY_SOURCE,
    chart_spec,
    definitions,
    feed_date,
    is_demo,
    registry_date,
    situation_date,
)
from fsdash.views.section import Column, Message, Section, Table, Tile

TRAJECTORY_START = dt.date(2019, 10, 1)


@cached(maxsize=64, kind="section")
def network_tiles(wh, scope: Scope, today: dt.date) -> Section:
    """Open sites (and the 300-site target at national scope), cantons covered, population near a site."""
    area = scope.territory()
    open_now = network.sites_labelled_at(wh, scope, (today,))["sites"][0]
    tiles = [
        Tile(
            "Sites labellisés ouverts",
            formats.number(open_now),
            help=f"Sites labellisés et non fermés au {formats.date_long(today)}.",
            caption=_launch_caption(wh, scope),
        )
    ]
    cantons = coverage.canton_coverage_summary(wh, area, today).row(0, named=True)
    if cantons["cantons_total"]:
        tiles.append(
            Tile(
                "Cantons couverts",
                formats.percent(cantons["share"], 1),
                help="Cantons comptant au moins un site ouvert ; objectif : tous les cantons fin 2022 "
                f"({EVERY_CANTON_COVERED.source}). Définition détaillée : page Trajectoire et maillage.",
                caption=f"{formats.number(cantons['cantons_covered'])} cantons sur "
                f"{formats.number(cantons['cantons_total'])}",
            )
        )
    within = coverage.population_within(wh, area, today).filter(pl.col("radius_km") == 10).row(0, named=True)
    tiles.append(
        Tile(
            "Population à moins de 10 km d'un site",
            formats.percent(within["share"], 1),
            help="Part de la population dont la commune est à moins de 10 km (distance à vol d'oiseau, "
            "sur la sphère terrestre) du site ouvert le plus proche.",
            caption=f"{formats.number(within['population_within'])} habitants",
        )
    )
    notes = (f"Couverture du territoire : {area.title}.",) if area != scope else ()
    return Section(
        "reseau",
        "Le réseau",
        tiles=tuple(tiles),
        source=REGISTRY_SOURCE,
        data_date=f"{situation_date(today)}. {registry_date(wh)}",
        demo=is_demo(wh),
        notes=notes,
    )


def _launch_caption(wh, scope: Scope) -> str | None:
    if scope.level != "national":
        return None
    at_launch = network.sites_labelled_at(wh, scope, (SITES_AT_1_JAN_2020.date,))["sites"][0]
    return (
        f"{formats.number(at_launch)} au {formats.date_long(SITES_AT_1_JAN_2020.date)}, pour un objectif "
        f"de {formats.number(SITES_AT_1_JAN_2020.value)} ({SITES_AT_1_JAN_2020.source})."
    )


@cached(maxsize=64, kind="section")
def trajectory(wh, scope: Scope, today: dt.date) -> Section:
    """Open sites month by month since the circular, with the 1 January 2020 target at national scope."""
    months = network.labelled_by_month(wh, scope, TRAJECTORY_START, today)
    if not months["sites"].max():
        return Section("trajectoire", empty="Aucun site labellisé dans ce périmètre.", heading="none")
    targets = [SITES_AT_1_JAN_2020] if scope.level == "national" else []
    return Section(
        "trajectoire",
        chart=chart_spec(charts.trajectory(months, targets)),
        chart_alt="Courbe du nombre de sites labellisés ouverts, mois par mois.",
        table=Table(
            months.select(pl.col("date").alias("Date"), pl.col("sites").alias("Sites ouverts")),
            (Column("Date", "date"), Column("Sites ouverts", "integer")),
        ),
        definitions=definitions(["sites.date_labellisation", "sites.date_fermeture"]),
        source=REGISTRY_SOURCE,
        data_date=registry_date(wh),
        demo=is_demo(wh),
    )


@cached(maxsize=64, kind="section")
def activity_tiles(wh, scope: Scope, last: dt.date) -> Section:
    """Requests and users of the last quarter of the period, with the year-on-year change; reporting
    completeness (charter 3.1)."""
    headline = activity.quarter_headline(wh, scope, last)
    change = headline["evolution"]
    completeness = activity.reporting_completeness(wh, scope, last).row(0, named=True)
    quarter = formats.quarter_short(last)
    return Section(
        "activite",
        "L'activité",
        tiles=(
            Tile(
                f"Demandes — {quarter}",
                formats.number(headline["demandes"]),
                delta=(formats.signed_percent(change, 1, minus="-") + " sur un an") if change is not None else None,
                help="Demandes traitées déclarées par les sites (charte 3.1), comparées au même trimestre "
                "de l'année précédente ; les déclarations en retard ne sont pas encore comptées.",
            ),
            Tile(f"Usagers accueillis — {quarter}", formats.number(headline["usagers"])),
            Tile(
                f"Complétude — {quarter}",
                formats.percent(completeness["taux"], 1),
                help="Sites ayant déclaré leur activité du trimestre parmi les sites ouverts pendant ce trimestre "
                "(reporting trimestriel obligatoire, charte 3.1).",
                caption=f"{formats.number(completeness['declarants'])} sites sur "
                f"{formats.number(completeness['attendus'])}",
            ),
        ),
        source=FEED_SOURCE,
        data_date=feed_date(wh),
        demo=is_demo(wh),
    )


@cached(maxsize=64, kind="section")
def requests_by_quarter(wh, scope: Scope) -> Section:
    """Requests per quarter since the first report: seasonality and growth."""
    by_quarter = activity.activity_by_quarter(wh, scope)
    if by_quarter.is_empty():
        return Section("demandes-par-trimestre", empty="Aucune donnée pour ce filtre.", heading="none")
    table = charts.with_quarter_labels(by_quarter).select(
        pl.col("trimestre").alias("Trimestre"),
        pl.col("demandes").alias("Demandes"),
        pl.col("usagers").alias("Usagers accueillis"),
        pl.col("sites_declarants").alias("Sites déclarants"),
    )
    return Section(
        "demandes-par-trimestre",
        chart=chart_spec(charts.quarterly_bars(by_quarter, "demandes", "Demandes traitées par trimestre")),
        chart_alt="Histogramme des demandes traitées par trimestre.",
        table=Table(table),
        definitions=definitions(["activite.demandes", "activite.usagers_accueillis"]),
        source=FEED_SOURCE,
        data_date=feed_date(wh),
        demo=is_demo(wh),
    )


@cached(maxsize=64, kind="section")
def satisfaction_tile(wh, scope: Scope, first: dt.date | None, last: dt.date | None) -> Section:
    """Users satisfied at the kiosks over the period (charter 3.2), with the 95 % interval."""
    kiosk = satisfaction.kiosk_summary(wh, scope, first, last).row(0, named=True)
    if not kiosk["reponses"]:
        return Section("satisfaction", messages=(Message("Aucune réponse aux bornes de satisfaction pour ce filtre."),))
    return Section(
        "satisfaction",
        tiles=(
            Tile(
                "Usagers satisfaits (bornes)",
                ("≈ " if kiosk["fragile"] else "") + formats.percent(kiosk["taux"], 1),
                help="Réponses « satisfait » et « très satisfait » aux bornes à l'entrée des sites, sur la période "
                "choisie (charte 3.2).",
                caption=f"{formats.number(kiosk['reponses'])} réponses ; intervalle de confiance à 95 % : "
                f"{formats.percent(kiosk['ic_bas'], 1)} à {formats.percent(kiosk['ic_haut'], 1)}",
            ),
        ),
    )


@cached(maxsize=8, kind="section")
def envelope_tile(wh) -> Section:
    """The share of the Banque des Territoires envelope committed (annex 4), national by nature."""
    envelope = funding.envelope_status(wh)
    committed, paid = envelope["engage"].sum(), envelope["paye"].sum()
    if not committed:
        return Section(
            "enveloppe", messages=(Message("Aucune opération de l'enveloppe Banque des Territoires chargée."),)
        )
    return Section(
        "enveloppe",
        tiles=(
            Tile(
                "Enveloppe Banque des Territoires engagée",
                formats.percent(committed / BDT_ENVELOPE.value, 1),
                help=f"{BDT_ENVELOPE.label} : {formats.millions_euros(BDT_ENVELOPE.value)} ({BDT_ENVELOPE.source}), "
                "dont 17 M€ pour La Poste, 10 M€ pour l'animation du réseau, 3 M€ pour les bus.",
                caption=f"{formats.millions_euros(committed)} engagés et {formats.millions_euros(paid)} payés sur "
                f"{formats.millions_euros(BDT_ENVELOPE.value)} (national)",
            ),
        ),
    )
