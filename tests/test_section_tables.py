"""Table.display (fsdash.views.section): how every table reads on screen, exact strings.

One way to show numbers in tables: French digits (narrow no-break space between thousands,
decimal comma), one number of decimals per column, ``–`` for a missing value, ``oui``/``non``,
catalogue labels instead of codes — while ``Table.frame`` (the downloads) keeps typed values.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from fsdash.formats import NBSP, NNBSP
from fsdash.views.section import Column, Table, code_labels


def test_declared_kinds_read_french_with_one_number_of_decimals_per_column():
    frame = pl.DataFrame(
        {
            "Distance (km)": [1422.63, 5.0, None],
            "Population": [254436, None, 7],
            "Score": [48.94, 45.25, 3.0],
            "Part": [0.125, 1.0, None],
            "Forfait (€)": [40000, 1224000, None],
        }
    )
    table = Table(
        frame,
        (
            Column("Distance (km)", "decimal", 1),
            Column("Population", "integer"),
            Column("Score", "decimal", 1),
            Column("Part", "percent", 1),
            Column("Forfait (€)", "euros"),
        ),
    )
    assert table.display.rows() == [
        (f"1{NNBSP}422,6", f"254{NNBSP}436", "48,9", f"12,5{NBSP}%", f"40{NNBSP}000{NBSP}€"),
        ("5,0", "–", "45,2", f"100,0{NBSP}%", f"1{NNBSP}224{NNBSP}000{NBSP}€"),
        ("–", "7", "3,0", "–", "–"),
    ]
    assert table.display.columns == frame.columns
    assert table.frame.equals(frame)  # downloads keep the typed values


def test_undeclared_columns_follow_their_type_and_keep_their_names():
    frame = pl.DataFrame(
        {
            "Sites": [1234, None],
            "Moyenne": [2.25, None],
            "Incertain": [True, None],
            "Nom": ["Guéret", None],
            "Date": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
        }
    )
    shown = Table(frame).display
    assert shown.columns == ["Sites", "Moyenne", "Incertain", "Nom", "Date"]  # a boolean is not « literal »
    assert shown.rows() == [
        (f"1{NNBSP}234", "2,2", "oui", "Guéret", dt.date(2024, 1, 1)),
        ("–", "–", "–", "–", dt.date(2024, 2, 1)),
    ]
    assert "None" not in str(shown.select(pl.exclude("Date")).rows())


def test_a_declared_boolean_keeps_its_header():
    shown = Table(pl.DataFrame({"Hébergé par l'État": [False, True]}), (Column("Hébergé par l'État", "boolean"),))
    assert shown.display.to_dict(as_series=False) == {"Hébergé par l'État": ["non", "oui"]}


def test_a_year_declared_as_text_is_not_grouped():
    shown = Table(pl.DataFrame({"Année": [2025, 2026]}), (Column("Année", "text"),)).display
    assert shown["Année"].to_list() == ["2025", "2026"]
    assert Table(pl.DataFrame({"Année": [2025]})).display["Année"][0] == f"2{NNBSP}025"  # why it is declared


def test_code_labels_replace_catalogue_codes_natively():
    frame = pl.DataFrame({"format": ["MULTISITES", "FIXE", "INCONNU", None]})
    labelled = frame.select(code_labels("format", "format").alias("Format"))
    values = labelled["Format"].to_list()
    assert "MULTISITES" not in values and values[1] == "Fixe"
    assert values[2] == "INCONNU" and values[3] is None  # an unknown code stays; a missing one reads « – »
    assert Table(labelled).display["Format"][3] == "–"


def test_unknown_kinds_and_negative_decimals_are_refused():
    with pytest.raises(ValueError):
        Column("x", "money")
    with pytest.raises(ValueError):
        Column("x", "decimal", -1)
