"""Loading files sent from the browser: the write side of the Chargements et qualité page.

The dashboard's read side never imports the ingest, the validation or Pandera (slow imports, and
a reader has no business writing); the page imports this module inside its button's handler,
only when someone actually loads files.
"""

from __future__ import annotations

from pathlib import Path

from fsdash.identity import Identity
from fsdash.warehouse.ingest import IngestRefused, ingest_blobs, report_lines
from fsdash.warehouse.store import default_db_path, writer


class LoadForbidden(PermissionError):
    """Someone whose role does not load files asked to load (the page offers them no uploader)."""


def load_files(blobs: list[tuple[str, bytes]], path: Path | None, who: Identity) -> tuple[int, list[str]]:
    """Load uploaded files through the same ingest as the command line: (exit code, French report).

    Only the programme team loads (:attr:`Identity.can_load`, checked here as well as by the page);
    the signed-in e-mail (``local:<user>`` in local mode) is recorded on every batch.

    Uploaded files are real data: into a demo warehouse they are refused rather than mixed with
    synthetic data. The load publishes a new warehouse version, which every cached answer is
    keyed on: the next read sees the new figures.
    """
    if not who.can_load:
        raise LoadForbidden(f"{who.email} : seule l'équipe du programme charge des fichiers.")
    try:
        with writer(path or default_db_path()) as con:
            result = ingest_blobs(con, blobs, nature="reel", loaded_by=who.loader)
    except IngestRefused as exc:
        return 2, exc.messages
    return result.exit_code, report_lines(result)
