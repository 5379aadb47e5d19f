"""Financement: the flat amount per structure and year by funder and carrier, the Banque des Territoires
envelope (committed, paid, remaining) and the regularisation of the 2018 arrears (annex 4)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from fsdash import exports, formats, geography, ui
from fsdash.catalogue import load_catalogue
from fsdash.charts import funding as charts
from fsdash.circulaire import (
    BDT_ENVELOPE,
    BDT_ENVELOPE_LINES,
    FLAT_FUNDING_PER_SITE_YEAR,
    LA_POSTE_INTEROPERATOR_SHARE,
    MSAP_ARREARS_2018,
)
from fsdash.metrics import funding
from fsdash.metrics.scope import UNKNOWN_CARRIER

RATES_CODES = [
    "forfaits.montant_forfait",
    "forfaits.part_fnadt",
    "forfaits.part_fonds_interoperateurs",
    "forfaits.part_fonds_postal",
    "forfaits.abattement_heberge_etat",
    "sites.heberge_etat",
]
RATES_SOURCE = (
    "barème des forfaits (table forfaits) appliqué au référentiel des sites, au prorata des jours d'ouverture"
)
ENVELOPE_SOURCE = "engagements et paiements de la Banque des Territoires (table enveloppe_bdt)"
ARREARS_SOURCE = "régularisations de la dette 2018 par les préfets (table regularisation_msap_2018)"
SOURCE_LABELS = {code: label for code, (_, label) in funding.SOURCES.items()}


def _eur(column: str) -> pl.Expr:
    return pl.col(column).round(0).cast(pl.Int64)


SOURCE_COLUMNS = [_eur(c).alias(f"{label} (€)") for c, label in SOURCE_LABELS.items() if c != "NON_REPARTI"]
#: Amounts in whole euros, as numbers (sorted, exported); no browser-locale separators, which an
#: English-speaking browser would print as « 40,000 » — a French reader's « 40 ».
MONEY = st.column_config.NumberColumn(format="%d")

filters = ui.current_filters()
scope = filters.scope
st.title("Financement")
st.caption(ui.scope_title(scope))
ui.demo_banner()

catalogue = load_catalogue()
carrier_dim = catalogue.dimensions["porteur"]
CARRIER_LABELS = {**{v.code: v.label for v in carrier_dim.values}, UNKNOWN_CARRIER: "Non renseigné (barème « Autre »)"}
LINE_LABELS = {code: catalogue.dimensions["ligne_bdt"].label_of(code) for code in BDT_ENVELOPE_LINES}
DEP_NAMES = dict(geography.departements().select("code", "nom").iter_rows())


def _money(value: float | None) -> str:
    """M€ for the committees' figures, euros below a million (a site's forfait)."""
    if value is None:
        return "–"
    return formats.millions_euros(value, 2) if abs(value) >= 1_000_000 else formats.euros(round(value))


def _departement(code: str | None) -> str:
    return f"{code} — {DEP_NAMES.get(code, code)}" if code else "–"


# --- the flat amount per structure (annex 4) ---------------------------------------------------------
st.header("Forfait par structure")
st.markdown(
    f"« Forfaitiser le financement de chaque structure à hauteur de "
    f"{formats.number(FLAT_FUNDING_PER_SITE_YEAR.value)} euros par an » ({FLAT_FUNDING_PER_SITE_YEAR.source}) : "
    "pour les structures portées par des collectivités et des associations, le forfait est réparti entre le FNADT "
    f"(programme 112) et le fonds inter-opérateurs ; pour les structures postales, "
    f"{formats.euros(LA_POSTE_INTEROPERATOR_SHARE.value)} viennent du fonds inter-opérateurs et le reste du fonds "
    "postal de péréquation territoriale ; une structure hébergée dans une implantation de l'État reçoit un "
    "forfait réduit du coût des prestations mutualisées. Les montants ci-dessous sont **dus selon ces règles** "
    "(barème chargé, chaque site au prorata de ses jours d'ouverture dans l'année), pas des paiements constatés."
)

rates = ui.query(funding.funding_rates)
years = ui.query(funding.funding_years)
in_range = [y for y in years if filters.first is None or filters.first.year <= y <= filters.last.year]
if rates.is_empty():
    st.info(
        "Le barème des forfaits n'est pas chargé : chargez la table « forfaits » (année, porteur, montant et "
        "parts FNADT, fonds inter-opérateurs, fonds postal ; abattement pour hébergement par l'État) avec "
        "python -m fsdash ingest. Le modèle est téléchargeable sur la page Dictionnaire des indicateurs."
    )
elif not in_range:
    st.info(f"Aucune année du barème chargé dans la période choisie (barème : {min(years)} à {max(years)}).")
else:
    lo, hi = min(in_range), max(in_range)
    by_year = ui.query(funding.funding_by_year, lo, hi, scope)
    if by_year.is_empty():
        st.info("Aucun site de ce périmètre n'est ouvert pendant la période choisie.")
    else:
        year = st.selectbox("Année", in_range, index=len(in_range) - 1, key="financement_annee")
        row = by_year.filter(pl.col("annee") == year)
        row = row.row(0, named=True) if row.height else None
        if row is None:
            st.info(f"Aucun site de ce périmètre n'est ouvert en {year}.")
        else:
            tiles = st.columns(4)
            tiles[0].metric(
                f"Forfaits dus — {year}",
                _money(row["montant_du"]),
                help="Somme, sur les sites du périmètre, du forfait de l'année au prorata des jours "
                "d'ouverture, abattement déduit pour les sites hébergés par l'État.",
            )
            tiles[0].caption(
                f"{formats.number(row['sites'])} sites, soit {formats.number(row['sites_equivalent'], 1)} sites-années"
            )
            tiles[1].metric("FNADT (programme 112)", _money(row["FNADT"]))
            tiles[2].metric("Fonds inter-opérateurs", _money(row["FONDS_INTEROPERATEURS"]))
            tiles[3].metric("Fonds postal de péréquation", _money(row["FONDS_POSTAL"]))
            if year == dt.date.today().year:
                st.caption(f"Année en cours : un site ouvert compte jusqu'au 31 décembre {year} (forfait de l'année).")
            if row["sites_heberges_etat"]:
                st.caption(
                    f"Sites hébergés par l'État en {year} : {formats.number(row['sites_heberges_etat'])}, "
                    f"abattements : {formats.euros(round(row['abattements']))}."
                )
            if row["sites_sans_bareme"]:
                st.warning(
                    f"{formats.number(row['sites_sans_bareme'])} sites n'ont pas de barème pour leur "
                    f"porteur en {year} : leur forfait n'est pas compté. Complétez la table « forfaits »."
                )
            if row["NON_REPARTI"] > 0.5:
                st.warning(
                    f"{formats.euros(round(row['NON_REPARTI']))} ne sont répartis entre aucun financeur : les "
                    "parts du barème n'atteignent pas le montant du forfait."
                )

        st.subheader("Par année et par financeur")
        by_source = ui.query(funding.funding_by_source, lo, hi, scope)
        ui.chart_block(
            "financement-sources",
            charts.stacked_amounts(by_source, "source", SOURCE_LABELS, "Forfaits dus"),
            by_year.select(
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
            ),
            indicators=RATES_CODES,
            source=RATES_SOURCE,
            note="Un site labellisé ou fermé en cours d'année compte pour la part de l'année où il est ouvert "
            "(sites-années).",
        )

        st.subheader("Par année et par porteur")
        by_carrier = ui.query(funding.funding_by_carrier, lo, hi, scope)
        ui.chart_block(
            "financement-porteurs",
            charts.stacked_amounts(
                by_carrier.rename({"montant_du": "montant"}), "porteur", CARRIER_LABELS, "Forfaits dus"
            ),
            by_carrier.with_columns(pl.col("porteur").replace_strict(CARRIER_LABELS, default=pl.col("porteur"))).select(
                pl.col("annee").alias("Année"),
                pl.col("porteur").alias("Porteur"),
                pl.col("sites").alias("Sites"),
                pl.col("sites_equivalent").round(2).alias("Sites-années"),
                _eur("montant_du").alias("Forfaits dus (€)"),
                *SOURCE_COLUMNS,
            ),
            indicators=["sites.porteur", "sites.la_poste", *RATES_CODES],
            source=RATES_SOURCE,
            note="Structure postale : porteur La Poste ou structure tenue par La Poste. Porteur non renseigné : "
            "barème « Autre ».",
        )

        if row is not None:
            if scope.level in ("national", "region"):
                st.subheader(f"Par département — {year}")
                by_dep = ui.query(funding.funding_by_departement, year, scope)
                table = by_dep.select(
                    pl.col("departement").map_elements(_departement, return_dtype=pl.String).alias("Département"),
                    pl.col("sites").alias("Sites"),
                    pl.col("sites_equivalent").round(2).alias("Sites-années"),
                    pl.col("sites_heberges_etat").alias("Sites hébergés par l'État"),
                    _eur("montant_du").alias("Forfaits dus (€)"),
                    *SOURCE_COLUMNS,
                )
            else:
                st.subheader(f"Par site — {year}")
                sites = ui.query(funding.site_funding, year, year, scope)
                named = sites.with_columns(pl.col("porteur").replace_strict(CARRIER_LABELS, default=pl.col("porteur")))
                table = named.select(
                    pl.col("site_id").alias("Site"),
                    pl.col("nom").alias("Nom"),
                    pl.col("porteur").alias("Porteur"),
                    pl.col("heberge_etat").alias("Hébergé par l'État"),
                    pl.col("jours_ouverts").alias("Jours ouverts"),
                    pl.col("jours_annee").alias("Jours de l'année"),
                    pl.col("montant_forfait").alias("Forfait annuel (€)"),
                    pl.col("abattement").alias("Abattement annuel (€)"),
                    _eur("montant_du").alias("Forfait dû (€)"),
                    *SOURCE_COLUMNS,
                )
            st.dataframe(table, hide_index=True, column_config={c: MONEY for c in table.columns if c.endswith("(€)")})
            st.caption(f"Source : {RATES_SOURCE}." + (" **Données de démonstration.**" if ui.is_demo() else ""))
            cols = st.columns(2)
            name = f"financement-detail-{year}"
            cols[0].download_button(
                "Télécharger (CSV)",
                exports.csv_bytes(table),
                file_name=f"{name}.csv",
                mime="text/csv",
                key="financement_detail_csv",
            )
            cols[1].download_button(
                "Télécharger (XLSX)",
                exports.xlsx_bytes(table),
                file_name=f"{name}.xlsx",
                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                key="financement_detail_xlsx",
            )

    with st.expander("Barème chargé (table « forfaits »)"):
        named_rates = rates.with_columns(pl.col("porteur").replace_strict(CARRIER_LABELS, default=pl.col("porteur")))
        st.dataframe(
            named_rates.select(
                pl.col("annee").alias("Année"),
                pl.col("porteur").alias("Porteur"),
                pl.col("montant_forfait").alias("Forfait (€)"),
                pl.col("part_fnadt").alias("FNADT (€)"),
                pl.col("part_fonds_interoperateurs").alias("Fonds inter-opérateurs (€)"),
                pl.col("part_fonds_postal").alias("Fonds postal (€)"),
                pl.col("abattement_heberge_etat").alias("Abattement hébergement État (€)"),
                pl.col("origine").alias("Origine"),
            ),
            hide_index=True,
        )
        st.caption(
            "Les valeurs marquées « démonstration » sont des hypothèses : la circulaire ne fixe ni la "
            "répartition entre FNADT et fonds inter-opérateurs, ni le montant de l'abattement."
        )

# --- the Banque des Territoires envelope -------------------------------------------------------------
st.header("Enveloppe Banque des Territoires")
st.markdown(
    f"« La Banque des territoires […] investira d'ici à 2022, {formats.millions_euros(BDT_ENVELOPE.value, 0)} » "
    f"({BDT_ENVELOPE.source}) : "
    + ", ".join(
        f"{formats.millions_euros(rule.value, 0)} pour {rule.label.removesuffix(' (€)')}"
        for rule in BDT_ENVELOPE_LINES.values()
    )
    + ". Enveloppe nationale : le périmètre choisi ne s'y applique pas."
)
operations = ui.query(funding.envelope_operations)
if operations.is_empty():
    st.info(
        "Aucun engagement ni paiement chargé : chargez la table « enveloppe_bdt » (identifiant, date, ligne, "
        "montants engagé et payé en k€) avec python -m fsdash ingest."
    )
else:
    moments = {
        "aujourdhui": "À ce jour",
        "echeance": f"Au {formats.date_long(BDT_ENVELOPE.date)} (échéance de la circulaire)",
    }
    moment = st.radio("Situation", list(moments), format_func=moments.get, horizontal=True, key="financement_bdt_date")
    as_of = BDT_ENVELOPE.date if moment == "echeance" else None
    status = ui.query(funding.envelope_status, as_of)
    total = status.select(pl.col("enveloppe", "engage", "paye").sum()).row(0, named=True)
    tiles = st.columns(3)
    tiles[0].metric(
        "Engagé", formats.millions_euros(total["engage"], 2), help="Conventions signées sur l'enveloppe de 30 M€."
    )
    tiles[0].caption(f"{formats.percent(total['engage'] / total['enveloppe'], 1)} de l'enveloppe")
    tiles[1].metric("Payé", formats.millions_euros(total["paye"], 2))
    tiles[1].caption(f"{formats.percent(total['paye'] / total['enveloppe'], 1)} de l'enveloppe")
    tiles[2].metric("Reste à engager", formats.millions_euros(total["enveloppe"] - total["engage"], 2))
    tiles[2].caption(
        "Reste à payer sur les engagements : " + formats.millions_euros(total["engage"] - total["paye"], 2)
    )
    for r in status.filter(pl.col("depassement") | pl.col("paye_sans_engagement")).iter_rows(named=True):
        problem = "engagements au-delà de l'enveloppe" if r["depassement"] else "paiements au-delà des engagements"
        st.warning(f"{LINE_LABELS[r['ligne']]} : {problem} — vérifiez les opérations chargées.")
    ui.chart_block(
        "financement-bdt-lignes",
        charts.envelope_bars(status, LINE_LABELS),
        status.with_columns(pl.col("ligne").replace_strict(LINE_LABELS)).select(
            pl.col("ligne").alias("Ligne"),
            pl.col("enveloppe").alias("Enveloppe (€)"),
            _eur("engage").alias("Engagé (€)"),
            _eur("paye").alias("Payé (€)"),
            _eur("reste_a_engager").alias("Reste à engager (€)"),
            _eur("reste_a_payer").alias("Reste à payer (€)"),
            pl.col("taux_engagement").alias("Part engagée"),
            pl.col("taux_paiement").alias("Part payée"),
        ),
        indicators=["enveloppe_bdt.engagement", "enveloppe_bdt.paiement"],
        source=ENVELOPE_SOURCE,
        note=f"Dernière opération chargée : {formats.date_long(operations['date_operation'].max())}.",
    )
    st.subheader("Engagements et paiements dans le temps")
    timeline = ui.query(funding.envelope_timeline)
    ui.chart_block(
        "financement-bdt-evolution",
        charts.envelope_progress(timeline, LINE_LABELS),
        operations.with_columns(pl.col("ligne").replace_strict(LINE_LABELS)).select(
            pl.col("code_operation").alias("Opération"),
            pl.col("date_operation").alias("Date"),
            pl.col("ligne").alias("Ligne"),
            pl.col("engagement").alias("Engagé (k€)"),
            pl.col("paiement").alias("Payé (k€)"),
            pl.col("libelle").alias("Libellé"),
        ),
        indicators=["enveloppe_bdt.engagement", "enveloppe_bdt.paiement"],
        source=ENVELOPE_SOURCE,
        note="Cumul en fin de trimestre, en part de l'enveloppe de chaque ligne ; trait plein : engagé, "
        "pointillés : payé. Le tableau liste toutes les opérations.",
    )

# --- the 2018 arrears ---------------------------------------------------------------------------------
st.header("Dette 2018 du fonds inter-opérateurs")
st.markdown(
    f"« {formats.number(MSAP_ARREARS_2018.value)} maisons de services au public n'ont à ce jour pas "
    "encore reçu au titre de 2018 leur part du fonds inter-opérateur » : une délégation de crédits aux "
    f"préfets doit permettre de régulariser cette dette ({MSAP_ARREARS_2018.source})."
)
arrears = ui.query(funding.arrears_by_departement, scope)
if arrears.is_empty():
    st.info("Aucune régularisation chargée pour ce périmètre (table « regularisation_msap_2018 »).")
else:
    timeline = ui.query(funding.arrears_timeline, scope)
    done = int(arrears["msap_regularisees"].sum())
    tiles = st.columns(3)
    tiles[0].metric("MSAP régularisées", formats.number(done))
    if scope.level == "national":
        owed = int(MSAP_ARREARS_2018.value)
        tiles[0].caption(f"sur {formats.number(owed)} ({formats.percent(done / owed, 1)})")
        tiles[1].metric("Restant dû", formats.number(max(owed - done, 0)))
    else:
        tiles[1].metric("Départements concernés", formats.number(arrears.height))
        st.caption(
            "La circulaire ne répartit pas les 368 MSAP par département : le reste dû n'est compté qu'à "
            "l'échelle nationale. Données départementales : les filtres de format et de porteur ne "
            "s'y appliquent pas."
        )
    tiles[2].metric("Montant versé", formats.euros(arrears["montant_verse"].sum()))
    ui.chart_block(
        "financement-dette-2018",
        charts.arrears_progress(
            timeline,
            int(MSAP_ARREARS_2018.value) if scope.level == "national" else None,
            f"{formats.number(MSAP_ARREARS_2018.value)} MSAP dues ({MSAP_ARREARS_2018.source})",
        ),
        arrears.select(
            pl.col("departement").map_elements(_departement, return_dtype=pl.String).alias("Département"),
            pl.col("msap_regularisees").alias("MSAP régularisées"),
            pl.col("montant_verse").alias("Montant versé (€)"),
            pl.col("derniere_regularisation").alias("Dernière régularisation"),
        ),
        indicators=["regularisation_msap_2018.msap_regularisees", "regularisation_msap_2018.montant_verse"],
        source=ARREARS_SOURCE,
    )
st.caption(f"Situation au {formats.date_long(dt.date.today())}. " + ui.last_load_caption())
