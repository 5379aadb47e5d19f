"""Dictionnaire des indicateurs: the catalogue (schemas/catalogue.yaml) for its readers — every table and
indicator, the code lists and the consistency rules, searchable — and the templates to fill in."""

from __future__ import annotations

import unicodedata

import polars as pl
import streamlit as st

from fsdash import exports, formats, ui
from fsdash.catalogue import Column, Rule, Table, load_catalogue
from fsdash.templates import TYPE_LABELS, csv_template, xlsx_template

KIND_LABELS = {"reference": "référentiel (chargé par le programme ou l'ANCT)", "report": "reporting des sites"}
PERIOD_LABELS = {"quarter": "trimestre", "year": "année"}
RULE_KINDS = {
    "le": "comparaison",
    "sum_le": "somme",
    "group_sum_le_total": "détail ≤ total",
    "unique_key": "clé unique",
    "known_site": "site connu",
    "after_label": "après labellisation",
    "period_complete": "période terminée",
}

catalogue = load_catalogue()
st.title("Dictionnaire des indicateurs")
st.caption(
    f"Catalogue version {catalogue.version} — source unique : schemas/catalogue.yaml. La validation des "
    "fichiers, les tables de l'entrepôt, les modèles à remplir et ce dictionnaire en sont tous tirés."
)
ui.demo_banner()


def _plain(text: str | None) -> str:
    """Lower case without accents, to search « reponse » and find « Réponse » (no-break spaces made plain)."""
    text = unicodedata.normalize("NFKD", text or "").replace("\u202f", " ").replace("\u00a0", " ")
    return text.encode("ascii", "ignore").decode().lower()


def _allowed(column: Column) -> str:
    """Allowed values: the code list, the pattern, or the range (French numbers; the unit is given apart)."""
    if column.dimension:
        dim = catalogue.dimensions[column.dimension]
        codes = ", ".join(dim.codes) if len(dim.codes) <= 10 else f"{len(dim.codes)} codes"
        return f"liste « {dim.label} » : {codes}"
    if column.pattern:
        return f"format {column.pattern}"
    if column.min is None and column.max is None:
        return ""

    def bound(value: float | None) -> str:
        if value is None:
            return "…"
        if abs(value) < 10_000:  # years and small bounds stay ungrouped: « 2019 », « 84 »
            return f"{value:g}".replace(".", ",")
        return formats.number(value, 0 if float(value).is_integer() else 2)

    return f"{bound(column.min)} à {bound(column.max)}"


def _remark(column: Column) -> str:
    notes = []
    if column.is_key:
        notes.append("clé de la table")
    if "satisfied" in column.attrs:
        notes.append("compté comme satisfait" if column.attrs["satisfied"] else "compté comme non satisfait")
    if "likert" in column.attrs:
        notes.append(f"niveau {column.attrs['likert']} de l'échelle à cinq niveaux")
    return " ; ".join(notes)


def columns_frame(table: Table) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "Colonne": c.code,
                "Libellé": c.label,
                "Définition": c.definition,
                "Type": TYPE_LABELS[c.type],
                "Unité": c.unit or "",
                "Obligatoire": "oui" if c.mandatory else "non",
                "Valeurs admises": _allowed(c),
                "Source (circulaire, charte)": c.source or "",
                "Remarque": _remark(c),
            }
            for c in table.columns
        ]
    )


def display_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The same fields in five columns, so that definitions stay readable on screen."""
    expected = pl.concat_str(
        [
            pl.col("Type"),
            pl.when(pl.col("Unité") != "").then(pl.lit(" (") + pl.col("Unité") + pl.lit(")")).otherwise(pl.lit("")),
            pl.when(pl.col("Obligatoire") == "oui").then(pl.lit(", obligatoire")).otherwise(pl.lit(", facultatif")),
            pl.when(pl.col("Valeurs admises") != "")
            .then(pl.lit(" — ") + pl.col("Valeurs admises"))
            .otherwise(pl.lit("")),
        ]
    )
    source = pl.concat_str([pl.col("Source (circulaire, charte)"), pl.col("Remarque")], separator=" ; ")
    source = source.str.strip_chars(" ;")
    return frame.select(
        pl.col("Colonne"),
        pl.col("Libellé"),
        pl.col("Définition"),
        expected.alias("Format attendu"),
        source.alias("Source et remarques"),
    )


def rule_text(rule: Rule) -> str:
    """The rule's message with its placeholders named after the columns it compares."""
    left = " + ".join(rule.left) if isinstance(rule.left, list) else (rule.left or "")
    return rule.message.format(
        left=left, right=rule.right or "", key="clé", value="…", label_date="date de labellisation"
    )


def rules_frame() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "Règle": r.code,
                "Table": r.table or "toutes les tables de reporting",
                "Nature": RULE_KINDS.get(r.kind, r.kind),
                "Contrôle": rule_text(r),
                "Source": r.source or "",
            }
            for r in catalogue.rules
        ]
    )


def matches(frame: pl.DataFrame, query: str) -> pl.DataFrame:
    """Rows where some cell contains the search text (case, accents and spacing ignored)."""
    phrase = " ".join(_plain(query).split())
    if not phrase:
        return frame
    cells = pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in frame.columns], separator=" | ")
    text = cells.map_elements(lambda s: " ".join(_plain(s).split()), return_dtype=pl.String)
    return frame.filter(text.str.contains(phrase, literal=True))


