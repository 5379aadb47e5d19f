"""Financement: the flat amount per structure and year by funder and carrier, the Banque des
Territoires envelope (committed, paid, remaining) and the regularisation of the 2018 arrears (annex 4).

Three sources, three data dates: amounts due are computed from the rates table and the registry
« at a date » (the rates' years are said), the envelope up to its last operation, the arrears up
to the last regularisation — never the activity feed's date.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from fsdash import formats
from fsdash.cache import cached
from fsdash.catalogue import load_catalogue
from fsdash.charts import funding as charts
from fsdash.circulaire import (
    BDT_ENVELOPE,
    BDT_ENVELOPE_LINES,
    FLAT_FUNDING_PER_SITE_YEAR,
    MSAP_ARREARS_2018,
)
from fsdash.metrics import funding
from fsdash.metrics.scope import UNKNOWN_CARRIER, Scope, carrier_labels, directory
from fsdash.views.common import chart_spec, definitions, is_demo, situation_date
from fsdash.views.section import Column, Message, Section, Table, Tile, empty_section

RATES_CODES = (
    "forfaits.montant_forfait",
    "forfaits.part_fnadt",
    "forfaits.part_fonds_interoperateurs",
    "forfaits.part_fonds_postal",
    "forfaits.abattement_heberge_etat",
    "sites.heberge_etat",
)
ENVELOPE_CODES = ("enveloppe_bdt.engagement", "enveloppe_bdt.paiement")
ARREARS_CODES = ("regularisation_msap_2018.msap_regularisees", "regularisation_msap_2018.montant_verse")
RATES_SOURCE = (
    "barème des forfaits (table forfaits) appliqué au référentiel des sites, au prorata des jours d'ouverture"
)
ENVELOPE_SOURCE = "engagements et paiements de la Banque des Territoires (table enveloppe_bdt)"
ARREARS_SOURCE = "régularisations de la dette 2018 par les préfets (table regularisation_msap_2018)"
SOURCE_LABELS = {code: label for code, (_, label) in funding.SOURCES.items()}
#: The carriers' labels; an unknown carrier follows the « Autre » rates, and says so.
CARRIER_LABELS = {**carrier_labels(), UNKNOWN_CARRIER: "Non renseigné (barème « Autre »)"}
LINE_LABELS = {code: load_catalogue().dimensions["ligne_bdt"].label_of(code) for code in BDT_ENVELOPE_LINES}
#: The « Situation » of the envelope: today, or at the circular's deadline.
ENVELOPE_MOMENTS = {
    "aujourdhui": "À ce jour",
    "echeance": f"Au {formats.date_long(BDT_ENVELOPE.date)} (échéance de la circulaire)",
}
NO_DATA = "Aucune donnée pour ce filtre."

FLAT_RATE_INTRO = Section(
    "forfait",
    "Forfait par structure",
    heading="header",
    intro=f"Chaque structure reçoit un forfait annuel ({FLAT_FUNDING_PER_SITE_YEAR.source} de la circulaire) : pour "
    "les structures portées par des collectivités et des associations, il est réparti entre le FNADT "
    "(programme 112) et le fonds inter-opérateurs ; pour les structures postales, entre le fonds "
    "inter-opérateurs et le fonds postal de péréquation territoriale ; une structure hébergée dans une "
    "implantation de l'État reçoit un forfait réduit du coût des prestations mutualisées. Les montants de "
    "l'année choisie sont ceux du barème chargé, ci-dessous ; les montants dus sont calculés **selon ces règles** "
    "(chaque site au prorata de ses jours d'ouverture dans l'année), ce ne sont pas des paiements constatés.",
)
ENVELOPE_INTRO = Section(
    "enveloppe",
    "Enveloppe Banque des Territoires",
    heading="header",
    intro=f"« La Banque des territoires […] investira d'ici à 2022, {formats.millions_euros(BDT_ENVELOPE.value, 0)} » "
    f"({BDT_ENVELOPE.source}) : "
    + ", ".join(
        f"{formats.millions_euros(rule.value, 0)} pour {rule.label.removesuffix(' (€)')}"
        for rule in BDT_ENVELOPE_LINES.values()
    )
    + ". Enveloppe nationale : le périmètre choisi ne s'y applique pas.",
)
ENVELOPE_EMPTY = Section(
    "enveloppe-vide",
    heading="none",
    empty="Aucun engagement ni paiement chargé : chargez la table « enveloppe_bdt » (identifiant, date, ligne, "
    "montants engagé et payé en k€) avec python -m fsdash ingest.",
)
ARREARS_TITLE = "Dette 2018 du fonds inter-opérateurs"
ARREARS_INTRO = (
    f"« {formats.number(MSAP_ARREARS_2018.value)} maisons de services au public n'ont à ce jour pas "
    "encore reçu au titre de 2018 leur part du fonds inter-opérateur » : une délégation de crédits aux "
    f"préfets doit permettre de régulariser cette dette ({MSAP_ARREARS_2018.source})."
)


# --- shared pieces ----------------------------------------------------------------------------------


def _eur(column: str) -> pl.Expr:
    """Whole euros, kept as numbers (sorted, summed, exported)."""
    return pl.col(column).round(0).cast(pl.Int64)


def _source_columns() -> list[pl.Expr]:
    return [_eur(c).alias(f"{label} (€)") for c, label in SOURCE_LABELS.items() if c != "NON_REPARTI"]


def _money(value: float | None) -> str:
    """M€ for the committees' figures, euros below a million (a site's forfait)."""
    if value is None:
        return "–"
    return formats.millions_euros(value, 2) if abs(value) >= 1_000_000 else formats.euros(round(value))


def _columns(frame: pl.DataFrame) -> tuple[Column, ...]:
    """Amounts in euros shown as whole numbers without the browser's separators (an English-speaking
    browser would print « 40,000 », which a French reader takes for 40); years as plain text."""
    kinds = []
    for name in frame.columns:
        if name.endswith("(€)"):
            kinds.append(Column(name, "euros"))
        elif name.endswith("(k€)"):
            kinds.append(Column(name, "decimal", 1))
        elif name == "Année":
            kinds.append(Column(name, "text"))
        elif name == "Sites-années":
            kinds.append(Column(name, "decimal", 2))
    return tuple(kinds)


def departement_labels(wh, column: str = "departement") -> pl.Expr:
    """« 01 — Ain » from a département code column, names from the resolver's directory (« – » if none)."""
    d = directory(wh)
    labels = {code: d.area_label("departement", code) for code in d.departements}
    return pl.col(column).replace_strict(labels, default=pl.col(column), return_dtype=pl.String).fill_null("–")


