"""What the browser tests share: Debian's Chromium driven by Playwright, a free port, and a
server waited for on its health check (never ``playwright install``: no download at run time)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from fsdash.bench.browser import CHROMIUM_ARGS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_served(proc: subprocess.Popen, url: str, timeout_s: float = 60) -> None:
    """Return once ``url`` answers its health check; fail the test with the server's last words."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail("streamlit did not start: " + proc.stderr.read().decode()[-2000:])


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=20)


def chromium() -> Iterator:
    """A headless Debian Chromium for one module (skipped when Chromium is not installed)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium absent (make test l'installe avec apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
