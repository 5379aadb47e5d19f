"""Reading a user's file into text frames, one per catalogue table it holds.

Sites and departments save their reports from many tools: French Excel writes cp1252 with
``;``, other tools write a UTF-8 BOM or UTF-16, some send XLSX or Parquet. Everything is read as
text here so that parsing errors can be reported by the validator with their line and column,
instead of being guessed away by a reader.

This is the one reader of every tabular input (reporting feed, site lists, official series):

* the encoding is detected and may fail — UTF-8 (BOM or not), UTF-16 (BOM or the NUL pattern of
  its ASCII text), Windows-1252; nothing else. Latin-1 decodes any bytes, so it is never tried: a
  file none of these decode, or whose text is mostly control characters, or that starts with the
  signature of a binary format, is refused naming what was tried or found;
* every row carries the file's physical line (``_ligne``), also after quoted cells spanning
  several lines, and an Excel sheet's row number;
* blank rows (every cell empty, Excel's ``;;;;``) are dropped, not rejected; control characters
  (NUL…) are stripped from the text;
* two headers naming the same column are refused, naming both;
* a workbook is one table per sheet; hidden sheets are ignored and said so (:attr:`RawTable.notes`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fsdash.catalogue import Catalogue, Table

LINE_COLUMN = "_ligne"
"""Column added to every frame: the line of the source file (header is line 1)."""

ENCODING_NAMES = {
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "cp1252": "Windows-1252",
}
TRIED = "UTF-8, UTF-16, Windows-1252"

#: Control characters other than tab, line feed and carriage return.
CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32), 127])
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_CHARS = [chr(byte) for byte in CONTROL_BYTES]
#: A text whose characters are more than this share of control characters is not text.
MAX_CONTROL_SHARE = 0.01

#: Signatures of binary formats someone may send instead of a table (or rename as one).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "un classeur XLSX ou une archive ZIP"),
    (b"\xd0\xcf\x11\xe0", "un document Office ancien (.xls, .doc)"),
    (b"PAR1", "un fichier Parquet"),
    (b"%PDF", "un document PDF"),
    (b"\x89PNG", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
    (b"GIF8", "une image GIF"),
    (b"\x1f\x8b", "une archive gzip"),
    (b"7z\xbc\xaf", "une archive 7-Zip"),
    (b"Rar!", "une archive RAR"),
    (b"SQLite format 3", "une base SQLite"),
    (b"\x7fELF", "un programme"),
    (b"MZ", "un programme Windows"),
)
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
CSV_SUFFIXES = (".csv", ".txt", ".tsv", "")


class ReadError(Exception):
    """A file that cannot be read at all: it is refused whole, with a French message."""


@dataclass
class RawTable:
    """One table found in a file: its cells (text, or typed as a Parquet file has them) plus the
    source line of each row."""

    file_name: str
    table: Table
    frame: pl.DataFrame
    sheet: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    #: What the reader did that the report must say (hidden sheets ignored…), in French.
    notes: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.file_name}, feuille « {self.sheet} »" if self.sheet else self.file_name


def normalise_header(name: str) -> str:
    """'Usagers accueillis ' -> 'usagers_accueillis': headers retyped in Excel still match."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text.strip().lower())
    return text.strip("_")


# --- bytes to text ---------------------------------------------------------------------------


def _binary_kind(data: bytes) -> str | None:
    return next((what for signature, what in SIGNATURES if data.startswith(signature)), None)


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the bytes have UTF-16's NUL pattern (ASCII text: one byte in two
    is NUL, always at the same parity); None otherwise."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    half = len(sample) // 2
    even = sample[0::2].count(0) / half
    odd = sample[1::2].count(0) / half
    if odd > 0.4 and even < 0.05:
        return "utf-16-le"
    if even > 0.4 and odd < 0.05:
        return "utf-16-be"
    return None