def _rates_date(wh, today: dt.date) -> str:
    """« Situation au 28 novembre 2026 ; barème chargé : 2019 à 2026 »: amounts due depend on the
    registry at a date and on the rates loaded."""
    years = funding.funding_years(wh)
    loaded = (
        f"barème chargé : {years[0]}" + (f" à {years[-1]}" if years[-1] != years[0] else "")
        if years
        else "aucun barème chargé"
    )
    return f"{situation_date(today)} ; {loaded}"


# --- the flat amount per structure ------------------------------------------------------------------


@cached(maxsize=64, kind="section")
def flat_rate_years(
    wh, scope: Scope, first: dt.date | None, last: dt.date | None
) -> tuple[tuple[int, ...], Section | None]:
    """The years of the « Année » selector (rates loaded, within the period) and, when nothing can be
    shown, the section saying why (no rates, no rate year in the period, no site open)."""
    years = funding.funding_years(wh)
    in_range = tuple(y for y in years if first is None or last is None or first.year <= y <= last.year)
    if funding.funding_rates(wh).is_empty():
        return in_range, empty_section(
            "financement-annee",
            None,
            "Le barème des forfaits n'est pas chargé : chargez la table « forfaits » (année, porteur, montant et "
            "parts FNADT, fonds inter-opérateurs, fonds postal ; abattement pour hébergement par l'État) avec "
            "python -m fsdash ingest. Le modèle est téléchargeable sur la page Dictionnaire des indicateurs.",
            heading="none",
        )
    if not in_range:
        return in_range, empty_section(
            "financement-annee",
            None,
            f"Aucune année du barème chargé dans la période choisie (barème : {min(years)} à {max(years)}).",
            heading="none",
        )
    if funding.funding_by_year(wh, scope, in_range[0], in_range[-1]).is_empty():
        return in_range, empty_section(
            "financement-annee",
            None,
            "Aucun site de ce périmètre n'est ouvert pendant la période choisie.",
            heading="none",
        )
    return in_range, None


