"""Fréquentation: users and requests over the quarters, per site, per agent FTE and per opening
hour; how the load spreads across sites; the map of the sites; the official monthly acts; the
charter's measurable commitments."""

from __future__ import annotations

import datetime as dt

import polars as pl

from fsdash import charts as shared_charts
from fsdash import formats, maps
from fsdash.cache import cached
from fsdash.catalogue import load_catalogue
from fsdash.charts import attendance as charts
from fsdash.charts import with_quarter_labels
from fsdash.filters import Filters
from fsdash.metrics import activity, attendance, charter, official
from fsdash.metrics.scope import Scope
from fsdash.official import ACTS
from fsdash.periods import quarter_offset
from fsdash.views.common import (
    FEED_SOURCE,
    chart_spec,
    comparison_label,
    definitions,
    feed_date,
    is_demo,
    percent_delta,
    site_detail_notes,
)
from fsdash.views.section import Column, Message, Section, Table, Tile

#: Quarterly measures of the trend chart: (French title, decimals, is a volume).
TREND_MEASURES = {
    "demandes": ("Demandes traitées", 0, True),
    "usagers": ("Usagers accueillis", 0, True),
    "demandes_par_site": ("Demandes par site déclarant", 0, False),
    "demandes_par_etp": ("Demandes par ETP", 0, False),
    "demandes_par_heure": ("Demandes par heure d'ouverture", 2, False),
}
#: Per-site measures the load can be read in.
LOAD_MEASURES = {
    k: v
    for k, v in attendance.MEASURES.items()
    if k in ("demandes_par_etp", "demandes_par_heure", "demandes_par_trimestre")
}
LOAD_INDICATORS = ["activite.demandes", "activite.agents_etp", "activite.heures_ouverture_hebdo"]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _compared_summary(wh, filters: Filters) -> dict | None:
    compared = filters.compared()
    if compared is None:
        return None
    return attendance.attendance_summary(wh, compared.scope, compared.first, compared.last).row(0, named=True)


@cached(maxsize=64, kind="section")
def summary(wh, filters: Filters) -> Section:
    """Six headline figures of the period, with their change against the comparison.

    Against the national average only ratios compare: the volumes of a département and of France
    are not of the same size.
    """
    scope = filters.scope
    row = attendance.attendance_summary(wh, scope, filters.first, filters.last).row(0, named=True)
    if not row["site_trimestres"]:
        return Section(
            "frequentation-chiffres",
            empty="Aucun site de ce périmètre n'a déclaré d'activité sur la période choisie.",
            heading="none",
        )
    reference = _compared_summary(wh, filters)
    totals_comparable = filters.comparison != "nationale"

    def delta(key: str, volume: bool = False) -> str | None:
        if reference is None or (volume and not totals_comparable):
            return None
        return percent_delta(row[key], reference.get(key), filters.comparison)

    label = comparison_label(filters)
    notes = [
        f"{formats.number(row['site_trimestres'])} déclarations trimestrielles sur "
        f"{formats.number(row['trimestres'])} trimestre(s)."
        + (f" Comparaison : {label}." if label else "")
        + (" Face à la moyenne nationale, seuls les ratios sont comparés." if not totals_comparable else "")
    ]
    messages = ()
    if row["sites_declarants"] < attendance.MIN_SITES_FOR_QUARTILES and scope.level != "site":
        messages = (
            Message(
                f"Petit effectif : {formats.number(row['sites_declarants'])} site(s) déclarant(s). Les ratios "
                "reflètent chaque site plus qu'une tendance.",
                "warning",
            ),
        )
    return Section(
        "frequentation-chiffres",
        heading="none",
        tiles=(
            Tile(
                "Usagers accueillis",
                formats.number(row["usagers"]),
                delta=delta("usagers", volume=True),
                help="Personnes reçues sur la période (somme des trimestres déclarés).",
            ),
            Tile(
                "Demandes traitées",
                formats.number(row["demandes"]),
                delta=delta("demandes", volume=True),
                help="Demandes traitées déclarées par les sites sur la période.",
            ),
            Tile(
                "Sites déclarants",
                formats.number(row["sites_declarants"]),
                help="Sites ayant déclaré au moins un trimestre de la période.",
            ),
            Tile(
                "Demandes par site et par trimestre",
                formats.number(row["demandes_par_site"]),
                delta=delta("demandes_par_site"),
                help="Demandes ÷ trimestres déclarés par les sites (un site qui a déclaré 3 trimestres compte 3).",
            ),
            Tile(
                "Demandes par ETP et par trimestre",
                formats.number(row["demandes_par_etp"]),
                delta=delta("demandes_par_etp"),
                help="Demandes ÷ agents d'accueil en équivalents temps plein, sommés sur les trimestres déclarés.",
            ),
            Tile(
                "Demandes par heure d'ouverture",
                formats.number(row["demandes_par_heure"], 2),
                delta=delta("demandes_par_heure"),
                help="Demandes ÷ (heures d'ouverture hebdomadaires × 13 semaines), sommées sur les trimestres "
                "déclarés.",
            ),
        ),
        tile_rows=(3, 3),
        messages=messages,
        notes=tuple(notes),
        extra={"reported": True},
    )


