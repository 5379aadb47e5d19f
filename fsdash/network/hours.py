"""Opening hours as published in the ANCT list, read into slots, hours and open days.

The charter (engagement 2.4) asks every France Services to open at least 24 hours a week over
five working days, so the registry keeps, per site, the published hours, their weekly total and
the number of open days. The list gives one cell per day (``h_lundi`` … ``h_samedi``) such as
``"09:00 - 12:00 / 14:00 - 17:00"``; this module turns those cells into numbers.

What the published cells really hold, and how it is read:

* an empty cell, or ``"00:00 - 00:00"``, is a closed day; a ``00:00 - 00:00`` slot next to real
  ones (``"00:00 - 00:00 / 09:00 - 12:00"``) is a placeholder left by the publication form and
  is ignored;
* the same slot is sometimes written twice, and slots overlap (``"09:00 - 16:00 / 13:00 -
  16:00"``: a structure that publishes one line per place or per service): a day's hours are the
  length of the *union* of its slots, never the plain sum, which would count the same hour twice;
* people retyping the list write ``9h00-12h00``, ``09h-12h``, ``09:00-12:00``, separate slots with
  ``;`` or ``,`` and add spaces: all are read the same way.

Anything else is refused with a :class:`HoursError` (a ``ValueError``) quoting the cell, so that
the importer can report the line and column instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import re

#: Day of the week -> short French label used in summaries, in week order.
DAY_LABELS: dict[str, str] = {
    "lundi": "lun.",
    "mardi": "mar.",
    "mercredi": "mer.",
    "jeudi": "jeu.",
    "vendredi": "ven.",
    "samedi": "sam.",
    "dimanche": "dim.",
}

_MIDNIGHT = dt.time(0, 0)
# Arbitrary day on which times are placed to measure slots with ``datetime`` arithmetic.
_DAY = dt.date(2000, 1, 3)

# Between slots: "/" as published, ";" or "," as retyped, or the word "et".
_SLOT_SEPARATOR = re.compile(r"\s*(?:[/;,]|\bet\b)\s*", re.IGNORECASE)
# Between the start and the end of a slot: a hyphen or dash, or the word "à".
_RANGE_SEPARATOR = re.compile(r"\s*(?:-|–|—|\bà\b)\s*", re.IGNORECASE)
# Time spellings accepted by ``strptime`` once spaces are removed and the text lower-cased.
_TIME_FORMATS = ("%H:%M", "%Hh%M", "%Hh", "%H")

_EXPECTED = "forme attendue « 09:00 - 12:00 / 14:00 - 17:00 »"


class HoursError(ValueError):
    """An opening-hours cell that cannot be read; ``day`` is the cell's key when known."""

    def __init__(self, message: str, day: str | None = None):
        super().__init__(message)
        self.day = day


def _parse_time(text: str, cell: str) -> dt.time:
    """One time of day, ``strptime`` doing the checking (``25:00`` or ``9h75`` are refused).

    ``24:00`` (``24h``) is accepted as the end of the day and returned as midnight.
    """
    compact = re.sub(r"\s+", "", text).lower()
    if compact in ("24:00", "24h00", "24h", "24"):
        return _MIDNIGHT
    for fmt in _TIME_FORMATS:
        try:
            return dt.datetime.strptime(compact, fmt).time()
        except ValueError:
            continue
    raise HoursError(f"horaires « {cell} » illisibles : heure « {text} » inconnue ({_EXPECTED})")


def _span(start: dt.time, end: dt.time) -> tuple[dt.datetime, dt.datetime]:
    """The slot placed on a calendar day; an end at midnight closes the day (``18:00 - 00:00``)."""
    begin = dt.datetime.combine(_DAY, start)
    finish = dt.datetime.combine(_DAY, end)
    if end == _MIDNIGHT and start != _MIDNIGHT:
        finish += dt.timedelta(days=1)
    return begin, finish