@cached(maxsize=64, kind="section")
def flat_rate_tiles(wh, scope: Scope, year: int, years: tuple[int, int], today: dt.date) -> Section:
    """The year's amount due and its three funders, with what the reader must know about it (current
    year, State-hosted sites, sites without rates, amounts no funder covers)."""
    by_year = funding.funding_by_year(wh, scope, *years).filter(pl.col("annee") == year)
    if by_year.is_empty():
        return empty_section(
            "financement-annee", None, f"Aucun site de ce périmètre n'est ouvert en {year}.", heading="none"
        )
    row = by_year.row(0, named=True)
    notes, messages = [], []
    if year == today.year:
        notes.append(f"Année en cours : un site ouvert compte jusqu'au 31 décembre {year} (forfait de l'année).")
    if row["sites_heberges_etat"]:
        notes.append(
            f"Sites hébergés par l'État en {year} : {formats.number(row['sites_heberges_etat'])}, "
            f"abattements : {formats.euros(round(row['abattements']))}."
        )
    if row["sites_sans_bareme"]:
        messages.append(
            Message(
                f"{formats.number(row['sites_sans_bareme'])} sites n'ont pas de barème pour leur "
                f"porteur en {year} : leur forfait n'est pas compté. Complétez la table « forfaits ».",
                "warning",
            )
        )
    if row["NON_REPARTI"] > 0.5:
        messages.append(
            Message(
                f"{formats.euros(round(row['NON_REPARTI']))} ne sont répartis entre aucun financeur : les "
                "parts du barème n'atteignent pas le montant du forfait.",
                "warning",
            )
        )
    return Section(
        "financement-annee",
        tiles=(
            Tile(
                f"Forfaits dus — {year}",
                _money(row["montant_du"]),
                help="Somme, sur les sites du périmètre, du forfait de l'année au prorata des jours "
                "d'ouverture, abattement déduit pour les sites hébergés par l'État.",
                caption=f"{formats.number(row['sites'])} sites, soit "
                f"{formats.number(row['sites_equivalent'], 1)} sites-années",
            ),
            Tile("FNADT (programme 112)", _money(row["FNADT"])),
            Tile("Fonds inter-opérateurs", _money(row["FONDS_INTEROPERATEURS"])),
            Tile("Fonds postal de péréquation", _money(row["FONDS_POSTAL"])),
        ),
        messages=tuple(messages),
        source=RATES_SOURCE,
        data_date=_rates_date(wh, today),
        demo=is_demo(wh),
        notes=tuple(notes),
    )


@cached(maxsize=64, kind="section")
def by_source(wh, scope: Scope, first_year: int, last_year: int, today: dt.date) -> Section:
    """Amounts due per year, stacked by funder."""
    key, title = "financement-sources", "Par année et par financeur"
    by_year = funding.funding_by_year(wh, scope, first_year, last_year)
    if by_year.is_empty():
        return empty_section(key, title, NO_DATA)
    table = by_year.select(
        pl.col("annee").alias("Année"),
        pl.col("sites").alias("Sites"),
        pl.col("sites_equivalent").round(2).alias("Sites-années"),
        pl.col("sites_heberges_etat").alias("Sites hébergés par l'État"),
        _eur("montant_du").alias("Forfaits dus (€)"),
        *[
            _eur(c).alias(f"{label} (€)")
            for c, label in SOURCE_LABELS.items()
            if c != "NON_REPARTI" or by_year[c].sum() > 0.5
        ],
    )
    chart = charts.stacked_amounts(
        funding.funding_by_source(wh, scope, first_year, last_year), "source", SOURCE_LABELS, "Forfaits dus"
    )
    return Section(
        key,
        title,
        chart=chart_spec(chart),
        chart_alt="Histogramme empilé des forfaits dus par année et par financeur.",
        table=Table(table, _columns(table)),
        definitions=definitions(RATES_CODES),
        source=RATES_SOURCE,
        data_date=_rates_date(wh, today),
        demo=is_demo(wh),
        notes=(
            "Un site labellisé ou fermé en cours d'année compte pour la part de l'année où il est ouvert "
            "(sites-années).",
        ),
    )


