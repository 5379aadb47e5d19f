"""The official « Liste des structures France Services » read into the ``sites`` table.

ANCT publishes the list on data.gouv.fr (``liste-fs-AAAAMMJJ.csv``: UTF-8, ``,``, every field
quoted, some fields holding newlines). It is the reference of the network, so the registry is fed
from it rather than retyped; people also pass it around re-saved by French Excel (cp1252, ``;``,
decimal commas, leading zeros of codes lost), which is read the same way.

The result is a :class:`~fsdash.readers.RawTable` of *text* cells in the catalogue's shape, so the
list goes through the same validation as any registry file: this module translates the list's
vocabulary (``Bus_équivalent`` -> ``BUS``…) and never decides whether a value is acceptable — an
unknown format or a date it cannot find is left as written for the validator to report with its
line. Only opening hours are interpreted here (see :mod:`fsdash.network.hours`); an unreadable
hours cell leaves the site's hours unknown and is returned as a warning rather than rejecting the
whole site.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl

from fsdash.catalogue import Catalogue
from fsdash.network.hours import HoursError, day_slots, weekly_hours
from fsdash.readers import LINE_COLUMN, RawTable, ReadError, normalise_header, read_csv

#: Columns of the published list, in the publisher's order.
ANCT_COLUMNS: list[str] = [
    "id_fs",
    "insee_dep",
    "lib_fs",
    "adresse",
    "complement_adresse",
    "insee_com",
    "code_postal",
    "lib_com",
    "latitude",
    "longitude",
    "mail",
    "telephone",
    "h_lundi",
    "h_mardi",
    "h_mercredi",
    "h_jeudi",
    "h_vendredi",
    "h_samedi",
    "prise_rdv",
    "commentaire",
    "type_fs",
    "format_fs",
    "groupe_fs",
    "labellisation_fs",
]

#: Day columns, Monday to Saturday (the list publishes no Sunday).
HOURS_COLUMNS: list[str] = ["h_lundi", "h_mardi", "h_mercredi", "h_jeudi", "h_vendredi", "h_samedi"]

#: Columns without which a file is not the list (or not usable as the registry).
REQUIRED_COLUMNS: list[str] = [
    "id_fs",
    "insee_dep",
    "lib_fs",
    "insee_com",
    "latitude",
    "longitude",
    *HOURS_COLUMNS,
    "type_fs",
    "format_fs",
    "labellisation_fs",
]

#: Columns read when the file has them (the address is not needed to know the network).
OPTIONAL_COLUMNS: list[str] = ["adresse", "complement_adresse", "code_postal"]

#: The list's ``format_fs`` -> catalogue dimension ``format``.
FORMAT_CODES: dict[str, str] = {
    "Fixe": "FIXE",
    "Multisites": "MULTISITES",
    "Bus_équivalent": "BUS",
    "Fixe_antenne(s)": "FIXE_ANTENNES",
    "Itinérante": "ITINERANT",
}

#: The list's ``type_fs`` -> catalogue dimension ``type_site``.
TYPE_CODES: dict[str, str] = {"Principal": "PRINCIPAL", "Antenne": "ANTENNE"}

#: How the list says a structure is run by La Poste: in its name (the list has no porteur column).
LA_POSTE_PATTERN = r"(?i)\bla\s+poste\b"

_SNAPSHOT = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
_HOURS_OUT = ["horaires", "heures_ouverture_hebdo", "jours_ouverture_hebdo"]


def snapshot_date(file_name: str) -> dt.date | None:
    """Publication date of the list from its name (``liste-fs-20240801.csv`` -> 2024-08-01).

    The name is the only place the date is written; ``None`` when it holds no valid date.
    """
    for match in _SNAPSHOT.finditer(Path(file_name).name):
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            continue
    return None


def _read_frame(data: bytes, file_name: str) -> pl.DataFrame:
    """The file as text cells with normalised headers and the source line of each record, read by
    the one reader of every tabular input (:func:`fsdash.readers.read_csv`: encoding detected or
    refused, physical lines after multi-line addresses, blank lines and ``;;;;`` dropped, control
    characters stripped, duplicated headers refused)."""
    return read_csv(data, file_name).frame


def _check_shape(frame: pl.DataFrame, file_name: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ReadError(
            f"{file_name} : ce fichier n'a pas la forme de la liste des structures France Services ; "
            "colonnes manquantes : " + ", ".join(missing)
        )


def _text(column: str) -> pl.Expr:
    """Stripped text, newlines and runs of spaces collapsed; empty -> null."""
    value = pl.col(column).str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(value == "").then(None).otherwise(value)


def _code(column: str, width: int) -> pl.Expr:
    """A numeric code whose leading zeros a spreadsheet dropped (``1033`` -> ``01033``)."""
    value = _text(column)
    return (
        pl.when(value.str.contains(r"^[0-9]+$") & (value.str.len_chars() < width))
        .then(value.str.zfill(width))
        .otherwise(value)
    )


def _decimal(column: str) -> pl.Expr:
    """``46,106`` -> ``46.106`` so every shape of the file gives the same text; anything else as is."""
    return _text(column).str.replace(r"^([+-]?[0-9]+),([0-9]+)$", "${1}.${2}")


def _lookup(frame: pl.DataFrame, column: str, codes: dict[str, str]) -> pl.Expr:
    """Map the list's labels to catalogue codes, tolerant of case, accents and spacing.

    Unknown values are kept as written so that the validator reports them with their line.
    """
    by_key = {normalise_header(label): code for label, code in codes.items()}
    values = frame.select(_text(column).alias("v"))["v"].drop_nulls().unique().to_list()
    mapping = {v: by_key[normalise_header(v)] for v in values if normalise_header(v) in by_key}
    return _text(column).replace(mapping)


def _label_date(column: str) -> pl.Expr:
    """The date in ``Espace labellisé 01/01/2020`` (or an ISO date); the raw text when there is none."""
    value = _text(column)
    return pl.coalesce(
        value.str.extract(r"(?:^|\D)(\d{1,2}/\d{1,2}/\d{4})(?:\D|$)", 1),
        value.str.extract(r"(?:^|\D)(\d{4}-\d{2}-\d{2})(?:\D|$)", 1),
        value,
    )


def _address(frame: pl.DataFrame) -> pl.Expr:
    parts = [_text(c) for c in ("adresse", "complement_adresse") if c in frame.columns]
    if not parts:
        return pl.lit(None, pl.String)
    joined = pl.concat_str(parts, separator=", ", ignore_nulls=True)
    return pl.when(joined == "").then(None).otherwise(joined)


def _hours(frame: pl.DataFrame, where: str) -> tuple[pl.DataFrame, list[str]]:
    """The three hours columns of every row, and one warning per unreadable cell.

    A plain loop: a few thousand rows, and the parsing is ``datetime`` work Polars cannot do.
    A row with an unreadable cell gets no hours at all (a partial week would understate them).
    """
    rows, warnings = [], []
    for record in frame.select(LINE_COLUMN, *HOURS_COLUMNS).iter_rows(named=True):
        cells = {c: record[c] for c in HOURS_COLUMNS}
        try:
            hours, days, summary = weekly_hours(cells)
        except HoursError:
            for column, text in cells.items():
                try:
                    day_slots(text)
                except HoursError as exc:
                    warnings.append(
                        f"{where}, ligne {record[LINE_COLUMN]}, colonne « {column} » : {exc} "
                        "— heures d'ouverture du site laissées vides"
                    )
            hours, days, summary = None, None, None
        rows.append((summary, None if hours is None else f"{hours:g}", None if days is None else str(days)))
    return pl.DataFrame(rows, schema={c: pl.String for c in _HOURS_OUT}, orient="row"), warnings


def read_anct_list(data: bytes, file_name: str, catalogue: Catalogue) -> tuple[RawTable, list[str]]:
    """The list as a ``sites`` RawTable of text cells, plus warnings on unreadable opening hours.

    Accepts UTF-8 (with or without BOM) or cp1252, ``,`` or ``;``. Raises :class:`ReadError` when
    the file cannot be parsed or lacks the list's columns. The frame's columns are ``_ligne`` (line
    where the record starts in the file) then the ``sites`` columns in catalogue order; ``porteur``
    is ``LA_POSTE`` for La Poste structures and empty otherwise (the list does not say), as are the
    columns the list does not carry (``date_fermeture``, ``ancienne_msap``, ``heberge_etat``).
    """
    table = catalogue.table("sites")
    frame = _read_frame(data, file_name)
    _check_shape(frame, file_name)
    hours, warnings = _hours(frame, file_name)
    la_poste = _text("lib_fs").str.contains(LA_POSTE_PATTERN).fill_null(False)
    none = pl.lit(None, pl.String)
    values = {
        "site_id": _text("id_fs"),
        "nom": _text("lib_fs"),
        "code_commune": _code("insee_com", 5),
        "departement": _code("insee_dep", 2),
        "format": _lookup(frame, "format_fs", FORMAT_CODES),
        "type_site": _lookup(frame, "type_fs", TYPE_CODES),
        "porteur": pl.when(la_poste).then(pl.lit("LA_POSTE")).otherwise(none),
        "la_poste": pl.when(la_poste).then(pl.lit("oui")).otherwise(pl.lit("non")),
        "date_labellisation": _label_date("labellisation_fs"),
        "date_fermeture": none,
        "latitude": _decimal("latitude"),
        "longitude": _decimal("longitude"),
        "ancienne_msap": none,
        "heberge_etat": none,
        "adresse": _address(frame),
        "code_postal": _code("code_postal", 5) if "code_postal" in frame.columns else none,
    }
    unknown = [c.code for c in table.columns if c.code not in values and c.code not in _HOURS_OUT]
    if unknown:  # the catalogue gained a column this reader does not know yet: left empty
        values |= {code: none for code in unknown}
    out = pl.concat([frame, hours], how="horizontal").select(
        LINE_COLUMN, *[(values[c.code] if c.code in values else pl.col(c.code)).alias(c.code) for c in table.columns]
    )
    used = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    ignored = [c for c in frame.columns if c not in used and c != LINE_COLUMN]
    return RawTable(file_name, table, out, ignored_columns=ignored), warnings