def _raw_slots(text: str) -> list[tuple[dt.time, dt.time]]:
    """Every slot written in the cell, placeholders included, in the order written."""
    slots = []
    for part in _SLOT_SEPARATOR.split(text.strip()):
        if not part:
            continue
        bounds = _RANGE_SEPARATOR.split(part)
        if len(bounds) != 2 or not all(bounds):
            raise HoursError(f"horaires « {text} » illisibles : plage « {part} » sans début et fin ({_EXPECTED})")
        start, end = (_parse_time(bound, text) for bound in bounds)
        slots.append((start, end))
    return slots


def day_slots(text: str | None) -> list[tuple[dt.time, dt.time]]:
    """The opening slots of one day, sorted, placeholders removed, overlaps merged.

    Merging matters for the totals: the list repeats slots (``08:30 - 11:30 / 08:30 - 11:30``)
    and overlaps them, and a day is open for the union of its slots. An empty cell, or only
    ``00:00 - 00:00``, gives ``[]`` (closed). A slot ending before it starts, or of zero length
    other than the ``00:00`` placeholder, is refused: it is a typing error, not a closed day.
    """
    if text is None or not text.strip():
        return []
    spans = []
    for start, end in _raw_slots(text):
        if start == end == _MIDNIGHT:
            continue  # placeholder of the publication form
        begin, finish = _span(start, end)
        if finish <= begin:
            raise HoursError(
                f"horaires « {text} » illisibles : la plage {start:%H:%M} - {end:%H:%M} "
                f"se termine avant de commencer ({_EXPECTED})"
            )
        spans.append((begin, finish))
    merged: list[list[dt.datetime]] = []
    for begin, finish in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], finish)
        else:
            merged.append([begin, finish])
    return [(begin.time(), finish.time()) for begin, finish in merged]


def _duration(slots: list[tuple[dt.time, dt.time]]) -> dt.timedelta:
    total = dt.timedelta()
    for start, end in slots:
        begin, finish = _span(start, end)
        total += finish - begin
    return total


def _day_name(key: str) -> str:
    """``h_lundi``, ``Lundi`` or ``lun`` -> ``lundi``: the list's column names are accepted as keys."""
    name = key.strip().lower()
    name = name.removeprefix("h_")
    for day in DAY_LABELS:
        if len(name) >= 3 and day.startswith(name.rstrip(".")):
            return day
    raise HoursError(f"jour « {key} » inconnu (lundi … dimanche attendu)", key)


def format_slots(slots: list[tuple[dt.time, dt.time]]) -> str:
    """``09:00-12:00 14:00-17:00``: the compact form used in the registry's summary."""
    return " ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in slots)


def weekly_hours(cells: dict[str, str | None]) -> tuple[float | None, int | None, str | None]:
    """(hours per week, open days, summary) of one site from its day cells.

    ``cells`` maps a day (``h_lundi``, ``lundi``…) to its cell. The summary lists the open days in
    week order: ``"lun. 09:00-12:00 14:00-17:00 ; mar. 09:00-12:00"``. Hours are rounded to the
    hundredth (the cells are in minutes). When no day has any hours the site publishes none,
    which is not the same as being closed all week: ``(None, None, None)`` is returned so that
    the registry shows the figures as unknown rather than as 0 h over 0 days.

    Raises :class:`HoursError` for the first unreadable cell, with ``day`` set to its key.
    """
    days: list[tuple[int, str, list[tuple[dt.time, dt.time]]]] = []
    order = list(DAY_LABELS)
    for key, text in cells.items():
        day = _day_name(key)
        try:
            slots = day_slots(text)
        except HoursError as exc:
            raise HoursError(str(exc), key) from exc
        days.append((order.index(day), day, slots))
    open_days = [(index, day, slots) for index, day, slots in sorted(days) if slots]
    if not open_days:
        return None, None, None
    total = sum((_duration(slots) for _, _, slots in open_days), dt.timedelta())
    hours = round(total.total_seconds() / 3600, 2)
    summary = " ; ".join(f"{DAY_LABELS[day]} {format_slots(slots)}" for _, day, slots in open_days)
    return hours, len(open_days), summary
