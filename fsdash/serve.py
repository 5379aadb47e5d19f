"""Start the dashboard: ``python -m fsdash serve`` (what ``make run`` calls).

It is ``streamlit run app.py`` with one difference. Streamlit still treats a folder named
``pages/`` beside the entry script as legacy auto-discovered pages until the first script run
calls ``st.navigation``; a link to a sub-page opened as the very first request after a start
would then run that page alone, without the frame (the routes table, the shared filters) and
with a « page not found » dialog. The design keeps its pages in ``pages/`` and declares them
with ``st.navigation``, so the legacy detection is switched off before the server starts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def serve(port: int = 8501, address: str | None = None, extra: list[str] | None = None) -> int:
    # One OpenMP thread per library call: the server's sessions are the parallelism, and numerical
    # libraries spinning threads per call fight them for the cores (docs/deploiement.md).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    argv = ["streamlit", "run", str(APP), "--server.port", str(port)]
    if address:
        argv += ["--server.address", address]
    sys.argv = argv + (extra or [])
    try:
        cli.main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
