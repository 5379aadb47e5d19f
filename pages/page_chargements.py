"""Chargements et qualité: loading files from the browser, then the registry's quality, the
reconciliation with the official series, every file loaded and every rejected row with its reason."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from fsdash import formats, ui
from fsdash.views import quality
from fsdash.views.common import is_demo

#: Why a demo warehouse offers no uploader (real files are never mixed with synthetic figures).
DEMO_TAKES_NO_FILE = (
    "Cet entrepôt de démonstration n'accepte aucun fichier, pour que des données réelles ne se mêlent jamais "
    "à des chiffres synthétiques : l'équipe du programme charge les fichiers des sites dans un entrepôt réel, "
    "sur lequel le tableau de bord est ouvert, et pourra bientôt le choisir depuis cette page."
)
#: Why someone who is not of the programme team has no uploader (fsdash.identity: loading is its role alone).
LOADING_RESERVED = (
    "Le chargement et la correction des données sont réservés à l'équipe du programme (ANCT) ; chaque chargement "
    "enregistre qui l'a fait (colonne « Chargé par » des lots chargés)."
)
UPLOADER_KEY = "chargement_fichiers"
UPLOADER_TYPES = ("csv", "txt", "xlsx", "parquet")
#: Streamlit's uploader writes its instructions in English and takes no parameter for them (1.67): the
#: English words are hidden and French ones drawn in their place, for this uploader only.
UPLOADER_CSS = """<style>
.st-key-{key} [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p,
.st-key-{key} [data-testid="stFileUploaderDropzone"] > span:not(:has(button)),
.st-key-{key} [data-testid="stFileUploaderDropzoneInstructions"] span {{ font-size: 0; }}
.st-key-{key} [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {{
  content: "Parcourir"; font-size: 0.875rem; }}
.st-key-{key} [data-testid="stFileUploaderDropzone"] > span:not(:has(button))::after {{
  content: "Glissez-déposez les fichiers ici"; font-size: 1rem; }}
.st-key-{key} [data-testid="stFileUploaderDropzoneInstructions"] span::after {{
  content: "{limit} au plus par fichier · {types}"; font-size: 0.875rem; }}
</style>"""


def french_uploader() -> None:
    """Draw the uploader's instructions in French (CSS scoped to the page's uploader); the size limit
    is the server's own (``server.maxUploadSize``, in megabytes)."""
    limit = formats.plural(st.get_option("server.maxUploadSize"), "Mo", "Mo")
    types = ", ".join(t.upper() if t != "parquet" else "Parquet" for t in UPLOADER_TYPES)
    st.html(UPLOADER_CSS.format(key=UPLOADER_KEY, limit=limit, types=types))


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
who = ui.current_identity()
if not who.can_load:
    st.info(LOADING_RESERVED)
elif is_demo(wh):
    st.info(DEMO_TAKES_NO_FILE)
else:
    french_uploader()
    uploads = st.file_uploader(
        "Fichiers des sites (CSV, XLSX, Parquet ; modèles sur la page Dictionnaire des indicateurs)",
        type=list(UPLOADER_TYPES),
        accept_multiple_files=True,
        key=UPLOADER_KEY,
    )
    if uploads and st.button("Charger ces fichiers", type="primary", key="chargement_bouton"):
        from fsdash.upload import load_files  # the write side, imported only when someone loads

        status = ui.LoadStatus(len(uploads))
        blobs = [(f.name, f.getvalue()) for f in uploads]
        code, lines = load_files(blobs, ui.db_path(), who, ui.max_upload_bytes(), progress=status)
        status.done(code)
        box = {0: st.success, 1: st.warning, 2: st.error}[code]
        box(
            {
                0: "Fichiers chargés.",
                1: "Fichiers chargés en partie : les lignes rejetées sont en quarantaine.",
                2: "Chargement refusé : rien n'a été écrit.",
            }[code]
        )
        st.code("\n".join(lines), language=None, wrap_lines=True)
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
