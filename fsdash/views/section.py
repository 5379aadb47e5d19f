"""A page section as plain data: what the screen shows and what a printed pack will show.

A section is built once per warehouse version and filters (:mod:`fsdash.views`, cached), then
drawn by :func:`fsdash.ui.render` on screen — and, later, on paper. So nothing here knows
Streamlit: tiles carry preformatted French strings, the chart is a Vega-Lite spec (a dict), the
map a pydeck deck, the table a typed Polars frame with French headers, and the section says
where its figures come from and up to when (:attr:`Section.data_date`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl

from fsdash import formats
from fsdash.catalogue import load_catalogue

#: How a table column is shown and exported. The table keeps its values typed (the downloads and a
#: printed pack read numbers); the screen shows them written the French way, one number of decimals
#: per column (:attr:`Table.display`). ``percent`` columns hold ratios (0.125 for 12,5 %).
COLUMN_KINDS = ("text", "integer", "decimal", "percent", "euros", "date", "datetime", "boolean")


@dataclass(frozen=True)
class Tile:
    """A headline figure: ``st.metric`` on screen, a box on paper."""

    label: str
    value: str
    delta: str | None = None
    delta_color: str = "normal"  # normal | inverse | off
    help: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class Column:
    """How one column of a :class:`Table` reads: its kind (:data:`COLUMN_KINDS`) and, for numbers,
    its one number of decimals (every row of a column alike)."""

    name: str
    kind: str = "text"
    decimals: int = 0

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"unknown column kind {self.kind}")
        if self.decimals < 0:
            raise ValueError(f"negative decimals for column {self.name}")


@dataclass(frozen=True)
class Table:
    """A table with French headers, its values kept typed, and how each column reads."""

    frame: pl.DataFrame
    columns: tuple[Column, ...] = ()

    def column(self, name: str) -> Column:
        declared = next((c for c in self.columns if c.name == name), None)
        if declared is not None:
            return declared
        kind = _kind_of(self.frame.schema[name])
        return Column(name, kind, 1 if kind == "decimal" else 0)

    def described(self) -> tuple[Column, ...]:
        """One column description per column of the frame (declared, or read from its type)."""
        return tuple(self.column(name) for name in self.frame.columns)

    @cached_property
    def display(self) -> pl.DataFrame:
        """The table as the screen shows it: numbers written in French (``1 234,5``, ``12,5 %``,
        ``40 000 €``) with one number of decimals per column, ``–`` for a missing value, ``oui``/``non``;
        dates stay dates. Computed once per table (sections are cached), natively."""
        schema = self.frame.schema
        return self.frame.select([_shown(c, schema[c.name]).alias(c.name) for c in self.described()])


def code_labels(column: str, dimension: str) -> pl.Expr:
    """A column of catalogue codes (``MULTISITES``) as their French labels, natively (one
    ``replace_strict`` over the whole column): an unknown code stays as is, a missing one is null
    (``–`` on screen). Tables show labels, never raw codes."""
    labels = load_catalogue().dimensions[dimension]
    mapping = {code: labels.label_of(code) for code in labels.codes}
    return pl.col(column).replace_strict(mapping, default=pl.col(column), return_dtype=pl.String)


def _shown(column: Column, dtype: pl.DataType) -> pl.Expr:
    """How one column reads on screen. Every branch is renamed after the column by the caller: a
    ``when`` chain starting with a literal would otherwise be called ``literal``. Integer columns
    take the integer writer (same text, no parsing of the number's text)."""
    value = pl.col(column.name)
    if column.kind == "integer":
        return formats.integer_expr(value) if dtype.is_integer() else formats.number_expr(value, 0)
    if column.kind == "euros" and dtype.is_integer():
        return formats.integer_expr(value, "€")
    if column.kind == "decimal":
        return formats.number_expr(value, column.decimals)
    if column.kind == "percent":
        return formats.percent_expr(value, column.decimals)
    if column.kind == "euros":
        return formats.euros_expr(value.round(0))
    if column.kind == "boolean":
        return pl.when(value).then(pl.lit("oui")).when(~value).then(pl.lit("non")).otherwise(pl.lit(formats.DASH))
    if column.kind == "text":
        return value.cast(pl.String).fill_null(formats.DASH)
    return value


def _kind_of(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "decimal"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Boolean:
        return "boolean"
    return "text"


@dataclass(frozen=True)
class Message:
    """A sentence the reader must not miss: ``info``, ``warning``, ``success`` or ``error``."""

    text: str
    kind: str = "info"


@dataclass(frozen=True)
class Section:
    """One block of a page (see the module docstring).

    ``empty`` replaces the body when the filters leave nothing to show (a clear French sentence,
    never a blank chart). ``table_in_expander`` puts the table with the downloads (a chart's data),
    else the table is shown as the body. ``downloads`` offers CSV and XLSX of ``export`` (or of
    the table) built on click.
    """

    key: str
    title: str | None = None
    heading: str = "subheader"  # header | subheader | bold | none
    intro: str | None = None
    tiles: tuple[Tile, ...] = ()
    tile_rows: tuple[int, ...] = ()  # tiles per row (default: all on one row)
    messages: tuple[Message, ...] = ()
    chart: dict[str, Any] | None = None
    chart_alt: str | None = None
    deck: Any = None
    table: Table | None = None
    table_in_expander: bool = True
    export: pl.DataFrame | None = None
    downloads: bool = True
    definitions: tuple[str, ...] = ()
    source: str | None = None
    data_date: str | None = None
    demo: bool = False
    notes: tuple[str, ...] = ()
    empty: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def download_frame(self) -> pl.DataFrame | None:
        if self.export is not None:
            return self.export
        return self.table.frame if self.table is not None else None

    def caption(self) -> str:
        """Definitions, source and data date, demo flag, notes: what every figure owes its reader."""
        lines = list(self.definitions)
        if self.source:
            lines.append(
                f"Source : {self.source}."
                + (f" {self.data_date}." if self.data_date else "")
                + (" **Données de démonstration.**" if self.demo else "")
            )
        elif self.demo:
            lines.append("**Données de démonstration.**")
        lines += list(self.notes)
        return "  \n".join(lines)


def empty_section(key: str, title: str | None, message: str, **kwargs: Any) -> Section:
    """A section whose filters leave nothing: the title and one French sentence."""
    return Section(key=key, title=title, empty=message, **kwargs)
