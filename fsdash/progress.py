"""Telling a person at a terminal how a long command goes (a ten-year backfill takes a minute).

A load reports its steps as short French sentences (:func:`fsdash.warehouse.ingest.ingest_blobs`'s
``progress``). On a terminal they rewrite one status line in place, as ``rich`` or ``tqdm`` do; into
a file or a pipe (a scheduled job's log) each is a plain line. Either way each step says how long
the command has run, on standard error, so that standard output keeps only the report.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from fsdash import formats


def elapsed_text(seconds: float) -> str:
    """How long a command has run, as every progress display says it (« 2,5 s »)."""
    return f"{formats.number(seconds, 1)} s"


class TerminalProgress:
    """A ``progress`` callback writing to ``stream`` (standard error by default)."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.clock = clock
        self.start = clock()
        self.live = self.stream.isatty()
        self.drawn = False

    def __call__(self, message: str) -> None:
        text = f"[{elapsed_text(self.clock() - self.start)}] {message}"
        if self.live:
            self.stream.write("\r\x1b[K" + text)  # back to the line's start, erase it, write
            self.drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self, message: str | None = None) -> None:
        """The last step: on a terminal the status line is closed so the report starts afresh."""
        if message:
            self(message)
        if self.live and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
