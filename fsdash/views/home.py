"""Accueil: the strategic committee's headline figures for the scope — the network against the
circular's targets, the activity of the last quarter, satisfaction and money."""

from __future__ import annotations

import datetime as dt

import polars as pl

from fsdash import charts, formats
from fsdash.cache import cached
from fsdash.circulaire import BDT_ENVELOPE, EVERY_CANTON_COVERED, SITES_AT_1_JAN_2020
from fsdash.filters import Filters
from fsdash.metrics import activity, coverage, funding, network, satisfaction
from fsdash.metrics.scope import Scope
from fsdash.periods import shift_quarters
from fsdash.views.common import (
    DELTA_SUFFIX,
    FEED_SOURCE,
    REGISTRY_SOURCE,
    chart_spec,
    comparison_label,
    definitions,
    feed_date,
    is_demo,
    page_title,
    period_text,
    points_delta,
    registry_date,
    situation_date,
)
from fsdash.views.section import Column, Message, Section, Table, Tile

TRAJECTORY_START = dt.date(2019, 10, 1)


def _network_figures(wh, scope: Scope, day: dt.date) -> dict:
    """Open sites of the scope, cantons covered and population within 10 km of its territory, at a date."""
    area = scope.territory()
    cantons = coverage.canton_coverage_summary(wh, area, day).row(0, named=True)
    within = coverage.population_within(wh, area, day).filter(pl.col("radius_km") == 10).row(0, named=True)
    return {
        "sites": network.sites_labelled_at(wh, scope, (day,))["sites"][0],
        "cantons": cantons,
        "within": within,
    }


def _network_reference(wh, scope: Scope, today: dt.date, comparison: str) -> tuple[dict | None, str | None]:
    """The figures the network tiles are compared with, and the words of the comparison: France
    entière at the same date, or the same scope a year before (« même période l'an dernier »)."""
    if comparison == "nationale" and scope.level != "national":
        return _network_figures(wh, scope.national(), today), DELTA_SUFFIX["nationale"]
    if comparison == "annee":
        return _network_figures(wh, scope, today.replace(year=today.year - 1)), DELTA_SUFFIX["annee"]
    return None, None


def _network_notes(scope: Scope, today: dt.date, comparison: str) -> tuple[str, ...]:
    notes = [f"Couverture du territoire : {scope.territory().title}."] if scope.territory() != scope else []
    if comparison == "annee":
        notes.append(f"Comparaison : la situation au {formats.date_long(today.replace(year=today.year - 1))}.")
    elif comparison == "precedente":
        notes.append(
            "Comparaison « Période précédente » sans objet ici : le réseau est mesuré à une date, pas sur une "
            "période (« Même période l'an dernier » le compare au même jour un an plus tôt)."
        )
    elif comparison == "nationale" and scope.level != "national":
        notes.append("Comparaison : France entière à la même date.")
    return tuple(notes)


@cached(maxsize=64, kind="section")
def network_tiles(wh, scope: Scope, today: dt.date, comparison: str = "aucune") -> Section:
    """Open sites (and the 300-site target at national scope), cantons covered, population near a site —
    against France entière or a year before when the comparison asks (shares in points)."""
    figures = _network_figures(wh, scope, today)
    reference, suffix = _network_reference(wh, scope, today, comparison)
    cantons, within = figures["cantons"], figures["within"]
    tiles = [
        Tile(
            "Sites labellisés ouverts",
            formats.number(figures["sites"]),
            delta=_count_delta(figures["sites"], reference, suffix),
            help=f"Sites labellisés et non fermés au {formats.date_long(today)}.",
            caption=_launch_caption(wh, scope) or _national_sites_caption(scope, reference, comparison),
        )
    ]
    if cantons["cantons_total"]:
        tiles.append(
            Tile(
                "Cantons couverts",
                formats.percent(cantons["share"], 1),
                delta=points_delta(cantons["share"], reference and reference["cantons"]["share"], suffix),
                help="Cantons comptant au moins un site ouvert ; objectif : tous les cantons fin 2022 "
                f"({EVERY_CANTON_COVERED.source}). Définition détaillée : page {page_title('maillage')}.",
                caption=f"{formats.plural(cantons['cantons_covered'], 'canton')} sur "
                f"{formats.number(cantons['cantons_total'])}",
            )
        )
    tiles.append(
        Tile(
            "Population à moins de 10 km d'un site",
            formats.percent(within["share"], 1),
            delta=points_delta(within["share"], reference and reference["within"]["share"], suffix),
            help="Part de la population dont la commune est à moins de 10 km (distance à vol d'oiseau, "
            "sur la sphère terrestre) du site ouvert le plus proche.",
            caption=f"{formats.number(within['population_within'])} habitants",
        )
    )
    return Section(
        "reseau",
        f"Le réseau — {situation_date(today).lower()}",
        tiles=tuple(tiles),
        source=REGISTRY_SOURCE,
        data_date=f"{situation_date(today)}. {registry_date(wh)}",
        demo=is_demo(wh),
        notes=_network_notes(scope, today, comparison),
    )


