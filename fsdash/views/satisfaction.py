"""Satisfaction: kiosk answers and the yearly survey with their uncertainty, the official kiosk rate,
and the table each site publishes every year (charter 3.1 and 3.2).

Every rate travels with its 95 % Wilson interval and a « fragile » flag: the French text of a rate
with its interval (« ≈ 87,5 % [52,9 % ; 97,8 %] (n = 8) ») is written by Polars expressions
(:func:`fsdash.charts.satisfaction.rate_text_expr`) inside the cached sections, so the ten thousand
rows of the published table cost nothing on a rerun.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from fsdash import charts as shared_charts
from fsdash import formats
from fsdash.cache import cached
from fsdash.charts import satisfaction as charts
from fsdash.charts import with_quarter_labels
from fsdash.filters import Filters
from fsdash.metrics import official, satisfaction
from fsdash.metrics.satisfaction import MIN_ANSWERS
from fsdash.metrics.scope import NATIONAL, Scope, directory
from fsdash.official.definitions import SATISFACTION
from fsdash.periods import quarter_offset
from fsdash.views.common import (
    DELTA_SUFFIX,
    chart_spec,
    comparison_label,
    definitions,
    is_demo,
    points_delta,
    site_detail_notes,
)
from fsdash.views.section import Column, Section, Table, Tile, empty_section

KIOSK_SOURCE = "bornes de satisfaction des sites France Services (charte 3.2)"
SURVEY_SOURCE = "enquête annuelle de satisfaction des usagers (charte 3.1 et 3.2)"
OFFICIAL_SOURCE = (
    "série officielle : baromètre des résultats de l'action publique (DITP, IND-246 « taux de satisfaction des "
    "usagers en France services », bornes à l'entrée) ; fsdash : bornes déclarées"
)
KIOSK_CODES = tuple(f"satisfaction_borne.{code}" for code, _, _ in reversed(satisfaction.kiosk_levels()))
SURVEY_CODES = (
    "enquete_annuelle.repondants",
    *(f"enquete_annuelle.{code}" for code, _, _ in satisfaction.survey_levels()),
)
LEVEL_NAMES = {"region": "Région", "departement": "Département", "site": "Site"}
#: Breakdowns offered under each scope: the areas it contains.
SUB_LEVELS = {
    "national": ("region", "departement"),
    "region": ("departement", "site"),
    "departement": ("site",),
    "site": (),
}
#: How a site without région reads (Saint-Martin, 978, belongs to none).
NO_REGION = "Sans région"
NO_DATA = "Aucune donnée pour ce filtre."
OFFICIAL_NOT_LOADED = (
    "Série officielle IND-246 non chargée dans cet entrepôt : chargez le fichier du baromètre "
    "(ditp-ind-246-satisfaction.csv) avec python -m fsdash import-indicators."
)
FRAGILE_TEXT = f"fragile (moins de {MIN_ANSWERS} réponses)"

INTRO = Section(
    "satisfaction-intro",
    heading="none",
    intro="La charte engage chaque France Services à interroger ses usagers tous les ans et à **publier "
    "annuellement** ses résultats de satisfaction (engagement 3.2). Chaque taux est donné avec son "
    f"intervalle de confiance à 95 % (Wilson) ; un taux calculé sur moins de {MIN_ANSWERS} réponses est "
    "signalé « fragile » (≈, point creux en losange) : il ne doit pas être lu comme un chiffre exact.",
)
NOTHING_LOADED = Section(
    "satisfaction-vide",
    heading="none",
    empty="Aucune réponse de satisfaction chargée : chargez les tables « satisfaction_borne » (bornes) ou "
    "« enquete_annuelle » (enquête annuelle) avec python -m fsdash ingest.",
)
SURVEY_HEADING = Section("enquete", "Enquête annuelle de satisfaction", heading="header")


# --- shared pieces ----------------------------------------------------------------------------------


RATE_COLUMNS = (
    Column("Taux de satisfaction", "percent", 1),
    Column("IC 95 % bas", "percent", 1),
    Column("IC 95 % haut", "percent", 1),
)


def _rate_table(frame: pl.DataFrame, first_columns: dict[str, str], *columns: Column) -> Table:
    """Numbers kept as numbers (sortable, exported), plus the French text with its interval."""
    selected = frame.select(
        *[pl.col(c).alias(label) for c, label in first_columns.items()],
        pl.col("reponses").alias("Réponses"),
        pl.col("satisfaits").alias("Satisfaits"),
        pl.col("taux").alias("Taux de satisfaction"),
        pl.col("ic_bas").alias("IC 95 % bas"),
        pl.col("ic_haut").alias("IC 95 % haut"),
        charts.rate_text_expr().alias("Taux (IC 95 %)"),
        pl.when(pl.col("fragile")).then(pl.lit(FRAGILE_TEXT)).otherwise(pl.lit("")).alias("Fiabilité"),
    )
    return Table(selected, (*columns, *RATE_COLUMNS))


def area_labels(wh, frame: pl.DataFrame, level: str) -> pl.DataFrame:
    """A ``zone`` column a reader understands: « 01 — Ain », « Nouvelle-Aquitaine », « Nom du site (id) ».

    Names come from the resolver's directory; a site without région (Saint-Martin) is grouped under
    « Sans région » rather than left nameless.
    """
    if level == "site":
        return frame.with_columns(
            pl.concat_str(pl.col("nom"), pl.lit(" ("), pl.col("site_id"), pl.lit(")")).alias("zone")
        )
    d = directory(wh)
    codes = d.regions if level == "region" else d.departements
    labels = {code: d.area_label(level, code) for code in codes}
    missing = NO_REGION if level == "region" else "Sans département"
    return frame.with_columns(
        pl.col(level)
        .replace_strict(labels, default=pl.col(level), return_dtype=pl.String)
        .fill_null(missing)
        .alias("zone")
    )


def _shown_areas(frame: pl.DataFrame, scope: Scope, level: str) -> pl.DataFrame:
    """Per-site rows only for the départements the viewer sees one by one (areas above sites are
    aggregates, always shown)."""
    return frame.filter(scope.site_detail_filter()) if level == "site" else frame


def _area_notes(scope: Scope, level: str) -> tuple[str, ...]:
    return site_detail_notes(scope) if level == "site" else ()


def kiosk_date(wh) -> str:
    """« Réponses des bornes jusqu'au 3e trimestre 2026 »: the kiosk table's latest quarter."""
    latest = satisfaction.kiosk_by_quarter(wh, NATIONAL)["periode"].max()
    return f"Réponses des bornes jusqu'au {formats.quarter_long(latest)}" if latest else "Aucune réponse de borne"


def survey_date(wh) -> str:
    """« Dernière enquête annuelle chargée : 2025 »: the survey table's latest year."""
    years = satisfaction.survey_years(wh)
    return f"Dernière enquête annuelle chargée : {years[-1]}" if years else "Aucune enquête annuelle chargée"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _compared(filters: Filters) -> Filters | None:
    compared = filters.compared()
    if compared is not None and (compared.scope, compared.first, compared.last) == (
        filters.scope,
        filters.first,
        filters.last,
    ):
        return None  # « moyenne nationale » while looking at France entière: nothing to compare
    return compared