@cached(maxsize=64, kind="section")
def by_carrier(wh, scope: Scope, first_year: int, last_year: int, today: dt.date) -> Section:
    """Amounts due per year, stacked by carrier (postal structures together)."""
    key, title = "financement-porteurs", "Par année et par porteur"
    frame = funding.funding_by_carrier(wh, scope, first_year, last_year)
    if frame.is_empty():
        return empty_section(key, title, NO_DATA)
    table = frame.with_columns(pl.col("porteur").replace_strict(CARRIER_LABELS, default=pl.col("porteur"))).select(
        pl.col("annee").alias("Année"),
        pl.col("porteur").alias("Porteur"),
        pl.col("sites").alias("Sites"),
        pl.col("sites_equivalent").round(2).alias("Sites-années"),
        _eur("montant_du").alias("Forfaits dus (€)"),
        *_source_columns(),
    )
    chart = charts.stacked_amounts(frame.rename({"montant_du": "montant"}), "porteur", CARRIER_LABELS, "Forfaits dus")
    return Section(
        key,
        title,
        chart=chart_spec(chart),
        chart_alt="Histogramme empilé des forfaits dus par année et par porteur.",
        table=Table(table, _columns(table)),
        definitions=definitions(["sites.porteur", "sites.la_poste", *RATES_CODES]),
        source=RATES_SOURCE,
        data_date=_rates_date(wh, today),
        demo=is_demo(wh),
        notes=(
            "Structure postale : porteur La Poste ou structure tenue par La Poste. Porteur non renseigné : "
            "barème « Autre ».",
        ),
    )


#: Why a département's committee sees another département's funding as a total only.
SITE_DETAIL_RESERVED = (
    "Le détail par site de ce département est réservé à son comité départemental, au comité national et à "
    "l'équipe du programme : le total du département est montré."
)


@cached(maxsize=64, kind="section")
def detail(wh, scope: Scope, year: int, today: dt.date) -> Section:
    """The year's amounts per département (France, a région) or per site (a département, a site).

    Site-level funding is shown only where the scope lets the viewer see sites one by one: another
    département's committee gets that département's total (:meth:`Scope.shows_site_detail`)."""
    key = f"financement-detail-{year}"
    notes: tuple[str, ...] = ()
    if scope.level in ("departement", "site") and not scope.shows_site_detail(scope.departement):
        notes = (SITE_DETAIL_RESERVED,)
    if scope.level in ("national", "region") or notes:
        title = f"Par département — {year}"
        frame = funding.funding_by_departement(wh, scope, year)
        table = frame.select(
            departement_labels(wh).alias("Département"),
            pl.col("sites").alias("Sites"),
            pl.col("sites_equivalent").round(2).alias("Sites-années"),
            pl.col("sites_heberges_etat").alias("Sites hébergés par l'État"),
            _eur("montant_du").alias("Forfaits dus (€)"),
            *_source_columns(),
        )
    else:
        title = f"Par site — {year}"
        frame = funding.site_funding(wh, scope, year, year)
        table = frame.with_columns(pl.col("porteur").replace_strict(CARRIER_LABELS, default=pl.col("porteur"))).select(
            pl.col("site_id").alias("Site"),
            pl.col("nom").alias("Nom"),
            pl.col("porteur").alias("Porteur"),
            pl.col("heberge_etat").alias("Hébergé par l'État"),
            pl.col("jours_ouverts").alias("Jours ouverts"),
            pl.col("jours_annee").alias("Jours de l'année"),
            pl.col("montant_forfait").alias("Forfait annuel (€)"),
            pl.col("abattement").alias("Abattement annuel (€)"),
            _eur("montant_du").alias("Forfait dû (€)"),
            *_source_columns(),
        )
    if table.is_empty():
        return empty_section(key, title, NO_DATA)
    return Section(
        key,
        title,
        table=Table(table, _columns(table)),
        table_in_expander=False,
        source=RATES_SOURCE,
        data_date=_rates_date(wh, today),
        demo=is_demo(wh),
        notes=notes,
    )


