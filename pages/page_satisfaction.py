"""Satisfaction: kiosk answers and the yearly survey, with their uncertainty, and the table each site
publishes every year (charter 3.1 and 3.2)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from fsdash import charts as shared_charts
from fsdash import exports, formats, geography, ui
from fsdash.charts import satisfaction as charts
from fsdash.charts import with_quarter_labels
from fsdash.filters import COMPARISONS, shift_quarters
from fsdash.metrics import official, satisfaction
from fsdash.metrics.satisfaction import MIN_ANSWERS

SATISFACTION_INDICATOR = "IND-246"
KIOSK_SOURCE = "bornes de satisfaction des sites France Services (charte 3.2)"
SURVEY_SOURCE = "enquête annuelle de satisfaction des usagers (charte 3.1 et 3.2)"
KIOSK_CODES = [f"satisfaction_borne.{code}" for code, _, _ in reversed(satisfaction.kiosk_levels())]
SURVEY_CODES = ["enquete_annuelle.repondants"] + [
    f"enquete_annuelle.{code}" for code, _, _ in satisfaction.survey_levels()
]
LEVEL_NAMES = {"region": "Région", "departement": "Département", "site": "Site"}
#: Breakdowns offered under each scope: the areas it contains.
SUB_LEVELS = {
    "national": ["region", "departement"],
    "region": ["departement", "site"],
    "departement": ["site"],
    "site": [],
}

filters = ui.current_filters()
scope = filters.scope
first, last = filters.first, filters.last
st.title("Satisfaction des usagers")
period = (
    ""
    if first is None
    else (
        f" — {formats.quarter_short(first)}"
        if first == last
        else f" — du {formats.quarter_short(first)} au {formats.quarter_short(last)}"
    )
)
st.caption(ui.scope_title(scope) + period)
ui.demo_banner()
st.markdown(
    "La charte engage chaque France Services à interroger ses usagers tous les ans et à **publier "
    "annuellement** ses résultats de satisfaction (engagement 3.2). Chaque taux est donné avec son "
    f"intervalle de confiance à 95 % (Wilson) ; un taux calculé sur moins de {MIN_ANSWERS} réponses est "
    "signalé « fragile » (≈, point creux en losange) : il ne doit pas être lu comme un chiffre exact."
)

years = ui.query(satisfaction.satisfaction_years)
if not years:
    st.info(
        "Aucune réponse de satisfaction chargée : chargez les tables « satisfaction_borne » (bornes) ou "
        "« enquete_annuelle » (enquête annuelle) avec python -m fsdash ingest."
    )
    st.stop()


def _area_labels(frame: pl.DataFrame, level: str) -> pl.DataFrame:
    """A ``zone`` column a reader understands: « 01 — Ain », « Nom du site (id) »."""
    if level == "site":
        return frame.with_columns((pl.col("nom") + " (" + pl.col("site_id") + ")").alias("zone"))
    table = geography.regions() if level == "region" else geography.departements()
    names = dict(table.select("code", "nom").iter_rows())
    return frame.with_columns(
        pl.col(level).map_elements(lambda c: f"{c} — {names.get(c, c)}", return_dtype=pl.String).alias("zone")
    )


def _rate_table(frame: pl.DataFrame, first_columns: dict[str, str]) -> pl.DataFrame:
    """Numbers kept as numbers (sortable, exported), plus the French text with its interval."""
    return charts.with_rate_text(frame).select(
        *[pl.col(c).alias(label) for c, label in first_columns.items()],
        pl.col("reponses").alias("Réponses"),
        pl.col("satisfaits").alias("Satisfaits"),
        pl.col("taux").alias("Taux de satisfaction"),
        pl.col("ic_bas").alias("IC 95 % bas"),
        pl.col("ic_haut").alias("IC 95 % haut"),
        pl.col("taux_ic").alias("Taux (IC 95 %)"),
        pl.when(pl.col("fragile"))
        .then(pl.lit(f"fragile (moins de {MIN_ANSWERS} réponses)"))
        .otherwise(pl.lit(""))
        .alias("Fiabilité"),
    )


def _points(value: float) -> str:
    """A change of rate in percentage points, ASCII minus first (the metric's arrow follows it)."""
    return ("+" if value >= 0 else "-") + formats.number(abs(value) * 100, 1) + f"{formats.NBSP}pt"


def _area_breakdown(key: str, levels: list[str]) -> str | None:
    if not levels:
        return None
    if len(levels) == 1:
        return levels[0]
    return st.radio("Détail par", levels, format_func=LEVEL_NAMES.get, horizontal=True, key=key)


# --- kiosk answers ----------------------------------------------------------------------------------
st.header("Bornes de satisfaction")
st.caption(
    "Question posée à la sortie : « Satisfait de votre démarche dans votre France services aujourd'hui ? » "
    "— satisfaits = « très satisfait » + « satisfait »."
)
kiosk = ui.query(satisfaction.kiosk_summary, first, last, scope).row(0, named=True)
compared = filters.compared()
if compared is not None and (compared.scope, compared.first, compared.last) == (scope, first, last):
    compared = None  # « moyenne nationale » while looking at France entière: nothing to compare
if not kiosk["reponses"]:
    st.info("Aucune réponse de borne pour ce périmètre et cette période (les bornes équipent une partie des sites).")
else:
    delta = None
    if compared is not None:
        other = ui.query(satisfaction.kiosk_summary, compared.first, compared.last, compared.scope).row(0, named=True)
        if other["taux"] is not None:
            delta = _points(kiosk["taux"] - other["taux"]) + " vs " + COMPARISONS[filters.comparison].lower()
    tiles = st.columns(3)
    rate = formats.percent(kiosk["taux"], 1)
    tiles[0].metric(
        "Usagers satisfaits (bornes)",
        ("≈ " if kiosk["fragile"] else "") + rate,
        delta=delta,
        help="Réponses « très satisfait » et « satisfait » parmi toutes les réponses des bornes du "
        "périmètre sur la période ; intervalle de confiance à 95 % de Wilson.",
    )
    tiles[0].caption(
        f"IC 95 % : {formats.percent(kiosk['ic_bas'], 1)} à {formats.percent(kiosk['ic_haut'], 1)}"
        + (f" — fragile : moins de {MIN_ANSWERS} réponses" if kiosk["fragile"] else "")
    )
    tiles[1].metric("Réponses aux bornes", formats.number(kiosk["reponses"]))
    tiles[2].metric("Sites ayant des réponses", formats.number(kiosk["sites"]))

    st.subheader("Évolution par trimestre")
    by_quarter = with_quarter_labels(ui.query(satisfaction.kiosk_by_quarter, first, last, scope))
    reference, reference_label = None, None
    if compared is not None:
        ref = ui.query(satisfaction.kiosk_by_quarter, compared.first, compared.last, compared.scope)
        if filters.comparison != "nationale":
            offset = (first.year - compared.first.year) * 4 + (first.month - compared.first.month) // 3
            ref = ref.with_columns(
                pl.col("periode").map_elements(lambda d: shift_quarters(d, offset), return_dtype=pl.Date)
            )
        reference, reference_label = with_quarter_labels(ref), COMPARISONS[filters.comparison]
    ui.chart_block(
        "satisfaction-bornes-trimestres",
        charts.rate_over_time(by_quarter, "periode", "trimestre", "Usagers satisfaits", reference, reference_label),
        _rate_table(by_quarter, {"trimestre": "Trimestre", "sites": "Sites"}),
        indicators=KIOSK_CODES,
        source=KIOSK_SOURCE,
        note=f"Bande : intervalle de confiance à 95 % ; point creux : moins de {MIN_ANSWERS} réponses."
        + (f" Trait pointillé : {reference_label.lower()}." if reference_label else ""),
    )

    st.subheader("Répartition des réponses par année")
    by_year = ui.query(satisfaction.kiosk_by_year, scope)
    if first is not None:
        by_year = by_year.filter(pl.col("annee").is_between(first.year, last.year))
    by_year = by_year.with_columns(pl.col("annee").cast(pl.String).alias("annee_fr"))
    kiosk_levels = [(code, label, 1 if ok else -1) for code, label, ok in satisfaction.kiosk_levels()]
    ui.chart_block(
        "satisfaction-bornes-repartition",
        charts.diverging_bars(by_year, "annee_fr", kiosk_levels, "Année"),
        by_year.select(
            pl.col("annee").alias("Année"),
            pl.col("sites").alias("Sites"),
            *[pl.col(code).alias(label) for code, label, _ in kiosk_levels],
            pl.col("reponses").alias("Réponses"),
            pl.col("taux").alias("Taux de satisfaction"),
        ),
        indicators=KIOSK_CODES,
        source=KIOSK_SOURCE,
        note="À gauche de zéro les réponses « peu » et « pas satisfait », à droite « satisfait » et « très "
        "satisfait » ; chaque segment porte sa part.",
    )

    level = _area_breakdown("satisfaction_niveau_bornes", SUB_LEVELS[scope.level])
    if level is not None:
        st.subheader(f"Par {LEVEL_NAMES[level].lower()}")
        areas = _area_labels(ui.query(satisfaction.kiosk_by_area, level, first, last, scope), level)
        ui.chart_block(
            f"satisfaction-bornes-{level}",
            charts.rate_by_area(areas, "zone", "Usagers satisfaits", kiosk["taux"]),
            _rate_table(areas.sort("taux", descending=True), {"zone": LEVEL_NAMES[level], "sites": "Sites"}),
            indicators=KIOSK_CODES,
            source=KIOSK_SOURCE,
            note="Zones classées par taux ; trait rouge pointillé : taux de l'ensemble du périmètre. Deux zones "
            "dont les intervalles se chevauchent ne se distinguent pas nettement.",
        )

# --- the official kiosk rate (DITP, IND-246) --------------------------------------------------------
if scope.level != "site" and ui.query(official.has_official_series):
    st.subheader("Taux officiel de satisfaction aux bornes (IND-246), par département")
    reconciled = ui.query(official.reconcile, SATISFACTION_INDICATOR, scope.territory())
    if reconciled.is_empty():
        st.info("Aucune valeur officielle de satisfaction pour ce périmètre.")
    else:
        latest = reconciled.filter(pl.col("date") == reconciled["date"].max())
        ui.chart_block(
            "satisfaction-officielle",
            shared_charts.official_vs_feed_by_zone(latest, "Usagers satisfaits (%)"),
            latest.select(
                pl.col("zone_name").alias("Département"),
                pl.col("date").alias("Période"),
                pl.col("official").alias("Taux officiel (%)"),
                pl.col("feed").alias("Taux fsdash (%)"),
                pl.col("gap").alias("Écart (points)"),
            ),
            indicators=KIOSK_CODES,
            source="série officielle : baromètre des résultats de l'action publique (DITP, IND-246 « taux de "
            "satisfaction des usagers en France services », bornes à l'entrée) ; fsdash : bornes déclarées",
            note=f"Période officielle la plus récente : {formats.date_long(latest['date'][0])}. "
            + (latest["note"].drop_nulls().first() or ""),
        )

# --- yearly survey ----------------------------------------------------------------------------------
st.header("Enquête annuelle de satisfaction")
survey_years = ui.query(satisfaction.survey_years)
questions = satisfaction.survey_questions()
survey_levels = [
    (code, label, -1 if level < 3 else (0 if level == 3 else 1)) for code, label, level in satisfaction.survey_levels()
]
scope_survey_years = sorted(ui.query(satisfaction.survey_by_year, scope)["annee"].unique().to_list())
preferred = scope_survey_years or survey_years or years  # the latest year with results for this scope
candidates = [y for y in preferred if last is None or y <= last.year] or preferred
year = st.selectbox(
    "Année (enquête annuelle et résultats à publier)",
    years,
    index=years.index(max(candidates)),
    key="satisfaction_annee",
)
if year not in survey_years:
    st.info(
        f"Aucun résultat d'enquête annuelle chargé pour {year} (table « enquete_annuelle »)"
        + (f" ; années disponibles : {', '.join(map(str, survey_years))}." if survey_years else ".")
    )
else:
    by_question = ui.query(satisfaction.survey_by_question, year, scope)
    if by_question.is_empty():
        st.info(f"Aucun site de ce périmètre n'a de résultats d'enquête pour {year}.")
    else:
        tiles = st.columns(3)
        tiles[0].metric(
            "Répondants",
            formats.number(by_question["repondants"].max()),
            help="Personnes ayant répondu au questionnaire (certaines n'ont pas répondu à toutes les "
            "questions : chaque taux se rapporte aux réponses données à sa question).",
        )
        tiles[1].metric("Sites participants", formats.number(by_question["sites"].max()))
        recommend = by_question.filter(pl.col("question") == "RECOMMANDATION")
        if recommend.height:
            r = recommend.row(0, named=True)
            tiles[2].metric(
                "Recommanderaient France Services",
                ("≈ " if r["fragile"] else "") + formats.percent(r["taux"], 1),
                help="Réponses 4 et 5 sur l'échelle à cinq niveaux à la question "
                "« Recommanderiez-vous France Services ? ».",
            )
            tiles[2].caption(f"IC 95 % : {formats.percent(r['ic_bas'], 1)} à {formats.percent(r['ic_haut'], 1)}")

        st.subheader(f"Réponses par question — {year}")
        labelled = by_question.with_columns(
            pl.col("question").replace_strict(questions, default=pl.col("question")).alias("question_fr")
        )
        ui.chart_block(
            f"satisfaction-enquete-{year}",
            charts.diverging_bars(labelled, "question_fr", survey_levels, None),
            charts.with_rate_text(labelled).select(
                pl.col("question_fr").alias("Question"),
                pl.col("sites").alias("Sites"),
                pl.col("repondants").alias("Répondants"),
                *[pl.col(code).alias(label) for code, label, _ in survey_levels],
                pl.col("note_moyenne").round(2).alias("Note moyenne (1 à 5)"),
                pl.col("taux").alias("Satisfaits (4 ou 5)"),
                pl.col("taux_ic").alias("Satisfaits (IC 95 %)"),
            ),
            indicators=SURVEY_CODES,
            source=SURVEY_SOURCE,
            note="Échelle à cinq niveaux : 1 et 2 à gauche de zéro, 3 (neutre) à cheval sur zéro, "
            "4 et 5 à droite. Satisfaits = niveaux 4 et 5 parmi les réponses données à la question.",
        )

        evolution = ui.query(satisfaction.survey_by_year, scope)
        if evolution["annee"].n_unique() > 1:
            st.subheader("Évolution d'une année sur l'autre")
            ui.chart_block(
                "satisfaction-enquete-evolution",
                charts.survey_evolution(evolution, questions),
                _rate_table(
                    evolution.with_columns(pl.col("question").replace_strict(questions, default=pl.col("question"))),
                    {"annee": "Année", "question": "Question"},
                ),
                indicators=SURVEY_CODES,
                source=SURVEY_SOURCE,
            )

        level = _area_breakdown("satisfaction_niveau_enquete", SUB_LEVELS[scope.level])
        if level is not None:
            st.subheader(f"Par {LEVEL_NAMES[level].lower()} — {year}")
            question = st.selectbox(
                "Question",
                list(questions),
                format_func=questions.get,
                index=len(questions) - 1,
                key="satisfaction_question",
            )
            areas = _area_labels(ui.query(satisfaction.survey_by_area, level, year, scope), level).filter(
                pl.col("question") == question
            )
            overall = by_question.filter(pl.col("question") == question)["taux"]
            ui.chart_block(
                f"satisfaction-enquete-{level}-{year}",
                charts.rate_by_area(areas, "zone", "Satisfaits (4 ou 5)", overall[0] if overall.len() else None),
                _rate_table(areas.sort("taux", descending=True), {"zone": LEVEL_NAMES[level], "sites": "Sites"}),
                indicators=SURVEY_CODES,
                source=SURVEY_SOURCE,
                note=f"Question : « {questions[question]} ». Zones classées par taux ; point creux : moins de "
                f"{MIN_ANSWERS} réponses.",
            )

# --- what each site publishes ------------------------------------------------------------------------
st.header("Résultats à publier (charte 3.2)")
st.caption(
    f"Un tableau par site pour {year} : les réponses des bornes de l'année et chaque question de l'enquête, "
    f"avec l'intervalle de confiance et la mention « fragile » sous {MIN_ANSWERS} réponses. "
    "C'est le tableau que chaque France Services publie chaque année (année choisie plus haut)."
)
publish_year = year
published = ui.query(satisfaction.published_results, publish_year, scope)
if published.is_empty():
    st.info(f"Aucun résultat de satisfaction pour {publish_year} dans ce périmètre.")
else:
    labels = satisfaction.indicator_labels()
    named = published.with_columns(pl.col("indicateur").replace_strict(labels, default=pl.col("indicateur")))
    table = _rate_table(
        named,
        {"annee": "Année", "site_id": "Site", "nom": "Nom", "departement": "Département", "indicateur": "Indicateur"},
    )
    counts = st.columns(3)
    counts[0].metric("Sites publiant", formats.number(published["site_id"].n_unique()))
    counts[1].metric("Résultats", formats.number(published.height))
    counts[2].metric(
        f"Dont fragiles (moins de {MIN_ANSWERS} réponses)", formats.number(int(published["fragile"].sum()))
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "Taux de satisfaction": st.column_config.NumberColumn(format="percent"),
            "IC 95 % bas": st.column_config.NumberColumn(format="percent"),
            "IC 95 % haut": st.column_config.NumberColumn(format="percent"),
        },
    )
    cols = st.columns(2)
    name = f"satisfaction-a-publier-{publish_year}"
    cols[0].download_button(
        "Télécharger (CSV)",
        exports.csv_bytes(table),
        file_name=f"{name}.csv",
        mime="text/csv",
        key="satisfaction_publier_csv",
    )
    cols[1].download_button(
        "Télécharger (XLSX)",
        exports.xlsx_bytes(table),
        file_name=f"{name}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="satisfaction_publier_xlsx",
    )
    st.caption(
        f"Sources : {KIOSK_SOURCE} ; {SURVEY_SOURCE}. {ui.last_load_caption()}"
        + (" **Données de démonstration.**" if ui.is_demo() else "")
    )