# --- year choice ------------------------------------------------------------------------------------


@cached(maxsize=64, kind="section")
def year_choice(wh, scope: Scope, last: dt.date | None) -> tuple[tuple[int, ...], int]:
    """The years of the « Année » selector (kiosk or survey) and the default's index: the latest year
    with survey results for this scope up to the period's end (else any survey year, else any year)."""
    years = satisfaction.satisfaction_years(wh)
    if not years:
        return (), 0
    survey_years = satisfaction.survey_years(wh)
    scope_years = sorted(satisfaction.survey_by_year(wh, scope)["annee"].unique().to_list())
    preferred = scope_years or list(survey_years) or list(years)
    candidates = [y for y in preferred if last is None or y <= last.year] or preferred
    return years, years.index(max(candidates))


def questions() -> dict[str, str]:
    """Survey question code -> French label, in the catalogue's order (the « Question » selector)."""
    return satisfaction.survey_questions()


# --- kiosk answers ----------------------------------------------------------------------------------


@cached(maxsize=64, kind="section")
def kiosk_tiles(wh, filters: Filters) -> Section:
    """Satisfied users at the kiosks over the period, with the interval and the comparison in points."""
    scope, first, last = filters.scope, filters.first, filters.last
    kiosk = satisfaction.kiosk_summary(wh, scope, first, last).row(0, named=True)
    title, intro = (
        "Bornes de satisfaction",
        "Question posée à la sortie : « Satisfait de votre démarche dans votre France services aujourd'hui ? » "
        "— satisfaits = « très satisfait » + « satisfait ».",
    )
    if not kiosk["reponses"]:
        return empty_section(
            "satisfaction-bornes",
            title,
            "Aucune réponse de borne pour ce périmètre et cette période (les bornes équipent une partie des sites).",
            heading="header",
            intro=intro,
        )
    delta = None
    compared = _compared(filters)
    if compared is not None:
        other = satisfaction.kiosk_summary(wh, compared.scope, compared.first, compared.last).row(0, named=True)
        delta = points_delta(kiosk["taux"], other["taux"], DELTA_SUFFIX[filters.comparison])
    return Section(
        "satisfaction-bornes",
        title,
        heading="header",
        intro=intro,
        tiles=(
            Tile(
                "Usagers satisfaits (bornes)",
                ("≈ " if kiosk["fragile"] else "") + formats.percent(kiosk["taux"], 1),
                delta=delta,
                help="Réponses « très satisfait » et « satisfait » parmi toutes les réponses des bornes du "
                "périmètre sur la période ; intervalle de confiance à 95 % de Wilson.",
                caption=f"IC 95 % : {formats.percent(kiosk['ic_bas'], 1)} à {formats.percent(kiosk['ic_haut'], 1)}"
                + (f" — fragile : moins de {MIN_ANSWERS} réponses" if kiosk["fragile"] else ""),
            ),
            Tile("Réponses aux bornes", formats.number(kiosk["reponses"])),
            Tile("Sites ayant des réponses", formats.number(kiosk["sites"])),
        ),
        source=KIOSK_SOURCE,
        data_date=kiosk_date(wh),
        demo=is_demo(wh),
    )