@cached(maxsize=8, kind="section")
def rates_table(wh) -> Section:
    """The rates as loaded, with who set them (the demo's values are assumptions, said so)."""
    rates = funding.funding_rates(wh)
    years = funding.funding_years(wh)
    table = rates.with_columns(pl.col("porteur").replace_strict(CARRIER_LABELS, default=pl.col("porteur"))).select(
        pl.col("annee").alias("Année"),
        pl.col("porteur").alias("Porteur"),
        pl.col("montant_forfait").alias("Forfait (€)"),
        pl.col("part_fnadt").alias("FNADT (€)"),
        pl.col("part_fonds_interoperateurs").alias("Fonds inter-opérateurs (€)"),
        pl.col("part_fonds_postal").alias("Fonds postal (€)"),
        pl.col("abattement_heberge_etat").alias("Abattement hébergement État (€)"),
        pl.col("origine").alias("Origine"),
    )
    return Section(
        "financement-bareme",
        "Barème chargé (table « forfaits »)",
        heading="bold",
        table=Table(table, _columns(table)),
        source="barème des forfaits (table forfaits)",
        data_date=f"Années {years[0]} à {years[-1]}" if years else None,
        demo=is_demo(wh),
        notes=(
            "Les valeurs marquées « démonstration » sont des hypothèses : la circulaire ne fixe ni la "
            "répartition entre FNADT et fonds inter-opérateurs, ni le montant de l'abattement.",
        ),
    )


def _amounts(values: list[int], what: str = "selon le porteur") -> str:
    """« 40 000 € », or « de 35 000 € à 40 000 € selon le porteur » when the carriers' rates differ."""
    if len(values) == 1:
        return formats.euros(values[0])
    return f"de {formats.euros(min(values))} à {formats.euros(max(values))} {what}"


def _distinct(frame: pl.DataFrame, column: str) -> list[int]:
    return sorted(frame[column].drop_nulls().unique().to_list())


@cached(maxsize=32, kind="section")
def flat_rate_rules(wh, year: int) -> Section:
    """The flat rate of the chosen year as the rates table sets it — the figures the amounts below
    are computed from, so the page never names a rate (the circular's 30 000 €) that its own tables
    contradict. The circular's amount is recalled when the year's differs."""
    rates = funding.funding_rates(wh).filter(pl.col("annee") == year)
    if rates.is_empty():
        return Section("forfait-bareme-annee", heading="none", intro=f"Aucun barème chargé pour {year}.")
    amounts = _distinct(rates, "montant_forfait")
    circular = int(FLAT_FUNDING_PER_SITE_YEAR.value)
    text = f"**Barème {year}** : forfait de {_amounts(amounts)} par structure et par an"
    if amounts != [circular]:
        text += f" (la circulaire fixait {formats.euros(circular)} à l'origine, {FLAT_FUNDING_PER_SITE_YEAR.source})"
    postal = rates.filter(pl.col("porteur") == "LA_POSTE")
    if not postal.is_empty():
        text += (
            f" ; structures postales : {_amounts(_distinct(postal, 'part_fonds_interoperateurs'), 'selon le cas')} "
            f"du fonds inter-opérateurs, {_amounts(_distinct(postal, 'part_fonds_postal'), 'selon le cas')} "
            "du fonds postal"
        )
    reductions = [v for v in _distinct(rates, "abattement_heberge_etat") if v]
    if reductions:
        text += f" ; abattement pour un hébergement par l'État : {_amounts(reductions)}"
    return Section(
        "forfait-bareme-annee",
        heading="none",
        intro=text + ".",
        source="barème des forfaits (table forfaits)",
        demo=is_demo(wh),
    )


