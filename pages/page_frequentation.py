"""Fréquentation: users received and requests over the quarters, per site, per agent FTE and per opening
hour; how the load spreads across sites (who is overloaded, who is under-used); a map of the sites."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import streamlit as st

from fsdash import charts as shared_charts
from fsdash import formats, geography, maps, ui
from fsdash.catalogue import load_catalogue
from fsdash.charts import attendance as charts
from fsdash.charts import with_quarter_labels
from fsdash.filters import COMPARISONS
from fsdash.metrics import activity, attendance, charter, official

ACTS_INDICATOR = "IND-323"
SOURCE = "reporting trimestriel des sites France Services (charte 3.1)"


def _show(frame: pl.DataFrame, **kwargs) -> None:
    """A table whose numbers the browser writes in the viewer's locale (French: 1 234,5)."""
    numeric = {
        name: st.column_config.NumberColumn(format="localized")
        for name, dtype in frame.schema.items()
        if dtype.is_numeric()
    }
    st.dataframe(frame, hide_index=True, column_config=numeric, **kwargs)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


filters = ui.page_header("Fréquentation")
scope = filters.scope
first, last = filters.first, filters.last

compared = filters.compared()
compared_label = None
if compared is not None:
    compared_label = COMPARISONS[filters.comparison] + (
        ""
        if filters.comparison == "nationale"
        else f" ({formats.quarter_short(compared.first)} – {formats.quarter_short(compared.last)})"
    )

summary = ui.query(attendance.attendance_summary, scope, first, last).row(0, named=True)
reference = (
    ui.query(attendance.attendance_summary, compared.scope, compared.first, compared.last).row(0, named=True)
    if compared is not None
    else None
)
if not summary["site_trimestres"]:
    st.info("Aucun site de ce périmètre n'a déclaré d'activité sur la période choisie.")
    st.stop()


DELTA_SUFFIX = {"precedente": "vs période précédente", "annee": "sur un an", "nationale": "vs moyenne nationale"}


def _delta(key: str) -> str | None:
    """Change against the comparison, as a signed percentage (ASCII minus: the arrow follows it)."""
    if reference is None or not reference.get(key) or summary.get(key) is None:
        return None
    change = formats.signed_percent(summary[key] / reference[key] - 1, 1, minus="-")
    return f"{change} {DELTA_SUFFIX[filters.comparison]}"


# --- headline figures -------------------------------------------------------------------------
totals_comparable = filters.comparison != "nationale"
tiles = st.columns(3)
tiles[0].metric(
    "Usagers accueillis",
    formats.number(summary["usagers"]),
    delta=_delta("usagers") if totals_comparable else None,
    help="Personnes reçues sur la période (somme des trimestres déclarés).",
)
tiles[1].metric(
    "Demandes traitées",
    formats.number(summary["demandes"]),
    delta=_delta("demandes") if totals_comparable else None,
    help="Demandes traitées déclarées par les sites sur la période.",
)
tiles[2].metric(
    "Sites déclarants",
    formats.number(summary["sites_declarants"]),
    help="Sites ayant déclaré au moins un trimestre de la période.",
)
tiles = st.columns(3)
tiles[0].metric(
    "Demandes par site et par trimestre",
    formats.number(summary["demandes_par_site"]),
    delta=_delta("demandes_par_site"),
    help="Demandes ÷ trimestres déclarés par les sites (un site qui a déclaré 3 trimestres compte 3).",
)
tiles[1].metric(
    "Demandes par ETP et par trimestre",
    formats.number(summary["demandes_par_etp"]),
    delta=_delta("demandes_par_etp"),
    help="Demandes ÷ agents d'accueil en équivalents temps plein, sommés sur les trimestres déclarés.",
)
tiles[2].metric(
    "Demandes par heure d'ouverture",
    formats.number(summary["demandes_par_heure"], 2),
    delta=_delta("demandes_par_heure"),
    help="Demandes ÷ (heures d'ouverture hebdomadaires × 13 semaines), sommées sur les trimestres déclarés.",
)
st.caption(
    f"{formats.number(summary['site_trimestres'])} déclarations trimestrielles sur "
    f"{formats.number(summary['trimestres'])} trimestre(s)."
    + (f" Comparaison : {compared_label}." if compared_label else "")
    + (" Face à la moyenne nationale, seuls les ratios sont comparés." if not totals_comparable else "")
)
if summary["sites_declarants"] < attendance.MIN_SITES_FOR_QUARTILES and scope.level != "site":
    st.warning(
        f"Petit effectif : {formats.number(summary['sites_declarants'])} site(s) déclarant(s). Les ratios "
        "reflètent chaque site plus qu'une tendance.",
        icon=":material/info:",
    )