@cached(maxsize=64, kind="section")
def trend(wh, filters: Filters, measure: str) -> Section:
    """One measure per quarter, with the comparison over the same quarters (volumes only against
    another period, never against the nation)."""
    title, decimals, is_total = TREND_MEASURES[measure]
    by_quarter = attendance.attendance_by_quarter(wh, filters.scope, filters.first, filters.last)
    compared = filters.compared()
    label = comparison_label(filters)
    shown = None
    if compared is not None and (filters.comparison != "nationale" or not is_total):
        shown = charts.align(
            attendance.attendance_by_quarter(wh, compared.scope, compared.first, compared.last),
            quarter_offset(filters.first, compared.first),
        )
    table = with_quarter_labels(by_quarter).select(
        pl.col("trimestre").alias("Trimestre"),
        pl.col("usagers").alias("Usagers accueillis"),
        pl.col("demandes").alias("Demandes"),
        pl.col("sites_declarants").alias("Sites déclarants"),
        pl.col("agents_etp").round(1).alias("Agents (ETP)"),
        pl.col("heures_ouverture").round(0).cast(pl.Int64).alias("Heures d'ouverture"),
        pl.col("demandes_par_site").round(1).alias("Demandes par site"),
        pl.col("demandes_par_etp").round(1).alias("Demandes par ETP"),
        pl.col("demandes_par_heure").round(2).alias("Demandes par heure d'ouverture"),
    )
    if shown is not None:
        values = by_quarter.select("periode").join(
            shown.select("periode", pl.col(measure).cast(pl.Float64).alias(f"{title} — comparaison")),
            on="periode",
            how="left",
            maintain_order="left",
        )
        table = table.with_columns(values[f"{title} — comparaison"])
    note = (
        "Face à la moyenne nationale, les volumes ne se comparent pas : choisissez un ratio."
        if compared is not None and is_total and filters.comparison == "nationale"
        else None
    )
    return Section(
        "frequentation-trimestres",
        "Évolution trimestrielle",
        chart=chart_spec(
            charts.comparison_trend(
                by_quarter,
                measure,
                title,
                compared=shown,
                compared_label=label,
                decimals=decimals,
                mark="bar" if is_total else "line",
            )
        ),
        chart_alt=f"{title} par trimestre.",
        table=Table(table, _trend_columns(table, title, decimals)),
        definitions=definitions(
            [
                "activite.usagers_accueillis",
                "activite.demandes",
                "activite.agents_etp",
                "activite.heures_ouverture_hebdo",
            ]
        ),
        source=FEED_SOURCE,
        data_date=feed_date(wh),
        demo=is_demo(wh),
        notes=(note,) if note else (),
    )


def _trend_columns(table: pl.DataFrame, title: str, decimals: int) -> tuple[Column, ...]:
    """The quarterly table's decimals: counts whole, ETP and ratios as the chart shows them, the
    comparison column like its measure."""
    columns = [
        Column("Usagers accueillis", "integer"),
        Column("Demandes", "integer"),
        Column("Sites déclarants", "integer"),
        Column("Agents (ETP)", "decimal", 1),
        Column("Heures d'ouverture", "integer"),
        Column("Demandes par site", "decimal", 1),
        Column("Demandes par ETP", "decimal", 1),
        Column("Demandes par heure d'ouverture", "decimal", 2),
    ]
    compared = f"{title} — comparaison"
    if compared in table.columns:
        columns.append(Column(compared, "integer" if decimals == 0 else "decimal", decimals))
    return tuple(columns)