@cached(maxsize=64, kind="section")
def kiosk_by_quarter(wh, filters: Filters) -> Section:
    """The rate quarter by quarter with its interval band, and the comparison's line aligned on the
    same quarters (the previous period or last year moved forward, the national rate as is)."""
    scope, first, last = filters.scope, filters.first, filters.last
    title = "Évolution par trimestre"
    by_quarter = with_quarter_labels(satisfaction.kiosk_by_quarter(wh, scope, first, last))
    if by_quarter.is_empty():
        return empty_section("satisfaction-bornes-trimestres", title, NO_DATA)
    reference, reference_label = None, None
    compared = _compared(filters)
    if compared is not None:
        ref = satisfaction.kiosk_by_quarter(wh, compared.scope, compared.first, compared.last)
        if filters.comparison != "nationale":
            months = 3 * quarter_offset(first, compared.first)
            ref = ref.with_columns(pl.col("periode").dt.offset_by(f"{months}mo"))
        reference, reference_label = with_quarter_labels(ref), comparison_label(filters)
    return Section(
        "satisfaction-bornes-trimestres",
        title,
        chart=chart_spec(
            charts.rate_over_time(by_quarter, "periode", "trimestre", "Usagers satisfaits", reference, reference_label)
        ),
        chart_alt="Courbe du taux d'usagers satisfaits aux bornes par trimestre, avec son intervalle de confiance.",
        table=_rate_table(by_quarter, {"trimestre": "Trimestre", "sites": "Sites"}),
        definitions=definitions(KIOSK_CODES),
        source=KIOSK_SOURCE,
        data_date=kiosk_date(wh),
        demo=is_demo(wh),
        notes=(
            f"Bande : intervalle de confiance à 95 % ; point creux : moins de {MIN_ANSWERS} réponses."
            + (f" Trait pointillé : {_lower_first(reference_label)}." if reference_label else ""),
        ),
    )


@cached(maxsize=64, kind="section")
def kiosk_by_year(wh, scope: Scope, first: dt.date | None, last: dt.date | None) -> Section:
    """How answers split between the four levels, year by year (diverging bars)."""
    title = "Répartition des réponses par année"
    by_year = satisfaction.kiosk_by_year(wh, scope)
    if first is not None and last is not None:
        by_year = by_year.filter(pl.col("annee").is_between(first.year, last.year))
    if by_year.is_empty():
        return empty_section("satisfaction-bornes-repartition", title, NO_DATA)
    by_year = by_year.with_columns(pl.col("annee").cast(pl.String).alias("annee_fr"))
    levels = [(code, label, 1 if ok else -1) for code, label, ok in satisfaction.kiosk_levels()]
    table = by_year.select(
        pl.col("annee").alias("Année"),
        pl.col("sites").alias("Sites"),
        *[pl.col(code).alias(label) for code, label, _ in levels],
        pl.col("reponses").alias("Réponses"),
        pl.col("taux").alias("Taux de satisfaction"),
    )
    return Section(
        "satisfaction-bornes-repartition",
        title,
        chart=chart_spec(charts.diverging_bars(by_year, "annee_fr", levels, "Année")),
        chart_alt="Barres divergentes : part de chaque niveau de réponse aux bornes, par année.",
        table=Table(table, (Column("Année", "text"), Column("Taux de satisfaction", "percent", 1))),
        definitions=definitions(KIOSK_CODES),
        source=KIOSK_SOURCE,
        data_date=kiosk_date(wh),
        demo=is_demo(wh),
        notes=(
            "À gauche de zéro les réponses « peu » et « pas satisfait », à droite « satisfait » et « très "
            "satisfait » ; chaque segment porte sa part.",
        ),
    )