def _utf16(data: bytes) -> str | None:
    """The UTF-16 codec of bytes with its BOM or its NUL pattern, else None."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return _utf16_without_bom(data)


def _too_many_controls(controls: int, length: int, encoding: str, file_name: str) -> None:
    if controls > MAX_CONTROL_SHARE * max(length, 1):
        raise ReadError(
            f"{file_name} : contenu illisible, {controls} caractères de contrôle sur {length} une fois décodé en "
            f"{ENCODING_NAMES[encoding]} : ce n'est pas un fichier texte (encodages essayés : {TRIED})"
        )


def _decode(data: bytes, file_name: str) -> tuple[str, str, bytes | None]:
    """(text, encoding, the bytes without control characters when they are single-byte or UTF-8)."""
    utf16 = _utf16(data)
    if utf16:
        try:
            text = data.decode(utf16).removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise ReadError(
                f"{file_name} : fichier UTF-16 illisible à l'octet {exc.start} (encodages essayés : {TRIED})"
            ) from exc
        controls = len(_CONTROL.findall(text)) if _CONTROL.search(text) else 0
        _too_many_controls(controls, len(text), utf16, file_name)
        return (_CONTROL.sub("", text) if controls else text), utf16, None
    kind = _binary_kind(data)
    if kind:
        raise ReadError(f"{file_name} : ce fichier est {kind}, pas un tableau CSV (contenu binaire)")
    # Control characters are ASCII: removed from the bytes, they are removed from the text in
    # either encoding (one pass of ``bytes.translate``, not a regular expression over the text).
    clean = data.translate(None, CONTROL_BYTES)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = clean.decode(encoding)
        except UnicodeDecodeError:
            continue
        _too_many_controls(len(data) - len(clean), len(text), encoding, file_name)
        return text, encoding, clean
    raise ReadError(f"{file_name} : encodage non reconnu (essayés : {TRIED}) ; enregistrez le fichier en « CSV UTF-8 »")


#: Bytes looked at at a time when a whole file is checked for text (:func:`_clean_utf8`): small
#: enough to be reused by the allocator, where a copy of a national quarter (45 Mo) costs its pages
#: afresh (11 000 page faults) each time.
CHUNK_BYTES = 262_144


def _chunks(data: bytes) -> Iterator[bytes]:
    return (data[start : start + CHUNK_BYTES] for start in range(0, len(data), CHUNK_BYTES))


def _clean_utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8 text without any control character: read as it is, with no copy of
    it made (no bytes without its controls, no decoded text), a national quarter's CSV in 35 ms
    instead of 90 ms. Any other file (UTF-16, binary, with controls, Windows-1252) is read, or
    refused, by :func:`_decode`."""
    if _utf16(data) or _binary_kind(data):
        return False
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        for chunk in _chunks(data):  # one pass: each chunk checked for controls, then decoded
            if len(chunk.translate(None, CONTROL_BYTES)) != len(chunk):
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def decode(data: bytes, file_name: str) -> tuple[str, str]:
    """Decode bytes with the encoding they are in; returns (text, encoding). Control characters
    are stripped; :class:`ReadError` (French, naming what was tried) when the bytes are not text."""
    text, encoding, _ = _decode(data, file_name)
    return text, encoding


def sniff_separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=";,\t").delimiter
    except csv.Error:
        return ";" if header.count(";") > header.count(",") else ","


# --- headers, lines and blank rows -----------------------------------------------------------


def duplicate_headers(columns: list[str]) -> str | None:
    """A French sentence naming two headers that designate the same column, or None."""
    first: dict[str, tuple[int, str]] = {}
    for position, column in enumerate(columns, start=1):
        name = normalise_header(column)
        if not name:
            continue
        if name in first:
            index, other = first[name]
            return (
                f"les colonnes « {other} » (n° {index}) et « {column} » (n° {position}) désignent toutes deux "
                f"la colonne « {name} » : supprimez ou renommez l'une des deux"
            )
        first[name] = (position, column)
    return None


def _unique_headers(columns: list[str]) -> dict[str, str]:
    """Normalised names, suffixed when two headers collapse to one (documentation sheets only:
    a table with two such headers is refused, see :func:`duplicate_headers`)."""
    seen: dict[str, int] = {}
    out = {}
    for column in columns:
        name = normalise_header(column) or "colonne"
        seen[name] = seen.get(name, 0) + 1
        out[column] = name if seen[name] == 1 else f"{name}_{seen[name]}"
    return out


def _with_lines(frame: pl.DataFrame, first_line: int = 2) -> pl.DataFrame:
    frame = frame.rename(_unique_headers(frame.columns))
    return frame.with_row_index(LINE_COLUMN, offset=first_line).with_columns(pl.col(LINE_COLUMN).cast(pl.Int64))