# --- over the quarters ------------------------------------------------------------------------
st.subheader("Évolution trimestrielle")
by_quarter = ui.query(attendance.attendance_by_quarter, scope, first, last)
cmp_quarter = None
if compared is not None:
    cmp_quarter = charts.align(
        ui.query(attendance.attendance_by_quarter, compared.scope, compared.first, compared.last),
        charts.quarter_offset(first, compared.first),
    )
TREND_MEASURES = {
    "demandes": ("Demandes traitées", 0, True),
    "usagers": ("Usagers accueillis", 0, True),
    "demandes_par_site": ("Demandes par site déclarant", 0, False),
    "demandes_par_etp": ("Demandes par ETP", 0, False),
    "demandes_par_heure": ("Demandes par heure d'ouverture", 2, False),
}
measure = st.radio(
    "Indicateur",
    list(TREND_MEASURES),
    format_func=lambda k: TREND_MEASURES[k][0],
    horizontal=True,
    key="frequentation_indicateur",
)
title, decimals, is_total = TREND_MEASURES[measure]
show_cmp = cmp_quarter if (cmp_quarter is not None and (totals_comparable or not is_total)) else None
table = with_quarter_labels(by_quarter).select(
    pl.col("trimestre").alias("Trimestre"),
    pl.col("usagers").alias("Usagers accueillis"),
    pl.col("demandes").alias("Demandes"),
    pl.col("sites_declarants").alias("Sites déclarants"),
    pl.col("agents_etp").round(1).alias("Agents (ETP)"),
    pl.col("heures_ouverture").round(0).alias("Heures d'ouverture"),
    pl.col("demandes_par_site").round(1).alias("Demandes par site"),
    pl.col("demandes_par_etp").round(1).alias("Demandes par ETP"),
    pl.col("demandes_par_heure").round(2).alias("Demandes par heure d'ouverture"),
)
if show_cmp is not None:
    compared_values = dict(show_cmp.select("periode", measure).iter_rows())
    table = table.with_columns(
        pl.Series(f"{title} — comparaison", [compared_values.get(p) for p in by_quarter["periode"]], dtype=pl.Float64)
    )
ui.chart_block(
    "frequentation-trimestres",
    charts.comparison_trend(
        by_quarter,
        measure,
        title,
        compared=show_cmp,
        compared_label=compared_label,
        decimals=decimals,
        mark="bar" if is_total else "line",
    ),
    table,
    indicators=[
        "activite.usagers_accueillis",
        "activite.demandes",
        "activite.agents_etp",
        "activite.heures_ouverture_hebdo",
    ],
    source=SOURCE,
    note=(
        "Face à la moyenne nationale, les volumes ne se comparent pas : choisissez un ratio."
        if (cmp_quarter is not None and is_total and not totals_comparable)
        else None
    ),
)

if by_quarter.height >= 4:
    st.markdown(
        "**Saisonnalité** — demandes par site déclarant, une ligne par année (la croissance du réseau "
        "est neutralisée en rapportant au nombre de sites)."
    )
    profile = attendance.seasonal_profile(by_quarter, "demandes_par_site")
    ui.chart_block(
        "frequentation-saisonnalite",
        charts.seasonal_lines(profile, "demandes_par_site", "Demandes par site"),
        profile.select(
            pl.col("annee").alias("Année"),
            pl.col("trimestre").alias("Trimestre"),
            pl.col("demandes_par_site").round(1).alias("Demandes par site"),
            pl.col("indice").round(1).alias("Indice (moyenne de l'année = 100)"),
        ),
        source=SOURCE,
        note="Indice : valeur du trimestre rapportée à la moyenne des trimestres déclarés de la même année.",
    )

# --- across sites -----------------------------------------------------------------------------
st.subheader("Actes mensuels : série officielle et objectif")
acts = ui.query(official.official_series, ACTS_INDICATOR, scope.territory())
if scope.level == "site" or acts.is_empty():
    st.caption(
        "Série officielle des actes mensuels (IND-323) non chargée pour ce périmètre "
        "(python -m fsdash import-indicators ; publiée par département, région et pour la France)."
    )
else:
    feed_quarters = ui.query(activity.activity_by_quarter, scope)
    ui.chart_block(
        "actes-mensuels-officiels",
        shared_charts.official_monthly(acts, feed_quarters, "Actes ou demandes par mois"),
        acts.select(
            pl.col("date").alias("Mois"),
            pl.col("value").alias("Actes (officiel)"),
            pl.col("initial").alias("Valeur initiale (officiel)"),
            pl.col("target").alias("Objectif (officiel)"),
        ),
        indicators=["activite.demandes"],
        source="série officielle : baromètre des résultats de l'action publique (DITP, IND-323 « nombre d'actes "
        "mensuels réalisés en France services ») ; demandes : reporting trimestriel des sites",
        note="Les actes (DITP) et les demandes déclarées par les sites ne se définissent pas de la même façon : "
        "l'écart entre les deux séries n'est pas une erreur en soi (voir Chargements et qualité, rapprochement).",
    )