@cached(maxsize=64, kind="section")
def kiosk_by_area(wh, scope: Scope, first: dt.date | None, last: dt.date | None, level: str) -> Section:
    """The rate of each région, département or site of the scope, with the scope's own rate as a rule."""
    key, title = f"satisfaction-bornes-{level}", f"Par {LEVEL_NAMES[level].lower()}"
    areas = area_labels(
        wh, _shown_areas(satisfaction.kiosk_by_area(wh, scope, first, last, level), scope, level), level
    )
    if areas.is_empty():
        return empty_section(key, title, NO_DATA, notes=_area_notes(scope, level))
    overall = satisfaction.kiosk_summary(wh, scope, first, last)["taux"][0]
    return Section(
        key,
        title,
        chart=chart_spec(charts.rate_by_area(areas, "zone", "Usagers satisfaits", overall)),
        chart_alt=f"Taux d'usagers satisfaits aux bornes par {LEVEL_NAMES[level].lower()}, avec leurs intervalles "
        "de confiance.",
        table=_rate_table(
            areas.sort("taux", descending=True, nulls_last=True), {"zone": LEVEL_NAMES[level], "sites": "Sites"}
        ),
        definitions=definitions(KIOSK_CODES),
        source=KIOSK_SOURCE,
        data_date=kiosk_date(wh),
        demo=is_demo(wh),
        notes=(
            "Zones classées par taux ; trait rouge pointillé : taux de l'ensemble du périmètre. Deux zones dont "
            "les intervalles se chevauchent ne se distinguent pas nettement.",
            *_area_notes(scope, level),
        ),
    )


@cached(maxsize=64, kind="section")
def official_rate(wh, scope: Scope) -> Section | None:
    """The DITP's kiosk rate (IND-246) of each département of the territory, its latest period, next to
    fsdash's; None for a site. When the series is not loaded, says so and how to load it (« no value
    for this scope » would read as if the DITP had published none)."""
    if scope.level == "site":
        return None
    key, title = "satisfaction-officielle", "Taux officiel de satisfaction aux bornes (IND-246), par département"
    if not official.official_summary(wh).get(SATISFACTION):
        return empty_section(key, title, OFFICIAL_NOT_LOADED)
    reconciled = official.reconcile(wh, scope.territory(), SATISFACTION)
    if reconciled.is_empty():
        return empty_section(key, title, "Aucune valeur officielle de satisfaction pour ce périmètre.")
    latest_date = reconciled["date"].max()
    d = directory(wh)
    labels = {code: d.area_label("departement", code) for code in d.departements}
    latest = reconciled.filter(pl.col("date") == latest_date).with_columns(
        pl.when(pl.col("zone_level") == "departement")
        .then(pl.col("zone_code").replace_strict(labels, default=pl.col("zone_name"), return_dtype=pl.String))
        .otherwise(pl.col("zone_name"))
        .alias("zone_name")
    )
    return Section(
        key,
        title,
        chart=chart_spec(shared_charts.official_vs_feed_by_zone(latest, "Usagers satisfaits (%)")),
        chart_alt="Taux officiel et taux fsdash de satisfaction aux bornes, par département.",
        table=Table(
            latest.select(
                pl.col("zone_name").alias("Département"),
                pl.col("date").alias("Période"),
                pl.col("official").alias("Taux officiel (%)"),
                pl.col("feed").alias("Taux fsdash (%)"),
                pl.col("gap").alias("Écart (points)"),
            )
        ),
        definitions=definitions(KIOSK_CODES),
        source=OFFICIAL_SOURCE,
        data_date=f"Période officielle la plus récente : {formats.date_long(latest_date)}",
        demo=is_demo(wh),
        notes=tuple(note for note in (latest["note"].drop_nulls().first(),) if note),
    )


# --- the yearly survey ------------------------------------------------------------------------------


