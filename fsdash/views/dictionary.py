"""Dictionnaire des indicateurs: the catalogue (schemas/catalogue.yaml) for its readers — every
table and indicator, the code lists and the consistency rules — and the search through them.

Pure functions of the catalogue, which does not change while the server runs: the frames are
built once, and each search (its text and the tables chosen) is answered once and remembered.
The search ignores case, accents and spacing; it runs in Polars on a text column prepared once
per table, never through a Python callback per cell.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import polars as pl

from fsdash import formats
from fsdash.catalogue import TYPE_LABELS, Catalogue, Column, Rule, load_catalogue
from fsdash.views.section import Section, Table

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
ALL_REPORT_TABLES = "toutes les tables de reporting"
SEARCHES_KEPT = 128

_SEARCH_TEXT = "_texte_recherche"


# --- plain text -----------------------------------------------------------------------------------


def plain(expr: pl.Expr) -> pl.Expr:
    """Lower case, accents and other combining marks removed, every run of spaces (no-break spaces
    included) made one plain space: « Réponse  72 h » and « reponse 72 h » read the same."""
    return (
        expr.str.to_lowercase()
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}+", "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


@functools.lru_cache(maxsize=1024)
def plain_text(text: str | None) -> str:
    """:func:`plain` on one string, by the very same expression (the query and the cells agree);
    remembered, as the same names and queries come back on every search."""
    return pl.select(plain(pl.lit(text or "", dtype=pl.String))).item()


def searchable(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with a hidden column holding its cells as plain text, prepared once."""
    cells = pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in frame.columns], separator=" | ")
    return frame.with_columns(plain(cells).alias(_SEARCH_TEXT))


def matches(frame: pl.DataFrame, query: str) -> pl.DataFrame:
    """Rows where some cell contains the search text (case, accents and spacing ignored)."""
    phrase = plain_text(query)
    prepared = frame if _SEARCH_TEXT in frame.columns else searchable(frame)
    if phrase:
        prepared = prepared.filter(pl.col(_SEARCH_TEXT).str.contains(phrase, literal=True))
    return prepared.drop(_SEARCH_TEXT)


def _mentions(text: str, phrase: str) -> bool:
    return bool(phrase) and phrase in plain_text(text)


# --- the catalogue as frames ----------------------------------------------------------------------


def _allowed(catalogue: Catalogue, column: Column) -> str:
    """Allowed values: the code list, the pattern, or the range (French numbers; the unit is given apart)."""
    if column.dimension:
        dim = catalogue.dimensions[column.dimension]
        codes = ", ".join(dim.codes) if len(dim.codes) <= 10 else formats.plural(len(dim.codes), "code")
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


@functools.cache
def columns_frame(table_code: str) -> pl.DataFrame:
    """Every column of a catalogue table, all its fields in French (the download's shape)."""
    catalogue = load_catalogue()
    table = catalogue.table(table_code)
    return pl.DataFrame(
        [
            {
                "Colonne": c.code,
                "Libellé": c.label,
                "Définition": c.definition,
                "Type": TYPE_LABELS[c.type],
                "Unité": c.unit or "",
                "Obligatoire": "oui" if c.mandatory else "non",
                "Valeurs admises": _allowed(catalogue, c),
                "Source (circulaire, charte)": c.source or "",
                "Remarque": _remark(c),
            }
            for c in table.columns
        ]
    )


@functools.cache
def _searchable_columns(table_code: str) -> pl.DataFrame:
    return searchable(columns_frame(table_code))


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


#: A compared value in a rule's message, « (…{left}) »: the words around it already name the columns.
_COMPARED_VALUE = re.compile(r"\s*\(\{\w+\}\)")


def rule_text(rule: Rule) -> str:
    """The rule as a reader reads it: the message the validation fills with a row's values, without
    those values (« les courriels répondus sous 72 h dépassent les courriels reçus »)."""
    text = _COMPARED_VALUE.sub("", rule.message).replace("« {value} »", "déclaré")
    if "{" in text:
        raise ValueError(f"rule {rule.code}: placeholder left in « {text} »")
    return text


@functools.cache
def rules_frame() -> pl.DataFrame:
    """Every consistency rule checked at each load, in French."""
    return pl.DataFrame(
        [
            {
                "Règle": r.code,
                "Table": r.table or ALL_REPORT_TABLES,
                "Nature": RULE_KINDS.get(r.kind, r.kind),
                "Contrôle": rule_text(r),
                "Source": r.source or "",
            }
            for r in load_catalogue().rules
        ]
    )


@functools.cache
def _searchable_rules() -> pl.DataFrame:
    return searchable(rules_frame())


@functools.cache
def _searchable_list(dimension: str) -> pl.DataFrame:
    dim = load_catalogue().dimensions[dimension]
    frame = pl.DataFrame(
        [{"Code": v.code, "Libellé": v.label, **{k: str(x) for k, x in v.extra.items()}} for v in dim.values]
    )
    return searchable(frame.rename({"theme": "Thème"}, strict=False))


# --- the dictionary as a document ----------------------------------------------------------------------