def _count_delta(value: int, reference: dict | None, suffix: str | None) -> str | None:
    """« +12 sur un an »: open sites against a year before (a count against France is no change)."""
    if reference is None or suffix != DELTA_SUFFIX["annee"]:
        return None
    gap = value - reference["sites"]
    return f"{'+' if gap >= 0 else '-'}{formats.number(abs(gap))} {suffix}"


def _national_sites_caption(scope: Scope, reference: dict | None, comparison: str) -> str | None:
    """« 2 845 en France entière »: the national count beside a territory's (a count has no delta)."""
    if comparison != "nationale" or reference is None or scope.level == "national":
        return None
    return f"{formats.number(reference['sites'])} en France entière"


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
        notes=(
            "Mois par mois depuis la circulaire, quelle que soit la période choisie (le réseau se compte à une date).",
        ),
    )


def _quarter_figures(wh, scope: Scope, quarter: dt.date) -> dict:
    """Requests, users and reporting completeness of one quarter."""
    frame = activity.activity_by_quarter(wh, scope).filter(pl.col("periode") == quarter)
    completeness = activity.reporting_completeness(wh, scope, quarter).row(0, named=True)
    return {
        "demandes": frame["demandes"][0] if frame.height else None,
        "usagers": frame["usagers"][0] if frame.height else None,
        "completude": completeness,
    }


def _compared_quarter(scope: Scope, last: dt.date, comparison: str) -> tuple[Scope, dt.date, str] | None:
    """Whom the last quarter is compared with: the quarter before, the same quarter a year before
    (also without comparison, the committee's usual reading), or France entière the same quarter."""
    if comparison == "precedente":
        return scope, shift_quarters(last, -1), "vs trimestre précédent"
    if comparison == "nationale" and scope.level != "national":
        return scope.national(), last, DELTA_SUFFIX["nationale"]
    return scope, shift_quarters(last, -4), DELTA_SUFFIX["annee"]


def _change(value: float | None, reference: float | None, suffix: str) -> str | None:
    if not value or not reference:
        return None
    return f"{formats.signed_percent(value / reference - 1, 1, minus='-')} {suffix}"