@cached(maxsize=64, kind="section")
def survey_tiles(wh, scope: Scope, year: int) -> Section:
    """Respondents, participating sites and the recommendation rate of the year chosen."""
    key = f"satisfaction-enquete-chiffres-{year}"
    survey_years = satisfaction.survey_years(wh)
    if year not in survey_years:
        return empty_section(
            key,
            None,
            f"Aucun résultat d'enquête annuelle chargé pour {year} (table « enquete_annuelle »)"
            + (f" ; années disponibles : {', '.join(map(str, survey_years))}." if survey_years else "."),
        )
    by_question = satisfaction.survey_by_question(wh, scope, year)
    if by_question.is_empty():
        return empty_section(key, None, f"Aucun site de ce périmètre n'a de résultats d'enquête pour {year}.")
    tiles = [
        Tile(
            "Répondants",
            formats.number(by_question["repondants"].max()),
            help="Personnes ayant répondu au questionnaire (certaines n'ont pas répondu à toutes les "
            "questions : chaque taux se rapporte aux réponses données à sa question).",
        ),
        Tile("Sites participants", formats.number(by_question["sites"].max())),
    ]
    recommend = by_question.filter(pl.col("question") == "RECOMMANDATION")
    if recommend.height:
        r = recommend.row(0, named=True)
        tiles.append(
            Tile(
                "Recommanderaient France Services",
                ("≈ " if r["fragile"] else "") + formats.percent(r["taux"], 1),
                help="Réponses 4 et 5 sur l'échelle à cinq niveaux à la question "
                "« Recommanderiez-vous France Services ? ».",
                caption=f"IC 95 % : {formats.percent(r['ic_bas'], 1)} à {formats.percent(r['ic_haut'], 1)}",
            )
        )
    return Section(
        key,
        tiles=tuple(tiles),
        tile_rows=(3,),
        source=SURVEY_SOURCE,
        data_date=survey_date(wh),
        demo=is_demo(wh),
    )


def _survey_levels() -> list[tuple[str, str, int]]:
    return [
        (code, label, -1 if level < 3 else (0 if level == 3 else 1))
        for code, label, level in satisfaction.survey_levels()
    ]


@cached(maxsize=64, kind="section")
def survey_by_question(wh, scope: Scope, year: int) -> Section:
    """How respondents answered each question of the year (diverging bars), with the mean score."""
    key, title = f"satisfaction-enquete-{year}", f"Réponses par question — {year}"
    by_question = satisfaction.survey_by_question(wh, scope, year)
    if by_question.is_empty():
        return empty_section(key, title, NO_DATA)
    labels = questions()
    levels = _survey_levels()
    labelled = by_question.with_columns(
        pl.col("question").replace_strict(labels, default=pl.col("question")).alias("question_fr")
    )
    table = labelled.select(
        pl.col("question_fr").alias("Question"),
        pl.col("sites").alias("Sites"),
        pl.col("repondants").alias("Répondants"),
        *[pl.col(code).alias(label) for code, label, _ in levels],
        pl.col("note_moyenne").round(2).alias("Note moyenne (1 à 5)"),
        pl.col("taux").alias("Satisfaits (4 ou 5)"),
        charts.rate_text_expr().alias("Satisfaits (IC 95 %)"),
    )
    return Section(
        key,
        title,
        chart=chart_spec(charts.diverging_bars(labelled, "question_fr", levels, None)),
        chart_alt=f"Barres divergentes : part de chaque niveau de réponse, par question de l'enquête {year}.",
        table=Table(table, (Column("Note moyenne (1 à 5)", "decimal", 2), Column("Satisfaits (4 ou 5)", "percent", 1))),
        definitions=definitions(SURVEY_CODES),
        source=SURVEY_SOURCE,
        data_date=survey_date(wh),
        demo=is_demo(wh),
        notes=(
            "Échelle à cinq niveaux : 1 et 2 à gauche de zéro, 3 (neutre) à cheval sur zéro, 4 et 5 à droite. "
            "Satisfaits = niveaux 4 et 5 parmi les réponses données à la question.",
        ),
    )