# --- the Banque des Territoires envelope ------------------------------------------------------------


@cached(maxsize=8, kind="section")
def envelope_loaded(wh) -> bool:
    """Whether any commitment or payment is loaded (the « Situation » choice needs one)."""
    return not funding.envelope_operations(wh).is_empty()


def envelope_as_of(moment: str) -> dt.date | None:
    """The date of a « Situation » choice: the circular's deadline, or None for every operation."""
    return BDT_ENVELOPE.date if moment == "echeance" else None


def _envelope_date(wh) -> str:
    last = funding.envelope_operations(wh)["date_operation"].max()
    return f"Dernière opération chargée : {formats.date_long(last)}" if last else "Aucune opération chargée"


@cached(maxsize=8, kind="section")
def envelope(wh, as_of: dt.date | None) -> Section:
    """Committed, paid and remaining on each line of the envelope at a date, with the anomalies."""
    key = "financement-bdt-lignes"
    if not envelope_loaded(wh):
        return ENVELOPE_EMPTY
    status = funding.envelope_status(wh, as_of)
    total = status.select(pl.col("enveloppe", "engage", "paye").sum()).row(0, named=True)
    messages = tuple(
        Message(
            f"{LINE_LABELS[r['ligne']]} : "
            + ("engagements au-delà de l'enveloppe" if r["depassement"] else "paiements au-delà des engagements")
            + " — vérifiez les opérations chargées.",
            "warning",
        )
        for r in status.filter(pl.col("depassement") | pl.col("paye_sans_engagement")).iter_rows(named=True)
    )
    table = status.with_columns(pl.col("ligne").replace_strict(LINE_LABELS)).select(
        pl.col("ligne").alias("Ligne"),
        pl.col("enveloppe").alias("Enveloppe (€)"),
        _eur("engage").alias("Engagé (€)"),
        _eur("paye").alias("Payé (€)"),
        _eur("reste_a_engager").alias("Reste à engager (€)"),
        _eur("reste_a_payer").alias("Reste à payer (€)"),
        pl.col("taux_engagement").alias("Part engagée"),
        pl.col("taux_paiement").alias("Part payée"),
    )
    return Section(
        key,
        tiles=(
            Tile(
                "Engagé",
                formats.millions_euros(total["engage"], 2),
                help=f"Conventions signées sur l'enveloppe de {formats.millions_euros(total['enveloppe'], 0)}.",
                caption=f"{formats.percent(total['engage'] / total['enveloppe'], 1)} de l'enveloppe",
            ),
            Tile(
                "Payé",
                formats.millions_euros(total["paye"], 2),
                caption=f"{formats.percent(total['paye'] / total['enveloppe'], 1)} de l'enveloppe",
            ),
            Tile(
                "Reste à engager",
                formats.millions_euros(total["enveloppe"] - total["engage"], 2),
                caption="Reste à payer sur les engagements : "
                + formats.millions_euros(total["engage"] - total["paye"], 2),
            ),
        ),
        messages=messages,
        chart=chart_spec(charts.envelope_bars(status, LINE_LABELS)),
        chart_alt="Barres de l'enveloppe, du montant engagé et du montant payé, par ligne de l'enveloppe.",
        table=Table(
            table,
            (*_columns(table), Column("Part engagée", "percent", 1), Column("Part payée", "percent", 1)),
        ),
        definitions=definitions(ENVELOPE_CODES),
        source=ENVELOPE_SOURCE,
        data_date=_envelope_date(wh),
        demo=is_demo(wh),
    )