@cached(maxsize=64, kind="section")
def seasonality(wh, scope: Scope, first: dt.date, last: dt.date) -> Section | None:
    """Requests per reporting site, one line per year: the network's growth is taken out."""
    by_quarter = attendance.attendance_by_quarter(wh, scope, first, last)
    if by_quarter.height < 4:
        return None
    profile = attendance.seasonal_profile(by_quarter, "demandes_par_site")
    return Section(
        "frequentation-saisonnalite",
        heading="none",
        intro="**Saisonnalité** — demandes par site déclarant, une ligne par année (la croissance du réseau "
        "est neutralisée en rapportant au nombre de sites).",
        chart=chart_spec(charts.seasonal_lines(profile, "demandes_par_site", "Demandes par site")),
        chart_alt="Demandes par site déclarant, trimestre par trimestre, une ligne par année.",
        table=Table(
            profile.select(
                pl.col("annee").alias("Année"),
                pl.col("trimestre").alias("Trimestre"),
                pl.col("demandes_par_site").round(1).alias("Demandes par site"),
                pl.col("indice").round(1).alias("Indice (moyenne de l'année = 100)"),
            ),
            (
                Column("Année", "text"),
                Column("Trimestre", "text"),
                Column("Demandes par site", "decimal", 1),
                Column("Indice (moyenne de l'année = 100)", "decimal", 1),
            ),
        ),
        source=FEED_SOURCE,
        data_date=feed_date(wh),
        demo=is_demo(wh),
        notes=("Indice : valeur du trimestre rapportée à la moyenne des trimestres déclarés de la même année.",),
    )


@cached(maxsize=64, kind="section")
def official_acts(wh, scope: Scope) -> Section:
    """The official monthly acts (DITP, IND-323) and their 2026 target, beside the feed's requests."""
    title = "Actes mensuels : série officielle et objectif"
    acts = official.official_series(wh, scope, ACTS) if official.has_official_series(wh) else None
    if scope.level == "site" or acts is None or acts.is_empty():
        return Section(
            "actes-mensuels-officiels",
            title,
            notes=(
                "Série officielle des actes mensuels (IND-323) non chargée pour ce périmètre "
                "(python -m fsdash import-indicators ; publiée par département, région et pour la France).",
            ),
            downloads=False,
        )
    feed_quarters = activity.activity_by_quarter(wh, scope)
    latest = acts.filter(pl.col("value").is_not_null())["date"].max()
    return Section(
        "actes-mensuels-officiels",
        title,
        chart=chart_spec(shared_charts.official_monthly(acts, feed_quarters, "Actes ou demandes par mois")),
        chart_alt="Actes mensuels officiels et demandes déclarées par mois, avec l'objectif.",
        table=Table(
            acts.select(
                pl.col("date").alias("Mois"),
                pl.col("value").alias("Actes (officiel)"),
                pl.col("initial").alias("Valeur initiale (officiel)"),
                pl.col("target").alias("Objectif (officiel)"),
            ),
            (
                Column("Mois", "date"),
                Column("Actes (officiel)", "integer"),
                Column("Valeur initiale (officiel)", "integer"),
                Column("Objectif (officiel)", "integer"),
            ),
        ),
        definitions=definitions(["activite.demandes"]),
        source="série officielle : baromètre des résultats de l'action publique (DITP, IND-323 « nombre d'actes "
        "mensuels réalisés en France services ») ; demandes : reporting trimestriel des sites",
        data_date=(f"Série officielle jusqu'à {formats.month_long(latest)} ; " if latest else "")
        + feed_date(wh)[:1].lower()
        + feed_date(wh)[1:],
        demo=is_demo(wh),
        notes=(
            "Les actes (DITP) et les demandes déclarées par les sites ne se définissent pas de la même façon : "
            "l'écart entre les deux séries n'est pas une erreur en soi (voir Chargements et qualité, "
            "rapprochement).",
        ),
    )


def load_area(scope: Scope) -> Scope:
    """Where a site is compared: among its département's sites, with the same format and carrier filters."""
    if scope.level != "site":
        return scope
    area = scope.territory()
    return Scope(area.level, area.code, scope.formats, scope.carriers, departement=area.departement, region=area.region)


