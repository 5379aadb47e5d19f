"""Trajectoire et maillage: the path to the network's targets (annex 2), the former MSAP, canton
coverage, distance to the nearest site and where to open next.

Everything here is measured on the scope's *territory* (:meth:`Scope.territory`): a site's
département, the area without the format and carrier filters. Coverage is a property of a
territory, and the trajectory is read against the official label series, which counts every
site of a zone; so the sections say which territory they show when it differs from the scope.
Every section speaks for the site registry at a date: its data date is the registry's and the
day of the situation, never the activity feed's.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from fsdash import charts, formats
from fsdash.cache import cached
from fsdash.catalogue import load_catalogue
from fsdash.circulaire import EVERY_CANTON_COVERED, MSAP_HOMOLOGATION_DEADLINE, SITES_AT_1_JAN_2020, SITES_END_2022
from fsdash.metrics import candidates, coverage, network, official
from fsdash.metrics.scope import UNKNOWN_CARRIER, UNKNOWN_CARRIER_LABEL, Scope, directory
from fsdash.official import LABELS
from fsdash.views.common import (
    REGISTRY_SOURCE,
    chart_spec,
    definitions,
    is_demo,
    registry_date,
    situation_date,
    territory_note,
)
from fsdash.views.section import Column, Message, Section, Table, Tile

TRAJECTORY_START = dt.date(2019, 10, 1)
BREAKDOWN_LABELS = {"format": "Format", "type_site": "Type", "porteur": "Porteur"}
#: Radii offered for the candidates' accessibility target (km).
CANDIDATE_RADII = (5, 10, 15, 20)
CANDIDATES_SHOWN = 10
FARTHEST_SHOWN = 20
GEOGRAPHY_SOURCE = "géographie INSEE/IGN (data/geo/PROVENANCE.md)"
OFFICIAL_LABELS_SOURCE = (
    "série officielle : baromètre des résultats de l'action publique (Etalab), labellisations cumulées"
)
OFFICIAL_MISSING = " (série officielle non chargée : python -m fsdash import-indicators)"

#: Titles the page draws itself, above the widgets its sections depend on.
COVERAGE_TITLE = "Maillage du territoire"
CANDIDATES_TITLE = "Où ouvrir ensuite"


def _registry_date(wh, day: dt.date) -> str:
    return f"{situation_date(day)}. {registry_date(wh)}"


def _group_labels(breakdown: str) -> dict[str, str]:
    dimension = load_catalogue().dimensions[breakdown]
    return {**{v.code: v.label for v in dimension.values}, UNKNOWN_CARRIER: UNKNOWN_CARRIER_LABEL}


def _official_labels(wh, area: Scope) -> pl.DataFrame | None:
    """The Etalab label series of the territory, or None when no official series is loaded."""
    if not official.has_official_series(wh):
        return None
    series = official.official_series(wh, area, LABELS)
    return series if series["value"].is_not_null().any() else None


@cached(maxsize=64, kind="section")
def trajectory(wh, scope: Scope, today: dt.date) -> Section:
    """Open sites month by month since the circular, beside the official label series and, at
    national scope, the 300-site and 2 500-site targets."""
    area = scope.territory()
    months = network.labelled_by_month(wh, area, TRAJECTORY_START, today)
    labels = _official_labels(wh, area)
    if not months["sites"].max() and labels is None:
        return Section("trajectoire", "Trajectoire du réseau", empty="Aucun site labellisé dans ce périmètre.")
    targets = [SITES_AT_1_JAN_2020, SITES_END_2022] if area.level == "national" else []
    table = months.select(pl.col("date").alias("Date"), pl.col("sites").alias("Sites ouverts (référentiel)"))
    data_date = _registry_date(wh, today)
    if labels is not None:
        measured = labels.filter(pl.col("value").is_not_null())
        table = table.join(
            measured.select(
                pl.col("date").alias("Date"),
                pl.col("value").round(0).cast(pl.Int64).alias("Sites labellisés (série officielle)"),
            ),
            on="Date",
            how="full",
            coalesce=True,
        ).sort("Date")
        data_date += f". Série officielle jusqu'au {formats.date_long(measured['date'].max())}"
    notes = tuple(f"Objectif : {formats.number(t.value)} au {formats.date_long(t.date)} ({t.source})." for t in targets)
    return Section(
        "trajectoire",
        "Trajectoire du réseau",
        chart=chart_spec(charts.trajectory(months, targets, labels)),
        chart_alt="Courbe des sites labellisés ouverts, mois par mois"
        + (", et de la série officielle des labellisations." if labels is not None else "."),
        table=Table(
            table,
            (
                Column("Date", "date"),
                Column("Sites ouverts (référentiel)", "integer"),
                Column("Sites labellisés (série officielle)", "integer"),
            ),
        ),
        definitions=definitions(["sites.date_labellisation", "sites.date_fermeture"]),
        source=REGISTRY_SOURCE + (f" ; {OFFICIAL_LABELS_SOURCE}" if labels is not None else OFFICIAL_MISSING),
        data_date=data_date,
        demo=is_demo(wh),
        notes=notes + territory_note(wh, scope),
    )


@cached(maxsize=64, kind="section")
def trajectory_by(wh, scope: Scope, today: dt.date, breakdown: str) -> Section:
    """Open sites month by month, one line per format, type of site or carrier."""
    area = scope.territory()
    key = f"trajectoire-par-{breakdown}"
    split = network.labelled_by_month_by(wh, area, TRAJECTORY_START, today, breakdown)
    if split.is_empty():
        return Section(key, heading="none", empty="Aucune donnée pour ce filtre.")
    labels = _group_labels(breakdown)
    heading = BREAKDOWN_LABELS[breakdown]
    return Section(
        key,
        f"Sites ouverts par {heading.lower()}",
        heading="none",
        chart=chart_spec(charts.trajectory_by(split, labels, "Sites ouverts")),
        chart_alt=f"Courbes des sites ouverts mois par mois, une par {heading.lower()}.",
        table=Table(
            split.select(
                pl.col("date").alias("Date"),
                pl.col("groupe").replace_strict(labels, default=pl.col("groupe")).alias(heading),
                pl.col("sites").alias("Sites"),
            ),
            (Column("Date", "date"), Column("Sites", "integer")),
        ),
        definitions=definitions([f"sites.{breakdown}"]),
        source=REGISTRY_SOURCE,
        data_date=_registry_date(wh, today),
        demo=is_demo(wh),
        notes=territory_note(wh, scope),
    )


@cached(maxsize=64, kind="section")
def msap(wh, scope: Scope) -> Section:
    """Former MSAP labelled France Services before the homologation deadline (annex 1 B), and after."""
    area = scope.territory()
    deadline = MSAP_HOMOLOGATION_DEADLINE
    row = network.msap_conversion(wh, area, deadline.date).row(0, named=True)
    notes = []
    if row["non_renseigne"]:
        notes.append(
            f"{formats.plural(row['non_renseigne'], 'site')} dont la source ne dit pas s'ils étaient des MSAP "
            "(la liste ANCT ne le précise pas)."
        )
    return Section(
        "anciennes-msap",
        "Anciennes MSAP",
        heading="none",
        tiles=(
            Tile(
                "Anciennes MSAP labellisées",
                formats.number(row["msap_total"]),
                help=f"{deadline.label.capitalize()} : {formats.date_long(deadline.date)} ({deadline.source}).",
            ),
            Tile(f"… avant le {formats.date_short(deadline.date)}", formats.number(row["avant_echeance"])),
            Tile("… après l'échéance", formats.number(row["apres_echeance"])),
        ),
        definitions=definitions(["sites.ancienne_msap"]),
        source=REGISTRY_SOURCE,
        data_date=registry_date(wh),
        demo=is_demo(wh),
        notes=(*notes, *territory_note(wh, scope)),
    )


def _coverage_definition(summary: dict) -> str:
    return (
        "**Définitions.** Un canton est couvert quand au moins un site ouvert est implanté dans l'une de ses "
        "communes. Une grande ville partagée entre plusieurs cantons est comptée comme un canton (« pseudo-canton ») : "
        "un seul site la couvre, ce qui l'avantage ; les cantons qui en partagent une partie sans site propre sont "
        "dits *incertains*. Paris, la métropole de Lyon, la Martinique et la Guyane n'ont pas de cantons et sont hors "
        f"de cet objectif ({formats.plural(summary['communes_sans_canton'], 'commune')}, "
        f"{formats.plural(summary['population_sans_canton'], 'habitant')})."
    )


@cached(maxsize=64, kind="section")
def coverage_tiles(wh, scope: Scope, day: dt.date) -> Section:
    """Cantons covered (every canton by the end of 2022, annex 2) and population within 5, 10 and 20 km."""
    area = scope.territory()
    cantons = coverage.canton_coverage_summary(wh, area, day).row(0, named=True)
    within = coverage.population_within(wh, area, day)
    tiles = []
    if cantons["cantons_total"]:
        tiles.append(
            Tile(
                "Cantons couverts",
                formats.percent(cantons["share"], 1),
                help=f"Objectif de la circulaire ({EVERY_CANTON_COVERED.source}) : chaque canton couvert d'ici fin 2022.",
                caption=f"{formats.number(cantons['cantons_covered'])} sur {formats.number(cantons['cantons_total'])} ; "
                f"jusqu'à {formats.percent(cantons['share_max'], 1)} en comptant les cantons incertains",
            )
        )
    for row in within.iter_rows(named=True):
        tiles.append(
            Tile(
                f"Population à moins de {row['radius_km']:g} km",
                formats.percent(row["share"], 1),
                help=f"{DISTANCE_NOTE} Communes sans population connue (Mayotte) exclues.",
                caption=f"{formats.number(row['population_within'])} habitants sur "
                f"{formats.number(row['population_total'])}",
            )
        )
    return Section(
        "maillage",
        COVERAGE_TITLE,
        heading="none",
        tiles=tuple(tiles),
        definitions=(_coverage_definition(cantons),),
        source=f"{REGISTRY_SOURCE} ; {GEOGRAPHY_SOURCE}",
        data_date=_registry_date(wh, day),
        demo=is_demo(wh),
        notes=territory_note(wh, scope),
    )


@cached(maxsize=64, kind="section")
def uncovered_cantons(wh, scope: Scope, day: dt.date) -> Section:
    """Cantons of the territory without any open site, most populated first."""
    area = scope.territory()
    by_canton = coverage.canton_coverage(wh, area, day)
    title = "Cantons sans site"
    common = {
        "source": f"{REGISTRY_SOURCE} ; {GEOGRAPHY_SOURCE}",
        "data_date": _registry_date(wh, day),
        "demo": is_demo(wh),
        "notes": territory_note(wh, scope),
    }
    if by_canton.is_empty():
        return Section(
            "cantons-sans-site",
            title,
            messages=(
                Message(
                    "Aucun canton dans ce périmètre : Paris, la métropole de Lyon, la Martinique et la Guyane "
                    "n'ont pas de cantons."
                ),
            ),
            **common,
        )
    uncovered = by_canton.filter(~pl.col("couvert"))
    if uncovered.is_empty():
        return Section(
            "cantons-sans-site",
            title,
            messages=(Message("Tous les cantons du périmètre ont au moins un site.", "success"),),
            **common,
        )
    names = _departement_names(wh)
    table = uncovered.sort("population", descending=True, nulls_last=True).select(
        pl.col("code").alias("Canton"),
        pl.col("nom").alias("Nom"),
        pl.col("departement").replace_strict(names, default=pl.col("departement")).alias("Département"),
        pl.col("population").alias("Population"),
        pl.col("incertain").alias("Incertain"),
    )
    return Section(
        "cantons-sans-site",
        title,
        table=Table(table, (Column("Population", "integer"), Column("Incertain", "boolean"))),
        table_in_expander=False,
        **common,
    )


#: Where the nearest site is searched (the metric's access territories, :func:`coverage.access_territory`).
DISTANCE_NOTE = (
    "Distance à vol d'oiseau (grand cercle) entre la commune et le site ouvert le plus proche : en métropole "
    "(Corse comprise), quel que soit son département ; outre-mer, parmi les sites du même département."
)


def _departement_names(wh) -> dict[str, str]:
    """« 976 — Mayotte » for a département code (the resolver's directory)."""
    d = directory(wh)
    return {code: d.area_label("departement", code) for code in d.departements}


def _without_site_messages(wh, area: Scope, day: dt.date) -> tuple[Message, ...]:
    """One sentence per territory without any open site: its communes have no distance (« – »)
    rather than one measured to another territory's sites."""
    missing = coverage.territories_without_site(wh, area, day)
    names = _departement_names(wh)
    messages = []
    for row in missing.iter_rows(named=True):
        where = names.get(row["departement"], row["departement"]) if row["departement"] else "France métropolitaine"
        messages.append(
            Message(
                f"{where} : aucun site ouvert, les distances de ses "
                f"{formats.plural(row['communes'], 'commune')} ne sont pas mesurées (« – » dans le tableau)."
            )
        )
    return tuple(messages)


#: Why the nearest site of some communes is not named to a département's committee.
NEAREST_RESERVED = (
    "« – » pour le site le plus proche : il est situé dans un autre département, dont le détail site par site est "
    "réservé à son comité départemental, au comité national et à l'équipe du programme (la distance reste donnée)."
)


@cached(maxsize=64, kind="section")
def farthest_communes(wh, scope: Scope, day: dt.date) -> Section:
    """The communes of the territory farthest from any open site (criterion i of annex 2)."""
    area = scope.territory()
    far = coverage.farthest_communes(wh, area, day, FARTHEST_SHOWN)
    title = "Communes les plus éloignées d'un site"
    if far.is_empty():
        return Section("communes-eloignees", title, empty="Aucune commune dans ce périmètre.")
    names = _departement_names(wh)
    # the nearest site is named only when the viewer sees its département's sites one by one
    nearest = directory(wh).sites.select(
        pl.col("site_id").alias("nearest_site_id"), pl.col("departement").alias("_nearest_departement")
    )
    far = far.join(nearest, on="nearest_site_id", how="left", maintain_order="left").with_columns(
        pl.when(scope.site_detail_filter("_nearest_departement"))
        .then(pl.col("nearest_site_nom"))
        .otherwise(pl.lit(None, pl.String))
        .alias("nearest_site_nom")
    )
    hidden = far.filter(pl.col("nearest_site_id").is_not_null() & pl.col("nearest_site_nom").is_null()).height > 0
    table = far.select(
        pl.col("code_insee").alias("Commune"),
        pl.col("nom").alias("Nom"),
        pl.col("departement").replace_strict(names, default=pl.col("departement")).alias("Département"),
        pl.col("population").alias("Population"),
        pl.col("distance_km").round(1).alias("Distance (km)"),
        pl.col("nearest_site_nom").alias("Site le plus proche"),
    )
    return Section(
        "communes-eloignees",
        title,
        messages=_without_site_messages(wh, area, day),
        table=Table(table, (Column("Population", "integer"), Column("Distance (km)", "decimal", 1))),
        table_in_expander=False,
        source=f"{REGISTRY_SOURCE} ; {GEOGRAPHY_SOURCE}",
        data_date=_registry_date(wh, day),
        demo=is_demo(wh),
        notes=(
            DISTANCE_NOTE,
            "Population inconnue (Mayotte) : « – ».",
            *((NEAREST_RESERVED,) if hidden else ()),
            *territory_note(wh, scope),
        ),
    )


def candidates_possible(scope: Scope) -> bool:
    """Candidates are ranked within one département (the departmental plan): the page shows the
    radius widget only then."""
    return scope.territory().level == "departement"


@cached(maxsize=64, kind="section")
def opening_candidates(wh, scope: Scope, day: dt.date, radius_km: int) -> Section:
    """The communes of the département where a new site or bus stop would help most (annex 2)."""
    area = scope.territory()
    key = "ou-ouvrir"
    if area.level != "departement":
        return Section(
            key,
            CANDIDATES_TITLE,
            heading="none",
            messages=(
                Message(
                    "Choisissez un département dans le périmètre (barre latérale) pour classer les communes "
                    "candidates à un nouveau site ou à un arrêt de bus selon les critères de l'annexe 2 de la "
                    "circulaire."
                ),
            ),
        )
    ranked = candidates.opening_candidates(wh, area, day, CANDIDATES_SHOWN, radius_km)
    common = {
        "source": f"{REGISTRY_SOURCE} ; {GEOGRAPHY_SOURCE}",
        "data_date": _registry_date(wh, day),
        "demo": is_demo(wh),
    }
    if ranked.is_empty():
        return Section(
            key,
            CANDIDATES_TITLE,
            heading="none",
            messages=(
                Message(
                    "Aucune commune ne rapprocherait d'habitants ni ne couvrirait de canton dans ce département.",
                    "success",
                ),
            ),
            **common,
        )
    table = ranked.select(
        pl.col("rang").alias("Rang"),
        pl.col("code_insee").alias("Commune"),
        pl.col("nom").alias("Nom"),
        pl.col("population").alias("Population"),
        pl.col("distance_km").round(1).alias("Distance actuelle (km)"),
        pl.col("gain_population").alias("Habitants rapprochés"),
        pl.col("score").alias("Score"),
        pl.col("raisons").alias("Raisons"),
    )
    return Section(
        f"{key}-{area.code}",
        CANDIDATES_TITLE,
        heading="none",
        table=Table(
            table,
            (
                Column("Rang", "integer"),
                Column("Population", "integer"),
                Column("Distance actuelle (km)", "decimal", 1),
                Column("Habitants rapprochés", "integer"),
                Column("Score", "decimal", 1),
            ),
        ),
        table_in_expander=False,
        notes=(
            "Critères de l'annexe 2 que les données permettent : population éloignée de tout site (i), "
            "petites centralités, approchées par la population (ii), canton non couvert, outre-mer (v). "
            "Sélection gloutonne : chaque candidat ne compte que les habitants que les précédents ne "
            "rapprochent pas déjà.",
            f"Rayon d'accessibilité visé : {radius_km} km.",
        ),
        **common,
    )
