"""Colours for every surface, read from ``.streamlit/config.toml`` (the one place they are written).

Streamlit reads that file for its own widgets; Altair charts and pydeck maps take their colours
from here, so the three never disagree.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml"


@functools.cache
def theme() -> dict:
    with open(CONFIG, "rb") as fh:
        return tomllib.load(fh)["theme"]


def color(name: str) -> str:
    """``primary``, ``red``, ``text``, ``background``, ``grey`` (secondary background)."""
    keys = {
        "primary": "primaryColor",
        "red": "redColor",
        "text": "textColor",
        "background": "backgroundColor",
        "grey": "secondaryBackgroundColor",
    }
    return theme()[keys[name]]


def categorical() -> list[str]:
    return list(theme()["chartCategoricalColors"])


def sequential() -> list[str]:
    return list(theme()["chartSequentialColors"])


def rgb(hex_color: str, alpha: int = 255) -> list[int]:
    """``#000091`` -> ``[0, 0, 145, 255]`` for pydeck layers."""
    value = hex_color.lstrip("#")
    return [int(value[i : i + 2], 16) for i in (0, 2, 4)] + [alpha]