@cached(maxsize=64, kind="section")
def load_distribution(wh, scope: Scope, first: dt.date, last: dt.date, load: str) -> Section:
    """How the load spreads across the sites: quartiles, a histogram, and the chosen site's rank."""
    area = load_area(scope)
    sites = attendance.site_attendance(wh, area, first, last)
    decimals = 2 if load == "demandes_par_heure" else 0
    stats = attendance.distribution(sites, load).row(0, named=True)
    messages, marker, intro = [], None, None
    if area is not scope:
        messages.append(Message(f"Le site est situé parmi les sites de son département ({area.title})."))
    if stats["q1"] is None:
        messages.append(
            Message(
                f"Moins de {attendance.MIN_SITES_FOR_QUARTILES} sites ont une valeur : les quartiles ne sont pas "
                "calculés, chaque site est listé ci-dessous."
            )
        )
    if scope.level == "site":
        mine = sites.filter(pl.col("site_id") == scope.code)
        if mine.height and mine[load][0] is not None:
            marker = ("Ce site", mine[load][0])
            ranked = attendance.classify(sites, load).filter(pl.col("site_id") == scope.code).row(0, named=True)
            intro = (
                f"**Ce site** : {formats.number(mine[load][0], decimals)} — rang "
                f"{formats.number(ranked['rang'])} sur {formats.number(stats['sites'])} sites du département"
                + (f" ({_lower_first(attendance.CLASSES[ranked['classe']])})." if ranked["classe"] else ".")
            )
    notes = [
        "Pointillés : 1er quartile, médiane, 3e quartile (interpolation linéaire). Un site est « très "
        "sollicité » au-delà de Q3 + 1,5 × (Q3 − Q1), « très peu sollicité » en deçà de Q1 − 1,5 × (Q3 − Q1). "
        "Chaque site compte pour ses trimestres déclarés sur la période."
    ]
    if stats["q1"] is not None:
        per_class = dict(attendance.classify(sites, load).group_by("classe").len().iter_rows())
        notes.append(
            " · ".join(
                f"{label} : **{formats.number(per_class.get(key, 0))}**"
                for key, label in attendance.CLASSES.items()
                if key in ("tres_haut", "tres_bas")
            )
        )
    hist = attendance.histogram(sites, load, bins=40)
    return Section(
        "frequentation-repartition",
        "Répartition de la charge entre les sites",
        intro=intro,
        messages=tuple(messages),
        tiles=(
            Tile("Sites comparés", formats.number(stats["sites"])),
            Tile("1er quartile", formats.number(stats["q1"], decimals)),
            Tile("Médiane", formats.number(stats["mediane"], decimals)),
            Tile("3e quartile", formats.number(stats["q3"], decimals)),
        ),
        chart=chart_spec(
            charts.distribution_histogram(hist, stats, LOAD_MEASURES[load], decimals=decimals, marker=marker)
        )
        if not hist.is_empty()
        else None,
        chart_alt=f"Histogramme des sites selon {_lower_first(LOAD_MEASURES[load])}.",
        table=Table(
            hist.select(pl.col("debut").alias("De"), pl.col("fin").alias("À moins de"), pl.col("sites").alias("Sites")),
            (Column("De", "decimal", decimals), Column("À moins de", "decimal", decimals), Column("Sites", "integer")),
        ),
        definitions=definitions(LOAD_INDICATORS),
        source=FEED_SOURCE,
        data_date=feed_date(wh),
        demo=is_demo(wh),
        notes=tuple(notes),
    )


def _context_table(frame: pl.DataFrame, load: str) -> Table:
    formats_dim = load_catalogue().dimensions["format"]
    decimals = 2 if load == "demandes_par_heure" else 0
    return Table(
        frame.select(
            pl.col("nom").alias("Site"),
            pl.col("departement").alias("Dép."),
            pl.col("format")
            .replace_strict({c: formats_dim.label_of(c) for c in formats_dim.codes}, default=pl.col("format"))
            .alias("Format"),
            pl.col(load).round(decimals or 1).alias(LOAD_MEASURES[load]),
            pl.col("demandes_par_trimestre").round(0).alias("Demandes / trim."),
            pl.col("agents_etp").round(2).alias("ETP (moy.)"),
            pl.col("heures_hebdo").round(1).alias("Heures / sem."),
            pl.col("trimestres").alias("Trim. déclarés"),
        ),
        (
            Column(LOAD_MEASURES[load], "decimal", decimals or 1),
            Column("Demandes / trim.", "integer"),
            Column("ETP (moy.)", "decimal", 2),
            Column("Heures / sem.", "decimal", 1),
            Column("Trim. déclarés", "integer"),
        ),
    )