@cached(maxsize=64, kind="section")
def survey_evolution(wh, scope: Scope) -> Section | None:
    """Each question's rate from one year to the next; None with a single year (nothing to follow)."""
    evolution = satisfaction.survey_by_year(wh, scope)
    if evolution["annee"].n_unique() <= 1:
        return None
    labels = questions()
    table = _rate_table(
        evolution.with_columns(pl.col("question").replace_strict(labels, default=pl.col("question"))),
        {"annee": "Année", "question": "Question"},
        Column("Année", "text"),
    )
    return Section(
        "satisfaction-enquete-evolution",
        "Évolution d'une année sur l'autre",
        chart=chart_spec(charts.survey_evolution(evolution, labels)),
        chart_alt="Courbes du taux de satisfaits de chaque question de l'enquête, année par année.",
        table=table,
        definitions=definitions(SURVEY_CODES),
        source=SURVEY_SOURCE,
        data_date=survey_date(wh),
        demo=is_demo(wh),
    )


@cached(maxsize=64, kind="section")
def survey_by_area(wh, scope: Scope, year: int, level: str, question: str) -> Section:
    """One question's rate in each région, département or site of the scope, for the year chosen."""
    key, title = f"satisfaction-enquete-{level}-{year}", f"Par {LEVEL_NAMES[level].lower()} — {year}"
    labels = questions()
    areas = area_labels(wh, _shown_areas(satisfaction.survey_by_area(wh, scope, year, level), scope, level), level)
    areas = areas.filter(pl.col("question") == question)
    if areas.is_empty():
        return empty_section(key, title, NO_DATA, notes=_area_notes(scope, level))
    overall = satisfaction.survey_by_question(wh, scope, year).filter(pl.col("question") == question)["taux"]
    return Section(
        key,
        title,
        chart=chart_spec(
            charts.rate_by_area(areas, "zone", "Satisfaits (4 ou 5)", overall[0] if overall.len() else None)
        ),
        chart_alt=f"Taux de satisfaits à la question « {labels.get(question, question)} » par "
        f"{LEVEL_NAMES[level].lower()}, avec leurs intervalles de confiance.",
        table=_rate_table(
            areas.sort("taux", descending=True, nulls_last=True), {"zone": LEVEL_NAMES[level], "sites": "Sites"}
        ),
        definitions=definitions(SURVEY_CODES),
        source=SURVEY_SOURCE,
        data_date=survey_date(wh),
        demo=is_demo(wh),
        notes=(
            f"Question : « {labels.get(question, question)} ». Zones classées par taux ; point creux : moins de "
            f"{MIN_ANSWERS} réponses.",
            *_area_notes(scope, level),
        ),
    )


# --- what each site publishes -----------------------------------------------------------------------


@cached(maxsize=32, kind="section")
def published(wh, scope: Scope, year: int) -> Section:
    """The table each France Services publishes for the year (charter 3.2): one row per site and
    indicator, every rate with its interval and « fragile » mention, written once per warehouse
    version — the CSV and XLSX are built only when clicked."""
    title = "Résultats à publier (charte 3.2)"
    intro = (
        f"Un tableau par site pour {year} : les réponses des bornes de l'année et chaque question de l'enquête, "
        f"avec l'intervalle de confiance et la mention « fragile » sous {MIN_ANSWERS} réponses. "
        "C'est le tableau que chaque France Services publie chaque année (année choisie plus haut)."
    )
    key = f"satisfaction-a-publier-{year}"
    # one row per site: only the sites of the départements the viewer sees one by one
    results = satisfaction.published_results(wh, scope, year).filter(scope.site_detail_filter())
    reserved = site_detail_notes(scope)
    if results.is_empty():
        return empty_section(
            key,
            title,
            f"Aucun résultat de satisfaction pour {year} dans ce périmètre.",
            heading="header",
            intro=intro,
            notes=reserved,
        )
    named = results.with_columns(
        pl.col("indicateur").replace_strict(satisfaction.indicator_labels(), default=pl.col("indicateur"))
    )
    table = _rate_table(
        named,
        {"annee": "Année", "site_id": "Site", "nom": "Nom", "departement": "Département", "indicateur": "Indicateur"},
        Column("Année", "text"),
    )
    return Section(
        key,
        title,
        heading="header",
        intro=intro,
        tiles=(
            Tile("Sites publiant", formats.number(results["site_id"].n_unique())),
            Tile("Résultats", formats.number(results.height)),
            Tile(f"Dont fragiles (moins de {MIN_ANSWERS} réponses)", formats.number(int(results["fragile"].sum()))),
        ),
        table=table,
        table_in_expander=False,
        source=f"{KIOSK_SOURCE} ; {SURVEY_SOURCE}",
        data_date=f"{kiosk_date(wh)}. {survey_date(wh)}",
        demo=is_demo(wh),
        notes=reserved,
    )