def drop_blank_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` without its rows whose every cell is empty or blank (``frame`` itself when none is:
    a national quarter is not copied). A row of short cells only is looked at more closely."""
    cells = [c for c in frame.columns if c != LINE_COLUMN]
    if not cells or frame.is_empty():
        return frame
    text = [c for c in cells if frame.schema[c] == pl.String]
    short = pl.all_horizontal(
        pl.col(c).is_null() | (pl.col(c).str.len_bytes() <= 8) if c in text else pl.col(c).is_null() for c in cells
    )
    if not frame.select(short.any()).item():
        return frame
    blank = pl.all_horizontal(
        (pl.col(c).str.strip_chars().fill_null("") == "") if c in text else pl.col(c).is_null() for c in cells
    )
    return frame.filter(~blank) if frame.select(blank.any()).item() else frame


def _strip_controls(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells without control characters (a Parquet file or a sheet may hold NUL bytes)."""
    text = [c for c in frame.columns if frame.schema[c] == pl.String]
    if not text:
        return frame
    # looked for among each column's distinct values: a national quarter's text columns hold a few
    # thousand (three times faster than a regular expression over its 700 000 rows)
    found = frame.select(pl.any_horizontal(pl.col(c).unique().str.contains_any(_CONTROL_CHARS).any() for c in text))
    if not found.item():
        return frame
    return frame.with_columns(pl.col(c).str.replace_all(_CONTROL.pattern, "") for c in text)


def _record_lines(text: str, separator: str) -> list[int]:
    """Line of the file where each data record starts (header = line 1).

    A record spans several lines when a quoted field holds newlines (addresses, comments), so the
    line is not the record's index + 2: the ``csv`` module, which reads records the way Polars
    does, counts the lines consumed so far.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"')
    starts, next_line = [], 1
    for index, _ in enumerate(reader):
        if index > 0:
            starts.append(next_line)
        next_line = reader.line_num + 1
    return starts


def _physical_lines(content: str | bytes) -> int:
    """Lines of a file's text, or of its bytes in an encoding where a newline is the byte ``\\n``."""
    newline = b"\n" if isinstance(content, bytes) else "\n"
    return content.count(newline) + (0 if content.endswith(newline) else 1)


def _csv_problem(text: str, separator: str, width: int) -> str:
    """Where and why a CSV that Polars could not read is broken, in French."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"')
    start = 1
    try:
        for index, record in enumerate(reader):
            if index and len(record) > width:
                return (
                    f"ligne {start} : {len(record)} cellules alors que l'en-tête en a {width} "
                    f"(séparateur « {separator} » ; un « {separator} » en trop ou une cellule à mettre entre guillemets ?)"
                )
            if any(cell.count("\n") > 50 for cell in record):
                return f"ligne {start} : guillemet ouvert et jamais refermé"
            start = reader.line_num + 1
    except csv.Error:
        return f"ligne {start} : guillemets mal placés"
    return f"lignes illisibles à partir de la ligne {start} (guillemets mal fermés ?)"


# --- CSV -------------------------------------------------------------------------------------


@dataclass
class CsvText:
    """A CSV file's table of text cells, with how it was read (said when its columns are wrong)."""

    frame: pl.DataFrame
    encoding: str
    separator: str

    @property
    def how(self) -> str | None:
        """How the file was decoded, when it was not UTF-8 (said with wrong columns: a wrong
        encoding garbles the headers)."""
        if self.encoding == "utf-8-sig":
            return None
        return f"lu en {ENCODING_NAMES[self.encoding]}, séparateur « {self.separator} »"


#: Leading bytes of a CSV file its header is looked for in (:func:`peek_bytes`).
PEEK_BYTES = 65_536


def peek_bytes(file_name: str) -> int | None:
    """How many leading bytes of a file :func:`peek_tables` needs, when not the whole file: a CSV
    file's first :data:`PEEK_BYTES`, enough when its header line ends within them (a national
    quarter is then not read whole to know which table it holds)."""
    return PEEK_BYTES if Path(file_name).suffix.lower() in CSV_SUFFIXES else None


def _header_text(data: bytes, file_name: str) -> tuple[str, str]:
    """The first line of a CSV file, decoded (only that line, unless the file is UTF-16)."""
    head = data[:PEEK_BYTES]
    if _utf16(head):
        text, encoding, _ = _decode(head[: len(head) // 2 * 2], file_name)
        return text.split("\n", 1)[0], encoding
    text, encoding, _ = _decode(data.split(b"\n", 1)[0], file_name)
    return text, encoding


#: Characters of a CSV file in which its header is looked for (sniffed and parsed): the whole
#: file's text is not copied for one line.
HEADER_CHARS = 1_000_000


def read_csv(data: bytes, file_name: str, *, header_only: bool = False) -> CsvText:
    """A CSV file as text cells, every row with its physical line, blank rows dropped; with
    ``header_only``, its columns and no row (what a load needs to know which table a file holds
    before reading it whole). Refused (:class:`ReadError`, French) when it cannot be read."""
    if header_only:
        text, encoding = _header_text(data, file_name)
        clean = None
    elif _clean_utf8(data):
        # only the head decoded: the check of emptiness below sees whitespace only when the
        # head is whitespace only, and then the whole text is decoded to tell
        text, encoding, clean = data[:HEADER_CHARS].decode("utf-8-sig", errors="ignore"), "utf-8-sig", data
        if text.isspace() and len(data) > HEADER_CHARS:
            text = data.decode("utf-8-sig")
    else:
        text, encoding, clean = _decode(data, file_name)
    if not text or text.isspace():  # not ``strip()``: a copy of a national quarter's text for one test
        raise ReadError(f"{file_name} : fichier vide, aucune ligne à charger")
    head = text[:HEADER_CHARS]
    separator = sniff_separator(head)
    header = next(csv.reader(io.StringIO(head, newline=""), delimiter=separator, quotechar='"'), [])
    duplicate = duplicate_headers(header)
    if duplicate:
        raise ReadError(f"{file_name}, ligne 1 : {duplicate}")
    # UTF-8 goes to Polars as the bytes it is (Polars skips the BOM; no Python string re-encoded or
    # copied on the way) and its text is let go; any other encoding is read from its decoded text.
    source: str | bytes = text
    if clean is not None and encoding == "utf-8-sig":
        source, text = clean, None
    try:
        frame = pl.read_csv(
            io.StringIO(source) if isinstance(source, str) else source,
            separator=separator,
            infer_schema=False,
            empty_string_is_null=True,
            truncate_ragged_lines=False,
            n_rows=0 if header_only else None,
        )
    except pl.exceptions.PolarsError as exc:
        raise ReadError(f"{file_name} : {_structure_problem(source, separator, len(header))}") from exc
    frame = _with_lines(frame)
    if not header_only and _physical_lines(source) != frame.height + 1:
        # quoted cells spanning several lines: each record's line counted by the csv module
        lines = _record_lines(_as_text(source), separator)
        if len(lines) != frame.height:
            raise ReadError(f"{file_name} : {_structure_problem(source, separator, len(header))}")
        frame = frame.with_columns(pl.Series(LINE_COLUMN, lines, dtype=pl.Int64))
    del text, source
    return CsvText(drop_blank_rows(frame), encoding, separator)


def _as_text(source: str | bytes) -> str:
    """A CSV's text, decoded again from its UTF-8 bytes when only they were kept."""
    return source if isinstance(source, str) else source.decode("utf-8-sig")


def _structure_problem(source: str | bytes, separator: str, width: int) -> str:
    return f"structure CSV illisible, {_csv_problem(_as_text(source), separator, width)}"


def read_csv_text(data: bytes, file_name: str, *, header_only: bool = False) -> pl.DataFrame:
    """:func:`read_csv`'s frame."""
    return read_csv(data, file_name, header_only=header_only).frame


# --- workbooks -------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One visible sheet: its header cells as written and its rows (``_ligne`` = the sheet's row)."""

    name: str
    headers: list[str]
    frame: pl.DataFrame


def _sheet_frame(cells: pl.DataFrame) -> tuple[list[str], pl.DataFrame]:
    """A sheet loaded without header from its first row: the header is its first non-empty row."""
    cells = cells.with_row_index(LINE_COLUMN, offset=1).with_columns(pl.col(LINE_COLUMN).cast(pl.Int64))
    values = [c for c in cells.columns if c != LINE_COLUMN]
    filled = cells.filter(pl.any_horizontal(pl.col(values).is_not_null()))
    if filled.is_empty():
        return [], pl.DataFrame(schema={LINE_COLUMN: pl.Int64})
    header_line = filled[LINE_COLUMN][0]
    header_row = filled.row(0, named=True)
    keep = [c for c in values if header_row[c] is not None and str(header_row[c]).strip()]
    headers = [str(header_row[c]).strip() for c in keep]
    rows = cells.filter(pl.col(LINE_COLUMN) > header_line).select(LINE_COLUMN, *keep)
    names = _unique_headers(headers)
    rows = rows.rename({c: names[h] for c, h in zip(keep, headers, strict=True)})
    return headers, _strip_controls(drop_blank_rows(rows))


def read_workbook(data: bytes, file_name: str) -> tuple[list[Sheet], list[str]]:
    """The visible sheets of a workbook, and a French note per hidden sheet (ignored: a hidden
    sheet is where stale copies are kept, never what a site means to declare)."""
    import fastexcel

    if not data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        kind = _binary_kind(data)
        if kind is None:
            try:
                _decode(data[:4096], file_name)
                kind = "un fichier texte (un CSV renommé ?)"
            except ReadError:
                kind = "un fichier d'un autre format"
        raise ReadError(
            f"{file_name} : ce n'est pas un classeur Excel, c'est {kind} ; "
            "enregistrez-le au format XLSX, ou donnez-lui l'extension de son format"
        )
    try:
        book = fastexcel.read_excel(data)
        loaded = [
            book.load_sheet(name, header_row=None, skip_rows=0, dtypes="string", whitespace_as_null=True)
            for name in book.sheet_names
        ]
    except Exception as exc:  # the engine raises its own error types, in English
        raise ReadError(
            f"{file_name} : classeur Excel illisible (fichier abîmé, incomplet ou protégé par un mot de passe ?)"
        ) from exc
    sheets, notes = [], []
    for sheet in loaded:
        if sheet.visible != "visible":
            notes.append(
                f"{file_name}, feuille « {sheet.name} » : feuille masquée, ignorée "
                "(affichez-la dans Excel si ses lignes sont à charger)"
            )
            continue
        if sheet.width == 0:
            continue
        headers, frame = _sheet_frame(sheet.to_polars())
        if headers:
            sheets.append(Sheet(sheet.name, headers, frame))
    return sheets, notes


def read_sheets(data: bytes, file_name: str) -> dict[str, pl.DataFrame]:
    """The visible sheets of a workbook by name (hidden ones left out, see :func:`read_workbook`)."""
    return {sheet.name: sheet.frame for sheet in read_workbook(data, file_name)[0]}


# --- Parquet ---------------------------------------------------------------------------------


def read_parquet_text(data: bytes, file_name: str) -> pl.DataFrame:
    """A Parquet file with every cell as text (readers that parse text themselves)."""
    return read_parquet(data, file_name).with_columns(pl.exclude(LINE_COLUMN).cast(pl.String))


def _parquet_refused(file_name: str) -> ReadError:
    return ReadError(f"{file_name} : fichier Parquet illisible (fichier abîmé, incomplet ou d'un autre format)")


def read_parquet(data: bytes, file_name: str) -> pl.DataFrame:
    """A Parquet file with its cells as typed as the file has them: a whole-number column stays
    whole numbers, so the validator needs no text parsing (:func:`fsdash.validation.parse` reads
    as text only the cells whose type is not the column's)."""
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # Polars and Arrow raise many types, in English
        raise _parquet_refused(file_name) from exc
    duplicate = duplicate_headers(frame.columns)
    if duplicate:
        raise ReadError(f"{file_name} : {duplicate}")
    return _strip_controls(drop_blank_rows(_with_lines(frame)))


# --- tables ----------------------------------------------------------------------------------


def match_table(columns: list[str], catalogue: Catalogue, named: str | None = None) -> tuple[Table | None, list[str]]:
    """The table whose required columns are all present (most matched columns wins).

    When none fits, returns the closest table and its missing columns for the message; a sheet
    named after a table is always matched to that table.
    """
    present = set(columns)
    if named in catalogue.tables:
        table = catalogue.tables[named]
        return table, [c for c in table.required_columns if c not in present]
    best: tuple[int, Table] | None = None
    closest: tuple[int, Table, list[str]] | None = None
    for table in catalogue.tables.values():
        missing = [c for c in table.required_columns if c not in present]
        matched = sum(c.code in present for c in table.columns)
        if not missing and (best is None or matched > best[0]):
            best = (matched, table)
        if (
            closest is None
            or len(missing) < len(closest[2])
            or (len(missing) == len(closest[2]) and matched > closest[0])
        ):
            closest = (matched, table, missing)
    if best is not None:
        return best[1], []
    assert closest is not None
    return closest[1], closest[2]


def _raw_table(
    frame: pl.DataFrame, file_name: str, catalogue: Catalogue, sheet: str | None = None, how: str | None = None
) -> RawTable:
    table, missing = match_table(frame.columns, catalogue, normalise_header(sheet) if sheet else None)
    assert table is not None
    where = f"{file_name}, feuille « {sheet} »" if sheet else file_name
    if missing:
        read_as = f" ; fichier {how}" if how else ""
        raise ReadError(
            f"{where} : colonnes manquantes pour la table « {table.code} » ({table.label}) : "
            + ", ".join(missing)
            + read_as
        )
    known = {c.code for c in table.columns} | {LINE_COLUMN}
    ignored = [c for c in frame.columns if c not in known]
    return RawTable(file_name, table, frame.drop(ignored), sheet, ignored)


def _csv_table(data: bytes, file_name: str, catalogue: Catalogue, *, header_only: bool = False) -> RawTable:
    read = read_csv(data, file_name, header_only=header_only)
    return _raw_table(read.frame, file_name, catalogue, how=read.how)


def _kind(file_name: str, data: bytes) -> str:
    suffix = Path(file_name).suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    if suffix == ".parquet":
        return "parquet"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise ReadError(f"{file_name} : format non pris en charge (« {suffix} » ; CSV, XLSX ou Parquet attendu)")


def peek_tables(data: bytes, file_name: str, catalogue: Catalogue) -> tuple[list[RawTable], bool]:
    """The tables a file holds, and whether their rows were read too.

    A CSV or Parquet file is one table, recognised by its header: its rows (a national quarter is
    a million of them) are read only when the load comes to it (:func:`read_tables`), one file at
    a time. A workbook is read whole (its sheets are small and cannot be peeked at cheaply). An
    unreadable file, or one missing columns, is refused here, before anything is written."""
    kind = _kind(file_name, data)
    if kind == "parquet":
        try:
            schema = pl.read_parquet_schema(io.BytesIO(data))
        except Exception as exc:
            raise _parquet_refused(file_name) from exc
        return [_raw_table(_with_lines(pl.DataFrame(schema=schema)), file_name, catalogue)], False
    if kind == "csv":
        return [_csv_table(data, file_name, catalogue, header_only=True)], False
    return read_tables(data, file_name, catalogue), True


def read_tables(data: bytes, file_name: str, catalogue: Catalogue) -> list[RawTable]:
    """All catalogue tables found in one file.

    A workbook holds one table per sheet; sheets that are documentation (the template's
    « Lisez-moi ») are skipped when their name is not a table code and they match none; hidden
    sheets are ignored, said in the first table's :attr:`RawTable.notes`.
    """
    kind = _kind(file_name, data)
    if kind == "excel":
        sheets, notes = read_workbook(data, file_name)
        tables = []
        for sheet in sheets:
            named = normalise_header(sheet.name)
            _, missing = match_table(sheet.frame.columns, catalogue, named)
            if missing and named not in catalogue.tables:
                continue  # documentation sheets (the template's « Lisez-moi », « Listes »)
            duplicate = duplicate_headers(sheet.headers)
            if duplicate:
                raise ReadError(f"{file_name}, feuille « {sheet.name} » : {duplicate}")
            tables.append(_raw_table(sheet.frame, file_name, catalogue, sheet.name))
        if not tables:
            hidden = " (les feuilles masquées sont ignorées)" if notes else ""
            raise ReadError(f"{file_name} : aucune feuille visible ne correspond à une table du catalogue{hidden}")
        tables[0].notes.extend(notes)
        return tables
    if kind == "parquet":
        return [_raw_table(read_parquet(data, file_name), file_name, catalogue)]
    return [_csv_table(data, file_name, catalogue)]
