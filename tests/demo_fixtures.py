"""Session fixtures: the full demo warehouse, built once through the real ingest path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

#: A fixed day, so the demo's last quarter (2026 T3) and its figures never drift with the clock.
DEMO_TODAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="session")
def demo_today() -> dt.date:
    return DEMO_TODAY


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fsdash.demo.build import build_demo

    path = tmp_path_factory.mktemp("demo") / "fsdash.duckdb"
    build_demo(path, seed=2019, today=DEMO_TODAY)
    return path
