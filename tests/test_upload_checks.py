"""Uploaded files are checked on the server before anything is read: size (Streamlit's
``server.maxUploadSize``), type by name and by content signature; refusals in French, nothing written."""

from __future__ import annotations

import io

import polars as pl
import pytest

from fsdash.identity import Identity
from fsdash.ui import max_upload_bytes
from fsdash.upload import ACCEPTED_TYPES, load_files, refusal, refusals
from fsdash.warehouse.store import reader

from conftest import ACTIVITE_HEADER, ACTIVITE_ROWS, csv_bytes

PROGRAMME = Identity("equipe@anct.gouv.fr", "Équipe", "programme")
MB = 1024 * 1024


def _parquet() -> bytes:
    out = io.BytesIO()
    pl.DataFrame({"site_id": ["FS001"]}).write_parquet(out)
    return out.getvalue()


def _xlsx() -> bytes:
    out = io.BytesIO()
    pl.DataFrame({"site_id": ["FS001"]}).write_excel(out)
    return out.getvalue()


def test_the_limit_is_streamlits_max_upload_size():
    from streamlit import config

    assert max_upload_bytes() == config.get_option("server.maxUploadSize") * MB
    assert ACCEPTED_TYPES == ("csv", "txt", "xlsx", "parquet")


def test_real_files_of_every_accepted_type_pass():
    text = csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS)
    utf16 = "site_id;annee\r\nFS001;2024\r\n".encode("utf-16")  # NUL bytes: still a text file
    files = [("a.csv", text), ("b.TXT", utf16), ("c.xlsx", _xlsx()), ("d.parquet", _parquet())]
    assert refusals(files, max_upload_bytes()) == []


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("gros.csv", b"a;b\n" * (MB // 4 + 1), "au-delà de la taille maximale de 1 Mo"),
        ("notes.docx", b"PK\x03\x04rest", "type de fichier non accepté (CSV, TXT, XLSX ou Parquet)"),
        ("sans_extension", b"a;b\n", "type de fichier non accepté"),
        ("vide.csv", b"", "le fichier est vide"),
        ("faux.xlsx", b"site_id;annee\n", "ce n'est pas un classeur XLSX"),
        ("faux.parquet", b"site_id;annee\n", "signature PAR1 absente"),
        ("tronque.parquet", b"PAR1" + b"\x00" * 20, "signature PAR1 absente"),
        ("classeur.csv", b"PK\x03\x04" + b"\x00" * 20, "le contenu est un fichier archive zip"),
        ("rapport.txt", b"%PDF-1.7\n", "le contenu est un fichier PDF"),
        ("ancien.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ancien format Excel"),
        ("programme.csv", b"MZ\x90\x00", "exécutable"),
    ],
)
def test_each_refusal_names_the_file_and_says_why_in_french(name, data, words):
    said = refusal(name, data, 1 * MB)
    assert said is not None and said.startswith(f"« {name} » refusé : ") and words in said


def test_a_refused_file_stops_the_whole_load_before_anything_is_written(loaded_db):
    with reader(loaded_db) as con:
        before = con.execute("SELECT count(*) FROM batches").fetchone()[0]
    good = ("activite.csv", csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS))
    code, lines = load_files([good, ("classeur.xlsx", b"site_id;annee\n")], loaded_db, PROGRAMME, max_upload_bytes())
    assert code == 2
    assert lines[0].startswith("« classeur.xlsx » refusé : ce n'est pas un classeur XLSX")
    assert lines[-1] == "Aucun fichier n'a été lu : retirez ou corrigez les fichiers refusés."
    with reader(loaded_db) as con:
        assert con.execute("SELECT count(*) FROM batches").fetchone()[0] == before
