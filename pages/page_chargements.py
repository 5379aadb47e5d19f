"""Chargements et qualité: loading files from the browser, then the registry's quality, the
reconciliation with the official series, every file loaded and every rejected row with its reason."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from fsdash import ui
from fsdash.views import quality

wh, filters = ui.context()
scope, today = filters.scope, dt.date.today()
ui.header(
    "Chargements et qualité des données",
    filters,
    period=False,
    ignores={
        "périmètre, format et porteur": "seuls la qualité du référentiel et le rapprochement suivent le "
        "périmètre ; les lots chargés, les rejets et la quarantaine sont ceux de tout l'entrepôt",
        "période et comparaison": "le référentiel est contrôlé à la date du jour, les lots tels que chargés",
    },
)
st.caption(
    "Chaque fichier chargé est conservé dans l'entrepôt avec son empreinte SHA-256 ; "
    "chaque ligne rejetée est gardée en quarantaine avec la règle en cause."
)

st.subheader(quality.UPLOAD_TITLE)
uploads = st.file_uploader(
    "Fichiers des sites (CSV, XLSX, Parquet ; modèles sur la page Dictionnaire des indicateurs)",
    type=["csv", "txt", "xlsx", "parquet"],
    accept_multiple_files=True,
    key="chargement_fichiers",
)
if uploads and st.button("Charger ces fichiers", type="primary", key="chargement_bouton"):
    from fsdash.upload import load_files  # the write side, imported only when someone loads

    code, lines = load_files([(f.name, f.getvalue()) for f in uploads], ui.db_path())
    box = {0: st.success, 1: st.warning, 2: st.error}[code]
    box(
        {
            0: "Fichiers chargés.",
            1: "Fichiers chargés en partie : les lignes rejetées sont en quarantaine.",
            2: "Chargement refusé : rien n'a été écrit.",
        }[code]
    )
    st.code("\n".join(lines), language=None)
    wh = ui.warehouse()  # the version the load just published

if not quality.has_loads(wh):
    st.info(quality.NO_LOAD)
    st.stop()

ui.render(quality.registry_quality(wh, scope, today))

st.subheader(quality.RECONCILIATION_TITLE)
if quality.reconciliation_available(wh):
    cols = st.columns(2)
    indicator = cols[0].selectbox(
        "Indicateur",
        list(quality.OFFICIAL_INDICATORS),
        format_func=quality.OFFICIAL_INDICATORS.get,
        key="rapprochement_indicateur",
    )
    tolerance = cols[1].slider("Tolérance d'écart (%)", 1, 30, 5, key="rapprochement_tolerance") / 100
    ui.render(quality.reconciliation(wh, scope, indicator, tolerance))
else:
    ui.render(quality.NO_OFFICIAL_SERIES)

ui.render(quality.loads(wh))
ui.render(quality.batches(wh))
ui.render(quality.rejections_by_rule(wh))
rejected = quality.rejected_batches(wh)
if rejected:
    batch = st.selectbox("Lot à examiner", list(rejected), format_func=rejected.get)
    ui.render(quality.quarantine(wh, batch))