st.subheader("Répartition de la charge entre les sites")
area = scope
if scope.level == "site":
    area = replace(ui.territory(scope), formats=scope.formats, carriers=scope.carriers)
    st.caption(f"Le site est situé parmi les sites de son département ({ui.scope_title(area)}).")
sites = ui.query(attendance.site_attendance, area, first, last)
LOAD = {
    k: v
    for k, v in attendance.MEASURES.items()
    if k in ("demandes_par_etp", "demandes_par_heure", "demandes_par_trimestre")
}
load = st.radio("Charge mesurée en", list(LOAD), format_func=LOAD.get, horizontal=True, key="frequentation_charge")
load_decimals = 2 if load == "demandes_par_heure" else 0
stats = attendance.distribution(sites, load).row(0, named=True)
cols = st.columns(4)
cols[0].metric("Sites comparés", formats.number(stats["sites"]))
cols[1].metric("1er quartile", formats.number(stats["q1"], load_decimals))
cols[2].metric("Médiane", formats.number(stats["mediane"], load_decimals))
cols[3].metric("3e quartile", formats.number(stats["q3"], load_decimals))
if stats["q1"] is None:
    st.info(
        f"Moins de {attendance.MIN_SITES_FOR_QUARTILES} sites ont une valeur : les quartiles ne sont pas "
        "calculés, chaque site est listé ci-dessous."
    )
marker = None
if scope.level == "site":
    mine = sites.filter(pl.col("site_id") == scope.code)
    if mine.height and mine[load][0] is not None:
        marker = ("Ce site", mine[load][0])
        ranked = attendance.classify(sites, load).filter(pl.col("site_id") == scope.code).row(0, named=True)
        st.markdown(
            f"**Ce site** : {formats.number(mine[load][0], load_decimals)} — rang "
            f"{formats.number(ranked['rang'])} sur {formats.number(stats['sites'])} sites du département"
            + (f" ({_lower_first(attendance.CLASSES[ranked['classe']])})." if ranked["classe"] else ".")
        )
hist = attendance.histogram(sites, load, bins=40)
ui.chart_block(
    "frequentation-repartition",
    charts.distribution_histogram(hist, stats, LOAD[load], decimals=load_decimals, marker=marker),
    hist.select(pl.col("debut").alias("De"), pl.col("fin").alias("À moins de"), pl.col("sites").alias("Sites")),
    indicators=["activite.demandes", "activite.agents_etp", "activite.heures_ouverture_hebdo"],
    source=SOURCE,
    note="Pointillés : 1er quartile, médiane, 3e quartile (interpolation linéaire). Un site est « très "
    "sollicité » au-delà de Q3 + 1,5 × (Q3 − Q1), « très peu sollicité » en deçà de Q1 − 1,5 × (Q3 − Q1). "
    "Chaque site compte pour ses trimestres déclarés sur la période.",
)

formats_dim = load_catalogue().dimensions["format"]
classified = attendance.classify(sites, load)
counts = classified.group_by("classe").len()
if stats["q1"] is not None:
    per_class = dict(counts.iter_rows())
    st.markdown(
        " · ".join(
            f"{label} : **{formats.number(per_class.get(key, 0))}**"
            for key, label in attendance.CLASSES.items()
            if key in ("tres_haut", "tres_bas")
        )
    )


def _context(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("nom").alias("Site"),
        pl.col("departement").alias("Dép."),
        pl.col("format")
        .replace_strict({c: formats_dim.label_of(c) for c in formats_dim.codes}, default=pl.col("format"))
        .alias("Format"),
        pl.col(load).round(load_decimals or 1).alias(LOAD[load]),
        pl.col("demandes_par_trimestre").round(0).alias("Demandes / trim."),
        pl.col("agents_etp").round(2).alias("ETP (moy.)"),
        pl.col("heures_hebdo").round(1).alias("Heures / sem."),
        pl.col("trimestres").alias("Trim. déclarés"),
    )