@cached(maxsize=64, kind="section")
def activity_tiles(wh, scope: Scope, last: dt.date, comparison: str = "aucune") -> Section:
    """Requests and users of the last quarter of the period, reporting completeness (charter 3.1) —
    against the comparison chosen: the quarter before, a year before, or France entière (its own
    year-on-year change beside the territory's, completeness in points)."""
    figures = _quarter_figures(wh, scope, last)
    other_scope, other_quarter, suffix = _compared_quarter(scope, last, comparison)
    reference = _quarter_figures(wh, other_scope, other_quarter)
    national = other_scope != scope
    year_suffix = DELTA_SUFFIX["annee"]
    own_change = _change(
        figures["demandes"], _quarter_figures(wh, scope, shift_quarters(last, -4))["demandes"], year_suffix
    )
    completeness = figures["completude"]
    quarter = formats.quarter_short(last)
    national_change = (
        _change(
            reference["demandes"], _quarter_figures(wh, other_scope, shift_quarters(last, -4))["demandes"], year_suffix
        )
        if national
        else None
    )
    return Section(
        "activite",
        f"L'activité — dernier trimestre de la période : {quarter}",
        tiles=(
            Tile(
                f"Demandes — {quarter}",
                formats.number(figures["demandes"]),
                delta=own_change if national else _change(figures["demandes"], reference["demandes"], suffix),
                help="Demandes traitées déclarées par les sites (charte 3.1), comparées au "
                + (
                    "même trimestre de l'année précédente"
                    if suffix == year_suffix or national
                    else "trimestre précédent"
                )
                + " ; les déclarations en retard ne sont pas encore comptées.",
                caption=(
                    f"France entière : {formats.number(reference['demandes'])}"
                    + (f" ({national_change})" if national_change else "")
                )
                if national
                else None,
            ),
            Tile(
                f"Usagers accueillis — {quarter}",
                formats.number(figures["usagers"]),
                delta=None if national else _change(figures["usagers"], reference["usagers"], suffix),
                caption=f"France entière : {formats.number(reference['usagers'])}" if national else None,
            ),
            Tile(
                f"Complétude — {quarter}",
                formats.percent(completeness["taux"], 1),
                delta=points_delta(completeness["taux"], reference["completude"]["taux"], suffix)
                if national or comparison != "aucune"
                else None,
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
    quarters = by_quarter["periode"]
    return Section(
        "demandes-par-trimestre",
        f"Demandes par trimestre — tous les trimestres chargés ({period_text(quarters.min(), quarters.max())})",
        heading="bold",
        chart=chart_spec(charts.quarterly_bars(by_quarter, "demandes", "Demandes traitées par trimestre")),
        chart_alt="Histogramme des demandes traitées par trimestre.",
        table=Table(table),
        definitions=definitions(["activite.demandes", "activite.usagers_accueillis"]),
        source=FEED_SOURCE,
        data_date=feed_date(wh),
        demo=is_demo(wh),
        notes=("Toute la série chargée, quelle que soit la période choisie : la saisonnalité et la croissance.",),
    )


@cached(maxsize=64, kind="section")
def satisfaction_tile(wh, filters: Filters) -> Section:
    """Users satisfied at the kiosks over the period (charter 3.2), with the 95 % interval, against the
    comparison chosen (points)."""
    scope, first, last = filters.scope, filters.first, filters.last
    kiosk = satisfaction.kiosk_summary(wh, scope, first, last).row(0, named=True)
    title = f"Satisfaction — {period_text(first, last)}"
    if not kiosk["reponses"]:
        return Section(
            "satisfaction",
            title,
            heading="bold",
            messages=(Message("Aucune réponse aux bornes de satisfaction pour ce filtre."),),
        )
    delta = None
    if (compared := filters.compared()) is not None:
        other = satisfaction.kiosk_summary(wh, compared.scope, compared.first, compared.last).row(0, named=True)
        delta = points_delta(kiosk["taux"], other["taux"], DELTA_SUFFIX[filters.comparison])
    return Section(
        "satisfaction",
        title,
        heading="bold",
        tiles=(
            Tile(
                "Usagers satisfaits (bornes)",
                ("≈ " if kiosk["fragile"] else "") + formats.percent(kiosk["taux"], 1),
                delta=delta,
                help="Réponses « satisfait » et « très satisfait » aux bornes à l'entrée des sites, sur la période "
                "choisie (charte 3.2)" + (f", comparées à : {comparison_label(filters)}." if delta else "."),
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
        "Enveloppe Banque des Territoires — tous les engagements chargés",
        heading="bold",
        notes=(
            "Enveloppe nationale : le périmètre, les formats et porteurs, la période et la comparaison "
            "ne s'y appliquent pas.",
        ),
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