def _markdown_table(frame: pl.DataFrame, code_column: str) -> list[str]:
    """A frame as a Markdown table, its code column in backticks; pipes in cells escaped."""
    cells = frame.with_columns(
        pl.format("`{}`", pl.col(code_column)).alias(code_column),
        pl.all().exclude(code_column).cast(pl.String).fill_null("").str.replace_all("|", "\\|", literal=True),
    )
    return [
        "| " + " | ".join(frame.columns) + " |",
        "|" + "---|" * frame.width,
        *("| " + " | ".join(row) + " |" for row in cells.iter_rows()),
        "",
    ]


def dictionary_markdown() -> str:
    """docs/indicateurs.md: the very blocks and frames of the page (``python -m fsdash catalogue``
    writes it, a test checks it is up to date)."""
    catalogue = load_catalogue()
    out = [
        "# Dictionnaire des indicateurs France Services",
        "",
        f"Catalogue version {catalogue.version}. Fichier généré depuis `schemas/catalogue.yaml` par "
        "`python -m fsdash catalogue` : ne pas le modifier à la main.",
        "",
    ]
    for table, section in zip(catalogue.tables.values(), indicators().sections, strict=True):
        out += [f"## Table `{table.code}` — {table.label}", "", section.intro.replace("  \n", "\n\n"), ""]
        out += _markdown_table(section.table.frame, "Colonne")
    out += ["## Listes de codes", ""]
    for dim in catalogue.dimensions.values():
        out += [f"### `{dim.code}` — {dim.label}", "", f"Source : {dim.source}.", ""]
        out += _markdown_table(_searchable_list(dim.code).drop(_SEARCH_TEXT), "Code")
    out += ["## Règles de cohérence", ""]
    out += _markdown_table(rules_frame(), "Règle")
    return "\n".join(out)


# --- searches -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicators:
    """The catalogue tables a search shows: one section each, and everything shown in one frame
    (``Table`` + the nine fields of :func:`columns_frame`) for the downloads; None when nothing."""

    sections: tuple[Section, ...]
    export: pl.DataFrame | None


@functools.lru_cache(maxsize=SEARCHES_KEPT)
def indicators(query: str = "", tables: tuple[str, ...] = ()) -> Indicators:
    """The tables and indicators matching the search, among the chosen tables (all when none).

    A table whose code, name or definition matches is shown whole; otherwise only its matching
    columns, and the count says so.
    """
    catalogue = load_catalogue()
    phrase = plain_text(query)
    sections, shown = [], []
    for table in catalogue.tables.values():
        if tables and table.code not in tables:
            continue
        table_hit = _mentions(f"{table.code} {table.label} {table.definition}", phrase)
        rows = columns_frame(table.code) if table_hit else matches(_searchable_columns(table.code), query)
        if rows.is_empty():
            continue
        period = f" ; période : {PERIOD_LABELS[table.period]}" if table.period else ""
        intro = (
            f"{table.definition}  \n*Nature : {KIND_LABELS.get(table.kind, table.kind)} ; une ligne par "
            f"{', '.join(table.grain)}{period} ; {formats.plural(len(table.columns), 'colonne')}"
            + (f", {formats.number(rows.height)} correspondant à la recherche" if phrase and not table_hit else "")
            + ".*"
        )
        sections.append(
            Section(
                f"dictionnaire-{table.code}",
                f"{table.label} — `{table.code}`",
                intro=intro,
                table=Table(display_frame(rows)),
                table_in_expander=False,
                downloads=False,
            )
        )
        shown.append(rows.select(pl.lit(table.code).alias("Table"), pl.all()))
    return Indicators(tuple(sections), pl.concat(shown) if shown else None)


@functools.lru_cache(maxsize=SEARCHES_KEPT)
def code_lists(query: str = "") -> tuple[Section, ...]:
    """The code lists matching the search: a list whose code, name or source matches is shown
    whole, otherwise its matching codes only."""
    phrase = plain_text(query)
    sections = []
    for dim in load_catalogue().dimensions.values():
        hit = _mentions(f"{dim.code} {dim.label} {dim.source}", phrase)
        prepared = _searchable_list(dim.code)
        rows = matches(prepared, "" if hit else query)
        if rows.is_empty():
            continue
        sections.append(
            Section(
                f"liste-{dim.code}",
                f"{dim.label} — `{dim.code}` ({formats.plural(len(dim.values), 'code')})",
                table=Table(rows),
                table_in_expander=False,
                downloads=False,
                source=dim.source,
            )
        )
    return tuple(sections)


@functools.lru_cache(maxsize=SEARCHES_KEPT)
def rules(query: str = "", tables: tuple[str, ...] = ()) -> Section:
    """The consistency rules matching the search, for the chosen tables (and those of every report)."""
    found = matches(_searchable_rules(), query)
    if tables:
        found = found.filter(pl.col("Table").is_in(list(tables)) | (pl.col("Table") == ALL_REPORT_TABLES))
    if found.is_empty():
        return Section("regles", "Règles de cohérence", empty="Aucune règle ne correspond à la recherche.")
    return Section("regles", "Règles de cohérence", table=Table(found), table_in_expander=False, downloads=False)