min_quarters = max(1, (filters.quarter_count + 1) // 2)
everyone, _ = attendance.extremes(sites, load, sites.height, min_quarters=min_quarters)
if everyone.height <= 20:
    # Twenty sites or fewer: a top 10 and a bottom 10 would overlap; every site is listed once.
    st.markdown(
        f"**Les {formats.number(everyone.height)} sites classés** ({_lower_first(LOAD[load])}, "
        "du plus au moins sollicité)"
    )
    _show(_context(everyone))
else:
    top, bottom = attendance.extremes(sites, load, 10, min_quarters=min_quarters)
    st.markdown(f"**Les 10 sites les plus sollicités** ({_lower_first(LOAD[load])})")
    _show(_context(top))
    st.markdown(f"**Les 10 sites les moins sollicités** ({_lower_first(LOAD[load])})")
    _show(_context(bottom))
st.caption(
    f"Sites ayant déclaré au moins {formats.number(min_quarters)} des {formats.number(filters.quarter_count)} "
    "trimestres de la période (un site qui vient d'ouvrir n'est pas classé sur un seul trimestre). "
    "La liste complète est dans le tableau de la carte ci-dessous."
)

# --- map --------------------------------------------------------------------------------------
st.subheader("Carte des sites")
st.caption(
    "Surface des cercles proportionnelle aux demandes par trimestre déclaré"
    + (" ; le site choisi en rouge." if scope.level == "site" else ".")
    + " Fond : départements (aucun fond de carte extérieur)."
)


def _tooltip(row: dict) -> str:
    return maps.infobulle(
        row["nom"],
        [
            ("Département", row["departement"]),
            ("Demandes par trimestre", formats.number(row["demandes_par_trimestre"])),
            ("Demandes par ETP", formats.number(row["demandes_par_etp"])),
            ("Demandes par heure d'ouverture", formats.number(row["demandes_par_heure"], 2)),
            ("Trimestres déclarés", formats.number(row["trimestres"])),
        ],
    )


located = sites.filter(pl.col("latitude").is_not_null())
if area.level == "national":
    framing = located.filter(maps.in_metropole())
    dep_codes = None
elif area.level == "region":
    framing = located
    dep_codes = geography.departements().filter(pl.col("region") == area.code)["code"].to_list()
else:
    framing = located
    dep_codes = [area.code]
map_col, table_col = st.columns([5, 4])
with map_col:
    deck = maps.deck(
        [
            maps.departements_layer(dep_codes),
            maps.sites_layer(
                located,
                "demandes_par_trimestre",
                tooltip=_tooltip,
                highlight=[scope.code] if scope.level == "site" else (),
            ),
        ],
        maps.view_state(framing["latitude"].to_list(), framing["longitude"].to_list(), width=540, height=520),
    )
    st.pydeck_chart(deck, height=520, key="frequentation_carte")
    if area.level == "national" and framing.height < located.height:
        st.caption(
            f"{formats.number(located.height - framing.height)} site(s) d'outre-mer hors du cadre : "
            "ils figurent dans le tableau."
        )
with table_col:
    map_table = classified.sort("demandes_par_trimestre", descending=True, nulls_last=True).select(
        pl.col("nom").str.replace("France [Ss]ervices (La Poste )?(de |d'|du |des )?", "").alias("Site"),
        pl.col("departement").alias("Dép."),
        pl.col("demandes_par_trimestre").round(0).alias("Dem. / trim."),
        pl.col("demandes_par_etp").round(0).alias("Dem. / ETP"),
        pl.col("demandes_par_heure").round(2).alias("Dem. / heure"),
        pl.col("trimestres").alias("Trim."),
        pl.col("classe")
        .replace_strict(attendance.CLASSES, default=None)
        .alias(f"Position ({_lower_first(LOAD[load])})"),
        pl.col("nom").alias("Nom complet"),
        pl.col("site_id").alias("Identifiant"),
    )
    _show(map_table, height=520)
ui.chart_block(
    "frequentation-sites",
    None,
    map_table,
    indicators=["activite.demandes", "activite.agents_etp", "activite.heures_ouverture_hebdo"],
    source=SOURCE,
    show_table=False,
)

st.subheader("Engagements de la charte")
if filters.last is None:
    st.info("Aucune donnée d'activité pour ce filtre.")
else:
    commitments = ui.query(charter.charter_commitments, filters.last, scope)
    ui.chart_block(
        "engagements-charte",
        shared_charts.commitments(commitments),
        commitments.select(
            pl.col("engagement").alias("Engagement"),
            pl.col("source").alias("Source"),
            pl.col("valeur").alias("Part conforme"),
            pl.col("numerateur").alias("Conformes"),
            pl.col("denominateur").alias("Sur"),
        ),
        indicators=[
            "activite.agents_accueil",
            "activite.heures_ouverture_hebdo",
            "activite.courriels_repondus_72h",
            "activite.fermetures_annoncees_7j",
            "activite.agents_formes",
            "activite.visios_realisees",
        ],
        source=SOURCE,
        note=f"Sites ayant déclaré le {formats.quarter_long(filters.last)} (dernier trimestre de la période).",
    )
