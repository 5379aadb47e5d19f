"""Loading files sent from the browser: the write side of the Chargements et qualité page.

The dashboard's read side never imports the ingest, the validation or Pandera (slow imports, and
a reader has no business writing); the page imports this module inside its button's handler,
only when someone actually loads files.

Every file sent is checked here, on the server, before a byte of it is read as data
(:func:`refusals`): its size against Streamlit's ``server.maxUploadSize`` (the browser's limit is
not a guarantee: a client can send anything), its type by name (CSV, TXT, XLSX, Parquet, as the
uploader offers) and by content — an XLSX is a zip (``PK\\x03\\x04``), a Parquet file starts and ends
with ``PAR1``, a CSV or TXT is not a known binary format (zip, Parquet, PDF, old Excel, executable,
gzip). A refusal is said in French and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fsdash import formats
from fsdash.identity import Identity
from fsdash.warehouse.ingest import IngestRefused, ingest_blobs, report_lines
from fsdash.warehouse.store import default_db_path, writer

#: File types the uploader offers (the page's ``type=`` list is this, in lower case, without dots).
ACCEPTED_TYPES = ("csv", "txt", "xlsx", "parquet")
ZIP_SIGNATURE = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"
#: Beginnings of binary formats a text file (CSV, TXT) never has.
BINARY_SIGNATURES = {
    ZIP_SIGNATURE: "archive zip (XLSX, DOCX…)",
    PARQUET_MAGIC: "Parquet",
    b"%PDF": "PDF",
    b"\xd0\xcf\x11\xe0": "ancien format Excel ou Word (XLS, DOC)",
    b"\x7fELF": "exécutable",
    b"MZ": "exécutable",
    b"\x1f\x8b": "archive gzip",
}
_MB = 1024 * 1024


def _size_text(size: int) -> str:
    return f"{formats.number(size / _MB, 1)} Mo"


def refusal(name: str, data: bytes, limit: int) -> str | None:
    """Why one uploaded file is refused (French), or None when it may be read."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if len(data) > limit:
        return (
            f"« {name} » refusé : {_size_text(len(data))}, au-delà de la taille maximale de "
            f"{formats.number(limit // _MB)} Mo."
        )
    if suffix not in ACCEPTED_TYPES:
        return f"« {name} » refusé : type de fichier non accepté (CSV, TXT, XLSX ou Parquet)."
    if not data:
        return f"« {name} » refusé : le fichier est vide."
    if suffix == "xlsx" and not data.startswith(ZIP_SIGNATURE):
        return f"« {name} » refusé : ce n'est pas un classeur XLSX (le contenu ne commence pas comme un fichier Excel)."
    if suffix == "parquet" and not (len(data) >= 8 and data.startswith(PARQUET_MAGIC) and data.endswith(PARQUET_MAGIC)):
        return f"« {name} » refusé : ce n'est pas un fichier Parquet complet (signature PAR1 absente)."
    if suffix in ("csv", "txt"):
        found = next((label for sig, label in BINARY_SIGNATURES.items() if data.startswith(sig)), None)
        if found is not None:
            return f"« {name} » refusé : le contenu est un fichier {found}, pas un texte CSV."
    return None


def refusals(blobs: list[tuple[str, bytes]], limit: int) -> list[str]:
    """The French refusals of the files sent (empty: every file may be read); ``limit`` in bytes, the
    server's ``server.maxUploadSize`` as the frame reads it (:func:`fsdash.ui.max_upload_bytes`)."""
    return [r for name, data in blobs if (r := refusal(name, data, limit)) is not None]


class LoadForbidden(PermissionError):
    """Someone whose role does not load files asked to load (the page offers them no uploader)."""


def load_files(
    blobs: list[tuple[str, bytes]],
    path: Path | None,
    who: Identity,
    limit: int,
    progress: Callable[[str], None] = lambda _message: None,
) -> tuple[int, list[str]]:
    """Load uploaded files through the same ingest as the command line: (exit code, French report).

    Only the programme team loads (:attr:`Identity.can_load`, checked here as well as by the page);
    the signed-in e-mail (``local:<user>`` in local mode) is recorded on every batch.

    Files are checked first (:func:`refusals`, ``limit`` in bytes): one refused file and none is read.
    ``progress`` is told each step of the load in French, as the command line's progress line is.

    Uploaded files are real data: into a demo warehouse they are refused rather than mixed with
    synthetic data. The load publishes a new warehouse version, which every cached answer is
    keyed on: the next read sees the new figures.
    """
    if not who.can_load:
        raise LoadForbidden(f"{who.email} : seule l'équipe du programme charge des fichiers.")
    if refused := refusals(blobs, limit):
        return 2, [*refused, "Aucun fichier n'a été lu : retirez ou corrigez les fichiers refusés."]
    try:
        with writer(path or default_db_path()) as con:
            result = ingest_blobs(con, blobs, nature="reel", loaded_by=who.loader, progress=progress)
    except IngestRefused as exc:
        return 2, exc.messages
    return result.exit_code, report_lines(result)