@cached(maxsize=8, kind="section")
def envelope_timeline(wh) -> Section:
    """Committed and paid over time, each line as a share of its envelope; every operation listed."""
    key, title = "financement-bdt-evolution", "Engagements et paiements dans le temps"
    operations = funding.envelope_operations(wh)
    if operations.is_empty():
        return empty_section(key, title, NO_DATA)
    table = operations.with_columns(pl.col("ligne").replace_strict(LINE_LABELS)).select(
        pl.col("code_operation").alias("Opération"),
        pl.col("date_operation").alias("Date"),
        pl.col("ligne").alias("Ligne"),
        pl.col("engagement").alias("Engagé (k€)"),
        pl.col("paiement").alias("Payé (k€)"),
        pl.col("libelle").alias("Libellé"),
    )
    return Section(
        key,
        title,
        chart=chart_spec(charts.envelope_progress(funding.envelope_timeline(wh), LINE_LABELS)),
        chart_alt="Courbes en escalier de la part engagée et de la part payée de chaque ligne de l'enveloppe.",
        table=Table(table, (*_columns(table), Column("Date", "date"))),
        definitions=definitions(ENVELOPE_CODES),
        source=ENVELOPE_SOURCE,
        data_date=_envelope_date(wh),
        demo=is_demo(wh),
        notes=(
            "Cumul en fin de trimestre, en part de l'enveloppe de chaque ligne ; trait plein : engagé, "
            "pointillés : payé. Le tableau liste toutes les opérations.",
        ),
    )


# --- the 2018 arrears -------------------------------------------------------------------------------


@cached(maxsize=64, kind="section")
def arrears(wh, scope: Scope) -> Section:
    """MSAP regularised by the prefects: against the 368 owed at national scope, by département below
    (the circular gives no breakdown; format and carrier filters do not apply to départemental data)."""
    key = "financement-dette-2018"
    by_departement = funding.arrears_by_departement(wh, scope)
    if by_departement.is_empty():
        return empty_section(
            key,
            ARREARS_TITLE,
            "Aucune régularisation chargée pour ce périmètre (table « regularisation_msap_2018 »).",
            heading="header",
            intro=ARREARS_INTRO,
        )
    done = int(by_departement["msap_regularisees"].sum())
    owed = int(MSAP_ARREARS_2018.value)
    national = scope.level == "national"
    first = Tile(
        "MSAP régularisées",
        formats.number(done),
        caption=f"sur {formats.number(owed)} ({formats.percent(done / owed, 1)})" if national else None,
    )
    if national:
        second, notes = Tile("Restant dû", formats.number(max(owed - done, 0))), ()
    else:
        second = Tile("Départements concernés", formats.number(by_departement.height))
        notes = (
            f"La circulaire ne répartit pas les {formats.number(owed)} MSAP par département : le reste dû n'est "
            "compté qu'à l'échelle nationale. Données départementales : les filtres de format et de porteur ne "
            "s'y appliquent pas.",
        )
    last = by_departement["derniere_regularisation"].max()
    table = by_departement.select(
        departement_labels(wh).alias("Département"),
        pl.col("msap_regularisees").alias("MSAP régularisées"),
        pl.col("montant_verse").alias("Montant versé (€)"),
        pl.col("derniere_regularisation").alias("Dernière régularisation"),
    )
    chart = charts.arrears_progress(
        funding.arrears_timeline(wh, scope),
        owed if national else None,
        f"{formats.number(owed)} MSAP dues ({MSAP_ARREARS_2018.source})",
    )
    return Section(
        key,
        ARREARS_TITLE,
        heading="header",
        intro=ARREARS_INTRO,
        tiles=(first, second, Tile("Montant versé", formats.euros(by_departement["montant_verse"].sum()))),
        chart=chart_spec(chart),
        chart_alt="Courbe en escalier du nombre cumulé de MSAP régularisées.",
        table=Table(table, (*_columns(table), Column("Dernière régularisation", "date"))),
        definitions=definitions(ARREARS_CODES),
        source=ARREARS_SOURCE,
        data_date=f"Dernière régularisation : {formats.date_long(last)}" if last else None,
        demo=is_demo(wh),
        notes=notes,
    )