@cached(maxsize=64, kind="section")
def ranked_sites(wh, scope: Scope, first: dt.date, last: dt.date, load: str, quarter_count: int) -> tuple[Section, ...]:
    """The most and least solicited sites (every site when twenty or fewer), among those that
    reported at least half the period's quarters."""
    # one by one: only the sites of the départements the viewer sees in detail (the others count in
    # the distribution above, as aggregates)
    sites = attendance.site_attendance(wh, load_area(scope), first, last).filter(scope.site_detail_filter())
    min_quarters = max(1, (quarter_count + 1) // 2)
    measure = _lower_first(LOAD_MEASURES[load])
    everyone, _ = attendance.extremes(sites, load, sites.height, min_quarters=min_quarters)
    note = (
        f"Sites ayant déclaré au moins {formats.number(min_quarters)} des {formats.number(quarter_count)} "
        "trimestres de la période (un site qui vient d'ouvrir n'est pas classé sur un seul trimestre). "
        "La liste complète est dans le tableau de la carte ci-dessous."
    )
    reserved = site_detail_notes(scope)
    if everyone.height <= 20:
        # Twenty sites or fewer: a top 10 and a bottom 10 would overlap; every site is listed once.
        return (
            Section(
                "frequentation-classement",
                f"Les {formats.number(everyone.height)} sites classés ({measure}, du plus au moins sollicité)",
                heading="bold",
                table=_context_table(everyone, load),
                table_in_expander=False,
                downloads=False,
                notes=(note, *reserved),
            ),
        )
    top, bottom = attendance.extremes(sites, load, 10, min_quarters=min_quarters)
    return (
        Section(
            "frequentation-plus-sollicites",
            f"Les 10 sites les plus sollicités ({measure})",
            heading="bold",
            table=_context_table(top, load),
            table_in_expander=False,
            downloads=False,
        ),
        Section(
            "frequentation-moins-sollicites",
            f"Les 10 sites les moins sollicités ({measure})",
            heading="bold",
            table=_context_table(bottom, load),
            table_in_expander=False,
            downloads=False,
            notes=(note, *reserved),
        ),
    )


#: The map's tooltip: French labels once in the template, each site's values in fields of its own.
TOOLTIP_LINES = (
    ("Département", "t_dep"),
    ("Demandes par trimestre", "t_dpt"),
    ("Demandes par ETP", "t_etp"),
    ("Demandes par heure d'ouverture", "t_heure"),
    ("Trimestres déclarés", "t_trim"),
)
TOOLTIP_FIELDS = ("t_nom", *(field for _, field in TOOLTIP_LINES))


def _map_frame(sites: pl.DataFrame) -> pl.DataFrame:
    """Each site's tooltip values, formatted natively once with the data."""
    return sites.with_columns(
        maps.escaped_expr(pl.col("nom")).alias("t_nom"),
        maps.escaped_expr(pl.col("departement")).alias("t_dep"),
        maps.escaped_expr(formats.number_expr("demandes_par_trimestre")).alias("t_dpt"),
        maps.escaped_expr(formats.number_expr("demandes_par_etp")).alias("t_etp"),
        maps.escaped_expr(formats.number_expr("demandes_par_heure", 2)).alias("t_heure"),
        maps.escaped_expr(formats.number_expr("trimestres")).alias("t_trim"),
    )


#: The map's size on screen (beside its table): the view is fitted for it.
MAP_WIDTH, MAP_HEIGHT = 540, 520


@cached(maxsize=32, kind="section")
def sites_map(wh, scope: Scope, first: dt.date, last: dt.date, load: str) -> Section:
    """The sites as circles sized by their requests per quarter, over the départements, and the full
    table beside the map (no basemap: nothing loads from outside)."""
    area = load_area(scope)
    # classified among every site of the area (an aggregate), then only the sites the viewer sees
    # one by one are drawn and listed
    sites = attendance.site_attendance(wh, area, first, last)
    classified = attendance.classify(sites, load).filter(scope.site_detail_filter())
    sites = sites.filter(scope.site_detail_filter())
    located = _map_frame(sites.filter(pl.col("latitude").is_not_null()))
    framing = located.filter(maps.in_metropole()) if area.level == "national" else located
    layers = [
        maps.departements_layer(list(area.departements) or None),
        maps.sites_layer(
            located,
            "demandes_par_trimestre",
            fields=TOOLTIP_FIELDS,
            highlight=[scope.code] if scope.level == "site" else (),
        ),
    ]
    lats, lons = framing["latitude"].to_list(), framing["longitude"].to_list()
    view = (
        maps.view_state(lats, lons, width=MAP_WIDTH, height=MAP_HEIGHT)
        if area.level == "national"
        else maps.territory_view(area.departements, lats, lons, width=MAP_WIDTH, height=MAP_HEIGHT)
    )
    deck = maps.deck(layers, view, tooltip=maps.tooltip("t_nom", TOOLTIP_LINES))
    notes = list(site_detail_notes(scope))
    if area.level == "national" and framing.height < located.height:
        notes.append(
            f"{formats.number(located.height - framing.height)} site(s) d'outre-mer hors du cadre : "
            "ils figurent dans le tableau."
        )
    measure = _lower_first(LOAD_MEASURES[load])
    table = classified.sort("demandes_par_trimestre", descending=True, nulls_last=True).select(
        pl.col("nom").str.replace("France [Ss]ervices (La Poste )?(de |d'|du |des )?", "").alias("Site"),
        pl.col("departement").alias("Dép."),
        pl.col("demandes_par_trimestre").round(0).alias("Dem. / trim."),
        pl.col("demandes_par_etp").round(0).alias("Dem. / ETP"),
        pl.col("demandes_par_heure").round(2).alias("Dem. / heure"),
        pl.col("trimestres").alias("Trim."),
        pl.col("classe").replace_strict(attendance.CLASSES, default=None).alias(f"Position ({measure})"),
        pl.col("nom").alias("Nom complet"),
        pl.col("site_id").alias("Identifiant"),
    )
    return Section(
        "frequentation-sites",
        "Carte des sites",
        intro="Surface des cercles proportionnelle aux demandes par trimestre déclaré"
        + (" ; le site choisi en rouge." if scope.level == "site" else ".")
        + " Fond : départements (aucun fond de carte extérieur).",
        deck=deck,
        table=Table(
            table,
            (
                Column("Dem. / trim.", "integer"),
                Column("Dem. / ETP", "integer"),
                Column("Dem. / heure", "decimal", 2),
                Column("Trim.", "integer"),
            ),
        ),
        table_in_expander=False,
        definitions=definitions(LOAD_INDICATORS),
        source=FEED_SOURCE,
        data_date=feed_date(wh),
        demo=is_demo(wh),
        notes=tuple(notes),
        extra={"side_by_side": True, "height": MAP_HEIGHT},
    )


@cached(maxsize=64, kind="section")
def commitments(wh, scope: Scope, last: dt.date) -> Section:
    """The share of sites (or cases) meeting each measurable commitment of the charter, last quarter."""
    frame = charter.charter_commitments(wh, scope, last)
    return Section(
        "engagements-charte",
        "Engagements de la charte",
        chart=chart_spec(shared_charts.commitments(frame)),
        chart_alt="Part des sites ou des cas conformes à chaque engagement mesurable de la charte.",
        table=Table(
            frame.select(
                pl.col("engagement").alias("Engagement"),
                pl.col("source").alias("Source"),
                pl.col("valeur").alias("Part conforme"),
                pl.col("numerateur").alias("Conformes"),
                pl.col("denominateur").alias("Sur"),
            ),
            (Column("Part conforme", "percent"),),
        ),
        definitions=definitions(
            [
                "activite.agents_accueil",
                "activite.heures_ouverture_hebdo",
                "activite.courriels_repondus_72h",
                "activite.fermetures_annoncees_7j",
                "activite.agents_formes",
                "activite.visios_realisees",
            ]
        ),
        source=FEED_SOURCE,
        data_date=f"Sites ayant déclaré le {formats.quarter_long(last)} (dernier trimestre de la période)",
        demo=is_demo(wh),
    )
