"""The human summary says what the warehouse holds, official series included, in French formats."""

from __future__ import annotations

from fsdash.summary import build_summary, summary_lines
from fsdash.warehouse.store import reader

from conftest import TODAY


def test_summary_lines_in_french(loaded_db):
    with reader(loaded_db) as con:
        summary = build_summary(con, today=TODAY)
    summary["official_series"] = {"IND-323": {"source": "ditp", "rows": 1320, "latest_date": "2024-07-01"}}
    text = "\n".join(summary_lines(summary))
    assert text.startswith("Données réelles — 4 sites au référentiel")
    assert "demandes 2023 : 3\u202f150" in text
    assert "Série officielle IND-323 (ditp) : 1\u202f320 valeurs, dernière mesure au 1er juillet 2024" in text