# --- templates ----------------------------------------------------------------------------------------
st.header("Modèles à remplir")
st.markdown(
    "Un classeur unique (une feuille par table, une feuille « Lisez-moi » reprenant ce dictionnaire et une "
    "feuille « Listes » des codes admis, proposés en listes déroulantes) ou un fichier CSV par table "
    "(séparateur « ; », UTF-8 avec BOM pour Excel). Les en-têtes sont les codes des colonnes."
)
st.download_button(
    "Classeur de reporting (XLSX)",
    xlsx_template(catalogue),
    file_name="modele-reporting-france-services.xlsx",
    key="dictionnaire_modele_xlsx",
    type="primary",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
cols = st.columns(4)
for i, table in enumerate(catalogue.tables.values()):
    cols[i % 4].download_button(
        f"{table.code}.csv",
        csv_template(table),
        file_name=f"modele-{table.code}.csv",
        mime="text/csv",
        key=f"dictionnaire_modele_{table.code}",
        help=f"Modèle : {table.label}",
        width="stretch",
    )

# --- search ------------------------------------------------------------------------------------------
st.header("Rechercher")
query = st.text_input(
    "Indicateur, définition, code ou article de la charte",
    key="dictionnaire_recherche",
    placeholder="ex. : satisfaction, 72 h, annexe 4, charte 2.4",
)
table_codes = list(catalogue.tables)
chosen = st.multiselect(
    "Tables",
    table_codes,
    format_func=lambda c: f"{catalogue.table(c).label} ({c})",
    key="dictionnaire_tables",
    placeholder="Toutes les tables",
)

# --- tables and indicators ---------------------------------------------------------------------------
st.header("Tables et indicateurs")
shown, everything = 0, []
for table in catalogue.tables.values():
    if chosen and table.code not in chosen:
        continue
    frame = columns_frame(table)
    table_hit = bool(query) and bool(
        matches(pl.DataFrame({"t": [f"{table.code} {table.label} {table.definition}"]}), query).height
    )
    rows = frame if table_hit else matches(frame, query)
    if rows.is_empty():
        continue
    shown += 1
    st.subheader(f"{table.label} — `{table.code}`")
    period = f" ; période : {PERIOD_LABELS[table.period]}" if table.period else ""
    st.markdown(
        f"{table.definition}  \n*Nature : {KIND_LABELS.get(table.kind, table.kind)} ; une ligne par "
        f"{', '.join(table.grain)}{period} ; {len(table.columns)} colonnes"
        + (f", {rows.height} correspondant à la recherche" if query and not table_hit else "")
        + ".*"
    )
    st.table(display_frame(rows), hide_index=True, border="horizontal")
    everything.append(rows.select(pl.lit(table.code).alias("Table"), pl.all()))
if not shown:
    st.info("Aucun indicateur ne correspond à la recherche.")
else:
    found = pl.concat(everything)
    cols = st.columns(2)
    cols[0].download_button(
        "Dictionnaire affiché (CSV)",
        exports.csv_bytes(found),
        file_name="dictionnaire-indicateurs.csv",
        mime="text/csv",
        key="dictionnaire_csv",
    )
    cols[1].download_button(
        "Dictionnaire affiché (XLSX)",
        exports.xlsx_bytes(found, "dictionnaire"),
        file_name="dictionnaire-indicateurs.xlsx",
        key="dictionnaire_xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

# --- code lists --------------------------------------------------------------------------------------
st.header("Listes de codes")
st.caption("Dans les fichiers, une liste accepte le code ou le libellé (casse et accents indifférents).")
lists_shown = 0
for dim in catalogue.dimensions.values():
    frame = pl.DataFrame(
        [{"Code": v.code, "Libellé": v.label, **{k: str(x) for k, x in v.extra.items()}} for v in dim.values]
    )
    hit = bool(query) and bool(matches(pl.DataFrame({"t": [f"{dim.code} {dim.label} {dim.source}"]}), query).height)
    rows = frame if hit or not query else matches(frame, query)
    if rows.is_empty():
        continue
    lists_shown += 1
    with st.expander(f"{dim.label} — `{dim.code}` ({formats.number(len(dim.values))} codes)", expanded=bool(query)):
        st.caption(f"Source : {dim.source}.")
        st.table(rows.rename({"theme": "Thème"}, strict=False), hide_index=True, border="horizontal")
if not lists_shown:
    st.info("Aucune liste de codes ne correspond à la recherche.")

# --- rules -------------------------------------------------------------------------------------------
st.header("Règles de cohérence")
st.caption(
    "Vérifiées à chaque chargement : une ligne qui en enfreint une est rejetée (mise en quarantaine) avec "
    "le fichier, la ligne, la colonne et le code de la règle ; pour le reporting, le site-période entier "
    "est rejeté."
)
rules = matches(rules_frame(), query)
if chosen:
    rules = rules.filter(pl.col("Table").is_in(chosen) | pl.col("Table").str.starts_with("toutes"))
if rules.is_empty():
    st.info("Aucune règle ne correspond à la recherche.")
else:
    st.table(rules, hide_index=True, border="horizontal")
