"""The load test's machinery against a real ``python -m fsdash serve``: a few sessions, no timing asserted.

What is checked: sessions speak Streamlit's protocol well enough to open pages and change a filter
(the scope really changes), nothing fails, the results have the shape the benchmark stores, the
server's memory is read, and the command line writes its JSON. How fast is for
``python -m fsdash.bench.load`` on a quiet machine (docs/deploiement.md), never for the suite.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from fsdash.bench import load

pytestmark = [pytest.mark.load, pytest.mark.slow]

#: The gate's wait is lifted so that a slow shared machine makes runs slower, never « occupé ».
PATIENT = {"FSDASH_BUSY_WAIT": "600"}


@pytest.fixture(scope="module")
def served(demo_db):
    with load.server(demo_db, env=PATIENT) as srv:
        yield srv


def test_four_sessions_open_two_pages_and_change_a_filter(served):
    plan = load.Plan(sessions=4, pages=("accueil", "frequentation"), timeout_s=300)
    result = load.run_load(served.url, plan, served.pid)
    item = result.item()
    assert item["echecs"] == 0, item["erreurs"]
    assert item["occupees"] == 0
    assert item["executions"] == item["servies"] == 8
    assert list(item["pages"]) == ["accueil", "frequentation"]
    for entry in item["pages"].values():
        assert entry[load.OPEN]["servis"] == entry[load.FILTER]["servis"] == 2
        assert 0 < entry[load.OPEN]["p50_s"] <= entry[load.OPEN]["p95_s"] <= entry[load.OPEN]["max_s"]
    assert item["ensemble"]["p95_s"] is not None
    assert all(item["rss_mo"][k] > 0 for k in ("depart", "pic", "apres", "pic_processus"))
    assert item["cpu_serveur_s"] is not None and item["cpu_par_execution_ms"] is not None
    assert "Sites labellisés ouverts" in result.figures  # the home page's tiles, read from the stream
    assert any("sessions" in line for line in result.lines())


def test_the_filter_change_really_changes_the_scope(served):
    async def scope_after_toggle() -> tuple[str, str, str]:
        async with load.Session(served.url, 300) as session:
            first = await session.run(load.url_name("accueil"), "")
            widget = first.widgets[load.SCOPE_KEY]
            state = load._toggle(widget, load.SCOPE_OPTIONS, session.sent.get(widget.id))
            changed = await session.run(widgets=[state])
            assert not changed.errors
            national = first.metrics["Sites labellisés ouverts"]
            return national, changed.metrics["Sites labellisés ouverts"], session.query_string

    national, departement, query = asyncio.run(scope_after_toggle())
    assert "perimetre=departement" in query
    assert national != departement  # a département has fewer sites than France


def test_sessions_opened_and_closed_leave_the_server_serving(served):
    result = load.churn(served.url, served.pid, sessions=4, concurrency=2, page="accueil", timeout_s=300, settle_s=0)
    item = result.item()
    assert item["echecs"] == 0, item["erreurs"]
    assert len(item["rss_mo"]["par_tranche"]) == 3  # before, then after each of the two rounds
    assert item["rss_mo"]["ecart"] is not None


def test_the_command_line_loads_a_running_server_and_writes_json(served, tmp_path, capsys):
    out = tmp_path / "charge.json"
    code = load.main(
        [
            "--url",
            served.url,
            "--pid",
            str(served.pid),
            "--sessions",
            "2",
            "--pages",
            "satisfaction,dictionnaire",
            "--sessions-fermees",
            "0",
            "--delai",
            "300",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["charge"]["servies"] == 4 and record["charge"]["echecs"] == 0
    assert "servies" in capsys.readouterr().out


def test_the_command_line_refuses_an_unknown_page_in_french(capsys):
    assert load.main(["--url", "http://127.0.0.1:9", "--pages", "inconnue"]) == 2
    assert "page inconnue" in capsys.readouterr().err
