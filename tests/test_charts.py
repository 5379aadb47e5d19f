"""Every chart builder, built on small hand-made frames shaped like the pages' inputs.

Pages turn charts into specs with :func:`fsdash.charts.spec`, which skips Altair's JSON-schema
validation (≈ 40 ms a chart). The builders' code is what could produce an invalid spec, so the
validation happens here, once per builder, and the unvalidated spec must be the same dict.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable

import altair as alt
import polars as pl
import pytest
from test_satisfaction import rate_text

from fsdash import charts, formats
from fsdash.charts import attendance, funding, reasons, satisfaction
from fsdash.circulaire import BDT_ENVELOPE_LINES, SITES_AT_1_JAN_2020, SITES_END_2022
from fsdash.metrics.satisfaction import MIN_ANSWERS
from fsdash.periods import shift_quarters

Q = [dt.date(2023, 1, 1), dt.date(2023, 4, 1), dt.date(2023, 7, 1), dt.date(2023, 10, 1), dt.date(2024, 1, 1)]
PREVIOUS = [dt.date(2022, 1, 1), dt.date(2022, 4, 1), dt.date(2022, 7, 1), dt.date(2022, 10, 1), dt.date(2023, 1, 1)]
MONTHS = [dt.date(2020, 1, 1), dt.date(2021, 1, 1), dt.date(2022, 1, 1), dt.date(2022, 12, 31)]
PARTNERS = ["Caf", "ANTS / France Titres", "DGFiP", "Assurance maladie"]
ISSUES = [
    ("REPONDU_SUR_PLACE", "Réponse sur place"),
    ("TRANSMIS_REFERENT", "Transmise au référent"),
    ("REORIENTE", "Réorientée"),
]
LINE_LABELS = {"LA_POSTE": "Montée en gamme postale", "ANIMATION": "Animation du réseau", "BUS": "Bus France Services"}
QUESTIONS = {"ACCUEIL": "Qualité de l'accueil", "RECOMMANDATION": "Recommanderiez-vous France Services ?"}
KIOSK_LEVELS = [
    ("reponses_pas_satisfait", "Pas satisfait", -1),
    ("reponses_peu_satisfait", "Peu satisfait", -1),
    ("reponses_satisfait", "Satisfait", 1),
    ("reponses_tres_satisfait", "Très satisfait", 1),
]
SURVEY_LEVELS = [(f"niveau_{i}", f"Niveau {i}", -1 if i < 3 else (0 if i == 3 else 1)) for i in range(1, 6)]


def _quarters(values: list, column: str = "demandes", periods: list[dt.date] = Q) -> pl.DataFrame:
    return pl.DataFrame({"periode": periods, column: values})


def _rates(label: str, labels: list, **extra: list) -> pl.DataFrame:
    n = len(labels)
    taux = [0.9 - 0.05 * i for i in range(n)]
    reponses = [1000 // (i + 1) if i != 1 else 12 for i in range(n)]
    return pl.DataFrame(
        {
            label: labels,
            **extra,
            "taux": taux,
            "ic_bas": [t - 0.03 for t in taux],
            "ic_haut": [min(t + 0.03, 1.0) for t in taux],
            "reponses": reponses,
            "satisfaits": [round(t * r) for t, r in zip(taux, reponses, strict=True)],
            "fragile": [r < 30 for r in reponses],
        }
    )


def _by_quarter() -> pl.DataFrame:
    rows = [
        (p, name, 100 * (i + 1) + 7 * q, None)
        for q, p in enumerate(Q[:4])
        for i, name in enumerate(["Accueil physique", "Téléphone", "Courriel", "Visio"])
    ]
    frame = pl.DataFrame(rows, schema=["periode", "libelle_court", "nb_demandes", "part"], orient="row")
    return frame.with_columns((pl.col("nb_demandes") / pl.col("nb_demandes").sum().over("periode")).alias("part"))


def _heatmap() -> pl.DataFrame:
    rows = []
    for dep, name, total in (("01", "Ain", 1200), ("2A", "Corse-du-Sud", 150), ("974", "La Réunion", 900)):
        for i, partner in enumerate(PARTNERS):
            part = (0.4, 0.3, 0.2, 0.1)[i] + (0.05 if dep == "2A" and i == 0 else 0) - (0.05 if dep == "2A" else 0)
            rows.append((dep, name, partner, round(part * total), total, part, (0.4, 0.3, 0.2, 0.1)[i]))
    frame = pl.DataFrame(
        rows,
        schema=[
            "departement",
            "departement_nom",
            "libelle_court",
            "nb_demandes",
            "total_departement",
            "part",
            "part_zone",
        ],
        orient="row",
    )
    return frame.with_columns(
        (pl.col("part") - pl.col("part_zone")).alias("ecart"),
        (pl.col("total_departement") < 200).alias("petit_effectif"),
    )


def _funding_by_year(category: str, codes: list[str], scale: float) -> pl.DataFrame:
    rows = [
        (year, code, scale * (i + 1) * (year - 2019)) for year in (2020, 2021, 2022) for i, code in enumerate(codes)
    ]
    return pl.DataFrame(rows, schema=["annee", category, "montant"], orient="row")


def _envelope_timeline() -> pl.DataFrame:
    rows = []
    for i, (code, rule) in enumerate(BDT_ENVELOPE_LINES.items()):
        for j, day in enumerate([dt.date(2020, 3, 31), dt.date(2021, 3, 31), dt.date(2022, 3, 31)]):
            rows.append((day, code, rule.value, rule.value * 0.3 * (j + 1) / (i + 1), rule.value * 0.2 * j / (i + 1)))
    return pl.DataFrame(rows, schema=["date", "ligne", "enveloppe", "engage", "paye"], orient="row")


def _official_monthly() -> alt.TopLevelMixin:
    official = pl.DataFrame(
        {
            "date": [dt.date(2022, 1, 1), dt.date(2022, 6, 1), dt.date(2023, 1, 1), dt.date(2023, 12, 1)],
            "value": [None, 700_000.0, 760_000.5, None],
            "initial": [650_000.0, None, None, None],
            "target": [None, None, None, 900_000.0],
        }
    )
    return charts.official_monthly(
        official, _quarters([2_100_000, 1_950_000, 1_700_000, 2_250_000, 2_300_000]), "Actes"
    )


def _comparison(kind: str) -> alt.TopLevelMixin:
    if kind == "percent":
        current = _quarters([0.612, 0.6175, 0.62, 0.615, 0.6185], "part_sur_place")
        compared = attendance.align(_quarters([0.6, 0.605, 0.61, 0.603, 0.6], "part_sur_place", PREVIOUS), 4)
        return attendance.comparison_trend(
            current,
            "part_sur_place",
            "Part résolue sur place",
            compared=compared,
            compared_label="Même période, un an plus tôt",
            kind="percent",
            decimals=1,
            mark="line",
            height=220,
        )
    current = _quarters([12_500, 13_100, 9_800, 14_250, 15_000])
    compared = attendance.align(_quarters([11_000, 12_000, 9_000, 13_000, 12_500], periods=PREVIOUS), 4)
    return attendance.comparison_trend(
        current, "demandes", "Demandes", compared=compared, compared_label="Année précédente"
    )


#: One entry per chart a page draws: (builder name, how to build it on small inputs).
CASES: list[tuple[str, Callable[[], alt.TopLevelMixin]]] = [
    (
        "quarterly_bars",
        lambda: charts.quarterly_bars(_quarters([3150, 2600, 2475, 3300, 12_345]), "demandes", "Demandes"),
    ),
    (
        "trajectory",
        lambda: charts.trajectory(
            pl.DataFrame({"date": MONTHS, "sites": [300, 1300, 2055, 2500]}),
            [SITES_AT_1_JAN_2020, SITES_END_2022],
            pl.DataFrame({"date": MONTHS[1:], "value": [1290.0, 2049.6, 2494.5]}),
        ),
    ),
    ("trajectory", lambda: charts.trajectory(pl.DataFrame({"date": MONTHS, "sites": [300, 1300, 2055, 2500]}))),
    (
        "trajectory_by",
        lambda: charts.trajectory_by(
            pl.DataFrame(
                {
                    "date": MONTHS * 2,
                    "groupe": ["FIXE"] * 4 + ["BUS"] * 4,
                    "sites": [290, 1250, 1960, 2380, 10, 50, 95, 120],
                }
            ),
            {"FIXE": "Site fixe", "BUS": "Bus"},
            "Sites ouverts",
        ),
    ),
    (
        "reconciliation_gaps",
        lambda: charts.reconciliation_gaps(
            pl.DataFrame(
                {
                    "date": MONTHS,
                    "median_abs_gap_relative": [0.0125, 0.003, None, 0.0],
                    "max_abs_gap_relative": [0.25, 0.0775, 0.1, 0.02],
                    "flagged": [3, 1, 0, 0],
                }
            ),
            0.05,
        ),
    ),
    ("official_monthly", _official_monthly),
    (
        "official_vs_feed_by_zone",
        lambda: charts.official_vs_feed_by_zone(
            pl.DataFrame(
                {
                    "zone_name": ["Ain", "Corse-du-Sud", "Ardèche"],
                    "official": [96.25, 94.0, None],
                    "feed": [95.5, None, 97.15],
                }
            ),
            "Usagers satisfaits (%)",
        ),
    ),
    (
        "commitments",
        lambda: charts.commitments(
            pl.DataFrame(
                {
                    "engagement": ["Deux agents en front office", "24 heures d'ouverture", "Visio-conférence"],
                    "valeur": [0.9125, None, 1.0],
                    "source": ["sites", "sites", "enquête"],
                }
            )
        ),
    ),
    ("comparison_trend", lambda: _comparison("number")),
    ("comparison_trend", lambda: _comparison("percent")),
    (
        "comparison_trend",
        lambda: attendance.comparison_trend(
            _quarters([1.25, 1.5, None, 2.0, 2.25], "par_site"), "par_site", "Par site", decimals=2
        ),
    ),
    (
        "seasonal_lines",
        lambda: attendance.seasonal_lines(
            pl.DataFrame(
                {
                    "annee": [2023] * 4 + [2024] * 2,
                    "trimestre": [1, 2, 3, 4, 1, 2],
                    "demandes_par_site": [310.5, 295.25, 240.0, 330.75, 320.5, 300.0],
                    "indice": [105.2, 99.5, 80.9, 111.5, 103.4, 96.6],
                }
            ),
            "demandes_par_site",
            "Demandes par site",
        ),
    ),
    (
        "distribution_histogram",
        lambda: attendance.distribution_histogram(
            pl.DataFrame(
                {
                    "debut": [0.0, 250.0, 500.0, 750.0],
                    "fin": [250.0, 500.0, 750.0, 1000.0],
                    "sites": [120, 1450, 980, 35],
                }
            ),
            {"q1": 310.0, "mediane": 455.5, "q3": 610.25},
            "Demandes par ETP",
            decimals=1,
            marker=("Ce site", 512.25),
        ),
    ),
    (
        "distribution_histogram",
        lambda: attendance.distribution_histogram(
            pl.DataFrame({"debut": [0.0, 1.0], "fin": [1.0, 2.0], "sites": [3, 4]}), {"q1": None}, "Agents"
        ),
    ),
    (
        "outcome_bar",
        lambda: reasons.outcome_bar(
            pl.DataFrame(
                {
                    "code": [c for c, _ in ISSUES],
                    "libelle_court": [label for _, label in ISSUES],
                    "part": [0.7125, 0.2575, 0.03],
                    "nb_demandes": [7125, 2575, 300],
                }
            )
        ),
    ),
    (
        "share_bars",
        lambda: reasons.share_bars(
            pl.DataFrame(
                {"libelle_court": PARTNERS, "part": [0.42, 0.255, 0.2, 0.125], "nb_demandes": [4200, 2550, 2000, 1250]}
            ),
            compared=pl.DataFrame({"libelle_court": PARTNERS, "part": [0.4, 0.3, None, 0.1]}),
            compared_label="Année précédente",
        ),
    ),
    (
        "share_bars",
        lambda: reasons.share_bars(
            pl.DataFrame({"libelle_court": PARTNERS, "part": [None] * 4, "nb_demandes": [0] * 4}), compared_label=""
        ),
    ),
    (
        "situation_bars",
        lambda: reasons.situation_bars(
            pl.DataFrame(
                {
                    "libelle": ["Je déménage", "Je perds mon emploi", "J'attends un enfant", "Je pars à la retraite"],
                    "theme_libelle": ["Logement", "Emploi", "Famille", "Emploi"],
                    "part": [0.3, 0.25, 0.2, 0.25],
                    "nb_demandes": [300, 250, 200, 250],
                }
            )
        ),
    ),
    (
        "outcome_stack",
        lambda: reasons.outcome_stack(
            pl.DataFrame(
                [
                    (p, c, label, 100 * (i + 1) * (j + 1), (0.6, 0.3, 0.1)[j])
                    for i, p in enumerate(PARTNERS)
                    for j, (c, label) in enumerate(ISSUES)
                ],
                schema=["libelle_court", "issue", "issue_libelle", "nb_demandes", "part"],
                orient="row",
            )
        ),
    ),
    ("share_small_multiples", lambda: reasons.share_small_multiples(_by_quarter())),
    ("channel_lines", lambda: reasons.channel_lines(_by_quarter())),
    ("departement_heatmap", lambda: reasons.departement_heatmap(_heatmap(), "part", highlight="01")),
    ("departement_heatmap", lambda: reasons.departement_heatmap(_heatmap(), "ecart", zone_label="la France entière")),
    (
        "rate_by_area",
        lambda: satisfaction.rate_by_area(
            _rates("zone", ["01 — Ain", "2A — Corse-du-Sud", "07 — Ardèche"]), "zone", "Usagers satisfaits", 0.875
        ),
    ),
    ("rate_by_area", lambda: satisfaction.rate_by_area(_rates("zone", ["01 — Ain"]), "zone", "Satisfaits (4 ou 5)")),
    (
        "rate_over_time",
        lambda: satisfaction.rate_over_time(
            charts.with_quarter_labels(_rates("periode", Q)),
            "periode",
            "trimestre",
            "Usagers satisfaits",
            charts.with_quarter_labels(_rates("periode", Q[1:])),
            "Moyenne nationale",
        ),
    ),
    (
        "diverging_bars",
        lambda: satisfaction.diverging_bars(
            pl.DataFrame(
                {
                    "annee_fr": ["2022", "2023", "2024"],
                    "reponses_pas_satisfait": [4, 0, 10],
                    "reponses_peu_satisfait": [6, 0, 12],
                    "reponses_satisfait": [40, 0, 150],
                    "reponses_tres_satisfait": [50, 0, 328],
                }
            ),
            "annee_fr",
            KIOSK_LEVELS,
            "Année",
        ),
    ),
    (
        "diverging_bars",
        lambda: satisfaction.diverging_bars(
            pl.DataFrame({"question_fr": list(QUESTIONS.values()), **{f"niveau_{i}": [i, 2 * i] for i in range(1, 6)}}),
            "question_fr",
            SURVEY_LEVELS,
            None,
        ),
    ),
    (
        "survey_evolution",
        lambda: satisfaction.survey_evolution(
            _rates(
                "question", ["ACCUEIL", "RECOMMANDATION", "ACCUEIL", "RECOMMANDATION"], annee=[2022, 2022, 2023, 2023]
            ),
            QUESTIONS,
        ),
    ),
    (
        "stacked_amounts",
        lambda: funding.stacked_amounts(
            _funding_by_year("source", ["FNADT", "FONDS_INTEROPERATEURS", "FONDS_POSTAL"], 1_250_000.5),
            "source",
            {
                "FNADT": "FNADT",
                "FONDS_INTEROPERATEURS": "Fonds inter-opérateurs",
                "FONDS_POSTAL": "Fonds postal",
                "NON_REPARTI": "Non réparti",
            },
            "Forfaits dus",
        ),
    ),
    (
        "stacked_amounts",
        lambda: funding.stacked_amounts(
            _funding_by_year("porteur", ["COMMUNE", "LA_POSTE", "INCONNU"], 15_000.5),
            "porteur",
            {"COMMUNE": "Commune", "LA_POSTE": "La Poste"},
            "Forfaits dus",
        ),
    ),
    (
        "envelope_bars",
        lambda: funding.envelope_bars(
            pl.DataFrame(
                {
                    "ligne": list(BDT_ENVELOPE_LINES),
                    "enveloppe": [r.value for r in BDT_ENVELOPE_LINES.values()],
                    "engage": [12_345_678.0, 10_000_000.0, 0.0],
                    "paye": [8_000_000.0, 2_500_000.0, 0.0],
                }
            ),
            LINE_LABELS,
        ),
    ),
    ("envelope_progress", lambda: funding.envelope_progress(_envelope_timeline(), LINE_LABELS)),
    (
        "arrears_progress",
        lambda: funding.arrears_progress(
            pl.DataFrame({"date": MONTHS, "msap_regularisees": [0, 120, 1250, 1340]}),
            1340,
            "MSAP à régulariser : 1 340",
        ),
    ),
    (
        "arrears_progress",
        lambda: funding.arrears_progress(pl.DataFrame({"date": MONTHS[:2], "msap_regularisees": [0, 12]}), None, ""),
    ),
]


@pytest.mark.parametrize(("name", "build"), CASES, ids=[f"{name}-{i}" for i, (name, _) in enumerate(CASES)])
def test_builder_makes_a_valid_spec_and_spec_skips_only_validation(name, build):
    chart = build()
    validated = chart.to_dict()  # Altair validates the whole Vega-Lite schema here
    assert charts.spec(chart) == validated
    assert validated["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


def _builders() -> set[str]:
    """Public functions of the chart modules that return an Altair chart."""
    names = set()
    for module in (charts, attendance, funding, reasons, satisfaction):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if (
                fn.__module__ == module.__name__
                and not name.startswith("_")
                and "Chart" in str(fn.__annotations__.get("return", ""))
            ):
                names.add(name)
    return names


def test_every_builder_has_a_case():
    assert _builders() - {name for name, _ in CASES} == set()


# --- the labels the builders write natively equal the scalar formatters' --------------------------


def test_with_quarter_labels_and_align_are_native_and_unchanged():
    days = [dt.date(2023, 1, 1), dt.date(2023, 2, 15), dt.date(2022, 12, 31), None]
    labelled = charts.with_quarter_labels(pl.DataFrame({"periode": days}))
    assert labelled["trimestre"].to_list() == ["T1 2023", "T1 2023", "T4 2022", None]
    for offset in (-5, -4, -1, 0, 1, 4, 9):
        aligned = attendance.align(pl.DataFrame({"periode": days}), offset)
        assert aligned["periode"].to_list() == [shift_quarters(d, offset) if d else None for d in days]
        assert aligned["periode_comparee"].to_list() == days


def test_rate_text_expr_equals_rate_text():
    rows = [
        (0.875, 0.5291, 0.9776, 8),
        (0.95, 0.94, 0.96, 1000),
        (0.9125, 0.90125, 0.92375, 29),
        (0.5, 0.4995, 0.5005, MIN_ANSWERS),
        (0.7, None, None, None),
        (None, None, None, 0),
    ]
    frame = pl.DataFrame(rows, schema=["taux", "ic_bas", "ic_haut", "reponses"], orient="row")
    assert satisfaction.with_rate_text(frame)["taux_ic"].to_list() == [rate_text(*r) for r in rows]
    assert frame.select(satisfaction.rate_text_expr(decimals=0))["taux"].to_list() == [
        rate_text(*r, decimals=0) for r in rows
    ]


def _old_signed_points(v: float) -> str:
    text = formats.number(abs(v), 1)
    if text == formats.number(0, 1):
        return text
    return ("+" if v > 0 else "\u2212") + text


def test_heatmap_gap_texts_equal_the_old_scalar_ones():
    gaps = [0.0, -0.0, 0.0004, -0.0004, 0.0005, -0.0005, 0.00051, 0.012, -0.0375, 0.125, -1.0]
    points = pl.DataFrame({"ecart": gaps}).select(pl.col("ecart") * 100)
    got = points.select(reasons._signed_points(pl.col("ecart")).alias("t"))["t"].to_list()
    assert got == [_old_signed_points(v) for v in points["ecart"].to_list()]
    assert got[:4] == ["0,0"] * 4 and got[7] == "+1,2" and got[8] == "\u22123,8"


def test_amounts_in_euros_are_rounded_as_before():
    values = [632_000.4, 632_000.5, 632_001.5, -0.4, 1_999_999.5, None]
    got = pl.DataFrame({"m": values}).select(funding._money(pl.col("m"), 1e3))["m"].to_list()
    assert got == [formats.euros(round(v)) if v is not None else "–" for v in values]
    assert got[0] == "632\u202f000\u00a0€" and got[3] == "0\u00a0€"


def test_envelope_bars_texts():
    status = pl.DataFrame(
        {"ligne": ["LA_POSTE", "BUS"], "enveloppe": [17_000_000, 0], "engage": [12_345_678, 0], "paye": [8_500_000, 0]}
    )
    layer = funding.envelope_bars(status, {"LA_POSTE": "Postes"}).to_dict()
    rows = [r for d in layer["datasets"].values() for r in d if "mesure" in r]
    assert [(r["ligne"], r["mesure"], r["texte"]) for r in rows] == [
        ("Postes", "Enveloppe", "Enveloppe : 17,00\u00a0M€"),
        ("Postes", "Engagé", "Engagé : 12,35\u00a0M€ (73\u00a0%)"),
        ("Postes", "Payé", "Payé : 8,50\u00a0M€ (50\u00a0%)"),
        ("BUS", "Enveloppe", "Enveloppe : 0,00\u00a0M€"),
        ("BUS", "Engagé", "Engagé : 0,00\u00a0M€ (–)"),
        ("BUS", "Payé", "Payé : 0,00\u00a0M€ (–)"),
    ]


# --- readable at every scope: every mark labelled, integer ticks, no repeated percentage ----------------


def _axes(spec: dict) -> list[dict]:
    """Every axis definition of a spec (layers and encodings walked)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("axis"), dict):
                found.append(node["axis"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found


SMALL_DEPARTEMENT_SITES = [
    "France services de Saint-Maurice-la-Souterraine (DEMO02794)",
    "France services de Saint-Maurice-la-Souterraine bis (DEMO02795)",
    "France services La Poste de Saint-Priest-la-Feuille (DEMO01500)",
    "France services de Aubusson (DEMO00183)",
    "France services de Felletin (DEMO00883)",
]


def test_rate_by_area_labels_every_site_in_full_with_its_rate():
    spec = charts.spec(satisfaction.rate_by_area(_rates("zone", SMALL_DEPARTEMENT_SITES), "zone", "Satisfaits"))
    y_axes = [layer["encoding"]["y"] for layer in spec["layer"] if "y" in layer["encoding"]]
    for y in y_axes:
        assert y["axis"]["labelLimit"] == 0 and y["axis"]["labelOverlap"] is False  # nothing cut, nothing dropped
        assert y["scale"]["domain"] == SMALL_DEPARTEMENT_SITES  # one band each, sorted by rate
    assert spec["height"] == {"step": satisfaction.RATE_ROW_STEP}  # bands never squeezed by a shared height
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert len(texts) == 1 and texts[0]["encoding"]["text"]["field"] == "etiquette"
    rows = next(iter(spec["datasets"].values()))
    assert len(rows) == 5 and [r["etiquette"] for r in rows] == [
        f"90,0{formats.NBSP}%",
        f"≈ 85,0{formats.NBSP}%",  # 12 answers: fragile, said in the label too
        f"80,0{formats.NBSP}%",
        f"75,0{formats.NBSP}%",
        f"70,0{formats.NBSP}%",
    ]


@pytest.mark.parametrize(("name", "build"), CASES, ids=[f"{name}-{i}" for i, (name, _) in enumerate(CASES)])
def test_number_axes_never_repeat_a_tick_label(name, build):
    """An integer or percentage axis asks for ticks at least one shown digit apart: « 0, 0, 0, 1, 1, 1 »
    (a count from 0 to 2) or « 99 %, 99 %, 100 % » cannot be drawn."""
    for axis in _axes(charts.spec(build())):
        fmt = axis.get("format", "")
        if fmt in (",d", "d") or fmt.endswith(".0f"):
            assert axis.get("tickMinStep") == 1, (name, axis)
        elif fmt.endswith("%"):
            decimals = int(fmt.split(".")[1][0]) if "." in fmt else 0
            assert axis.get("tickMinStep") == pytest.approx(10 ** -(decimals + 2)), (name, axis)


def test_axis_helpers():
    assert charts.integer_axis().to_dict() == {"format": ",d", "tickMinStep": 1}
    assert charts.number_axis(2).to_dict() == {"format": ",.2f", "tickMinStep": 0.01}
    assert charts.percent_axis(1).to_dict()["format"] == ".1%"
    assert charts.percent_axis().to_dict()["tickMinStep"] == pytest.approx(0.01)
