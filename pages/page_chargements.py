"""Chargements et qualité: every file loaded, and every rejected row with its reason."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from fsdash import charts, formats, ui
from fsdash.circulaire import MIN_OPEN_DAYS_PER_WEEK, MIN_OPENING_HOURS_PER_WEEK
from fsdash.ingest import STATUS_LABELS
from fsdash.metrics import official, quality, site_quality

OFFICIAL_INDICATORS = {
    "nb-labellisations-france-services": "Sites labellisés (Etalab)",
    "IND-323": "Actes mensuels / demandes (IND-323)",
    "IND-246": "Satisfaction aux bornes (IND-246)",
}

scope = ui.territory(ui.current_filters().scope)
st.title("Chargements et qualité des données")
ui.demo_banner()
st.caption(
    "Chaque fichier chargé est conservé dans l'entrepôt avec son empreinte SHA-256 ; "
    "chaque ligne rejetée est gardée en quarantaine avec la règle en cause."
)

st.subheader("Charger des fichiers de reporting")
uploads = st.file_uploader(
    "Fichiers des sites (CSV, XLSX, Parquet ; modèles sur la page Dictionnaire des indicateurs)",
    type=["csv", "txt", "xlsx", "parquet"],
    accept_multiple_files=True,
    key="chargement_fichiers",
)
if uploads and st.button("Charger ces fichiers", type="primary", key="chargement_bouton"):
    code, lines = ui.load_files([(f.name, f.getvalue()) for f in uploads])
    box = {0: st.success, 1: st.warning, 2: st.error}[code]
    box(
        {
            0: "Fichiers chargés.",
            1: "Fichiers chargés en partie : les lignes rejetées sont en quarantaine.",
            2: "Chargement refusé : rien n'a été écrit.",
        }[code]
    )
    st.code("\n".join(lines), language=None)

loaded = ui.query(quality.batches)
if loaded.is_empty():
    st.info("Aucun fichier chargé : utilisez « python -m fsdash ingest FICHIER… ».")
    st.stop()

st.subheader("Qualité du référentiel des sites")
today = dt.date.today()
flags = ui.query(site_quality.site_quality_summary, today, scope)
labels = {
    "sites_without_hours": "Sites fixes sans horaires publiés",
    "sites_under_24h": f"Ouverts moins de {MIN_OPENING_HOURS_PER_WEEK.value:g} h par semaine",
    "sites_under_5_days": f"Ouverts moins de {MIN_OPEN_DAYS_PER_WEEK.value:g} jours par semaine",
    "duplicate_names": "Noms en double",
    "duplicate_coordinates": "Coordonnées en double",
    "outside_departement": "Coordonnées hors de leur département",
}
cols = st.columns(3) + st.columns(3)
for col, (key, label) in zip(cols, labels.items(), strict=True):
    col.metric(label, formats.number(flags[key]))
st.caption(
    f"Règles de la charte : ouverture d'au moins {MIN_OPENING_HOURS_PER_WEEK.value:g} heures sur "
    f"{MIN_OPEN_DAYS_PER_WEEK.value:g} jours ({MIN_OPENING_HOURS_PER_WEEK.source}) ; les antennes en sont "
    "exemptées, les bus et sites itinérants ne sont pas tenus de publier des horaires fixes."
)
flagged = ui.query(site_quality.site_quality_flags, today, scope)
if not flagged.is_empty():
    st.dataframe(
        flagged.select(
            pl.col("site_id").alias("Site"),
            pl.col("nom").alias("Nom"),
            pl.col("departement").alias("Département"),
            pl.col("format").alias("Format"),
            pl.col("signalements").alias("Signalements"),
        ),
        hide_index=True,
    )

st.subheader("Rapprochement avec les séries officielles")
if not ui.query(official.has_official_series):
    st.info(
        "Aucune série officielle chargée : python -m fsdash import-indicators FICHIER… (baromètre des "
        "résultats de l'action publique : labellisations, actes mensuels IND-323, satisfaction IND-246)."
    )
else:
    cols = st.columns(2)
    indicator = cols[0].selectbox(
        "Indicateur", list(OFFICIAL_INDICATORS), format_func=OFFICIAL_INDICATORS.get, key="rapprochement_indicateur"
    )
    tolerance = cols[1].slider("Tolérance d'écart (%)", 1, 30, 5, key="rapprochement_tolerance") / 100
    rows = ui.query(official.reconcile, indicator, scope, tolerance=tolerance)
    by_date = official.reconciliation_summary(rows)
    ui.chart_block(
        f"rapprochement-{indicator}",
        charts.reconciliation_gaps(by_date, tolerance),
        rows.select(
            pl.col("zone_name").alias("Zone"),
            pl.col("date").alias("Date"),
            pl.col("official").alias("Valeur officielle"),
            pl.col("feed").alias("Valeur fsdash"),
            pl.col("gap").alias("Écart"),
            pl.col("gap_relative").alias("Écart relatif"),
            pl.col("flag").alias("Hors tolérance"),
            pl.col("note").alias("Note"),
        ),
        source="séries officielles du baromètre (DITP, Etalab) et données de fsdash",
        note="Écart = valeur fsdash − valeur officielle. " + (rows["note"].drop_nulls().first() or ""),
    )

st.subheader("Chargements")

cols = st.columns(3)
cols[0].metric("Fichiers chargés", formats.number(loaded.height))
cols[1].metric("Fichiers avec rejets", formats.number(loaded.filter(pl.col("status") != "accepte").height))
cols[2].metric("Lignes rejetées", formats.number(loaded["rows_rejected"].sum()))

st.subheader("Lots chargés")
st.dataframe(
    loaded.with_columns(pl.col("status").replace(STATUS_LABELS)).select(
        pl.col("batch_id").alias("Lot"),
        pl.col("file_name").alias("Fichier"),
        pl.col("loaded_at").alias("Chargé le"),
        pl.col("status").alias("Statut"),
        pl.col("tables").alias("Tables"),
        pl.col("rows_read").alias("Lignes lues"),
        pl.col("rows_accepted").alias("Acceptées"),
        pl.col("rows_rejected").alias("Rejetées"),
        pl.col("revisions_created").alias("Révisions"),
        pl.col("sha256").str.slice(0, 12).alias("Empreinte"),
    ),
    hide_index=True,
    column_config={"Chargé le": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm")},
)

st.subheader("Rejets par règle")
by_rule = ui.query(quality.rejections_by_rule)
if by_rule.is_empty():
    st.success("Aucune ligne rejetée.")
else:
    st.dataframe(
        by_rule.rename({"rule": "Règle", "table_code": "Table", "problemes": "Problèmes", "lignes": "Lignes"}),
        hide_index=True,
    )
    with_rejects = loaded.filter(pl.col("rows_rejected") > 0)
    batch = st.selectbox(
        "Lot à examiner",
        with_rejects["batch_id"].to_list(),
        format_func=lambda b: f"lot {b} — " + with_rejects.filter(pl.col("batch_id") == b)["file_name"][0],
    )
    st.dataframe(
        ui.query(quality.quarantine, batch).select(
            pl.col("line").alias("Ligne"),
            pl.col("column_name").alias("Colonne"),
            pl.col("value").alias("Valeur"),
            pl.col("rule").alias("Règle"),
            pl.col("message").alias("Motif"),
        ),
        hide_index=True,
    )
