"""Chargements et qualité: every file loaded, and every rejected row with its reason."""

from __future__ import annotations

import polars as pl
import streamlit as st

from fsdash import formats, ui
from fsdash.ingest import STATUS_LABELS
from fsdash.metrics import quality


st.title("Chargements et qualité des données")
ui.demo_banner()
st.caption("Chaque fichier chargé est conservé dans l'entrepôt avec son empreinte SHA-256 ; "
           "chaque ligne rejetée est gardée en quarantaine avec la règle en cause.")

loaded = ui.query(quality.batches)
if loaded.is_empty():
    st.info("Aucun fichier chargé : utilisez « python -m fsdash ingest FICHIER… ».")
    st.stop()

cols = st.columns(3)
cols[0].metric("Fichiers chargés", formats.number(loaded.height))
cols[1].metric("Fichiers avec rejets", formats.number(loaded.filter(pl.col("status") != "accepte").height))
cols[2].metric("Lignes rejetées", formats.number(loaded["rows_rejected"].sum()))

st.subheader("Lots chargés")
st.dataframe(
    loaded.with_columns(pl.col("status").replace(STATUS_LABELS)).select(
        pl.col("batch_id").alias("Lot"), pl.col("file_name").alias("Fichier"),
        pl.col("loaded_at").alias("Chargé le"), pl.col("status").alias("Statut"), pl.col("tables").alias("Tables"),
        pl.col("rows_read").alias("Lignes lues"), pl.col("rows_accepted").alias("Acceptées"),
        pl.col("rows_rejected").alias("Rejetées"), pl.col("revisions_created").alias("Révisions"),
        pl.col("sha256").str.slice(0, 12).alias("Empreinte")),
    hide_index=True, column_config={"Chargé le": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm")},
)

st.subheader("Rejets par règle")
by_rule = ui.query(quality.rejections_by_rule)
if by_rule.is_empty():
    st.success("Aucune ligne rejetée.")
else:
    st.dataframe(by_rule.rename({"rule": "Règle", "table_code": "Table", "problemes": "Problèmes",
                                 "lignes": "Lignes"}), hide_index=True)
    with_rejects = loaded.filter(pl.col("rows_rejected") > 0)
    batch = st.selectbox("Lot à examiner", with_rejects["batch_id"].to_list(),
                         format_func=lambda b: f"lot {b} — " + with_rejects.filter(pl.col("batch_id") == b)["file_name"][0])
    st.dataframe(ui.query(quality.quarantine, batch).select(
        pl.col("line").alias("Ligne"), pl.col("column_name").alias("Colonne"), pl.col("value").alias("Valeur"),
        pl.col("rule").alias("Règle"), pl.col("message").alias("Motif")), hide_index=True)
