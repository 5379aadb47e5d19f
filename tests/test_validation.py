"""Every validation rule, each with a bad row: rule code, French message naming line and column,
and the valid rows of other site-periods still accepted."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

from fsdash.catalogue import POLARS_TYPES, load_catalogue
from fsdash.readers import LINE_COLUMN, read_tables
from fsdash.validation import ValidationContext, build_schema, describe_failure, validate

from conftest import TODAY, csv_bytes

CATALOGUE = load_catalogue()

LABELS = {
    "FS001": dt.date(2019, 11, 15),
    "FS002": dt.date(2021, 6, 1),
    "FS003": dt.date(2022, 1, 1),
    "FS004": dt.date(2024, 10, 1),
}

#: Totals already in the warehouse (activite.demandes) that the request detail is checked against.
TOTALS = pl.DataFrame({"site_id": ["FS001", "FS002"], "periode": [dt.date(2024, 1, 1)] * 2, "demandes": [100, 100]})

#: One valid row per table, as a site would type it (text cells, French decimals).
BASE = {
    "sites": {
        "site_id": "FS001",
        "nom": "Maison France Services de Bourg-en-Bresse",
        "code_commune": "01053",
        "departement": "01",
        "format": "FIXE",
        "type_site": "PRINCIPAL",
        "porteur": "COMMUNE",
        "la_poste": "non",
        "date_labellisation": "15/11/2019",
        "date_fermeture": "",
        "latitude": "46,2052",
        "longitude": "5,2255",
        "ancienne_msap": "oui",
        "heberge_etat": "non",
        "adresse": "4 place Bernard",
        "code_postal": "01000",
        "horaires": "lun. 09:00-12:00 14:00-17:00",
        "heures_ouverture_hebdo": "30",
        "jours_ouverture_hebdo": "5",
    },
    "activite": {
        "site_id": "FS001",
        "annee": "2024",
        "trimestre": "1",
        "usagers_accueillis": "120",
        "demandes": "100",
        "appels_recus": "30",
        "courriels_recus": "10",
        "courriels_repondus_72h": "8",
        "visios_realisees": "4",
        "agents_accueil": "3",
        "agents_etp": "2",
        "agents_formes": "1",
        "heures_ouverture_hebdo": "30",
        "jours_ouverture_hebdo": "5",
        "fermetures_exceptionnelles": "1",
        "fermetures_annoncees_7j": "1",
        "postes_numeriques": "2",
        "pass_numeriques_remis": "0",
        "sessions_numeriques": "3",
        "situations_non_recours": "1",
    },
    "demandes_detail": {
        "site_id": "FS001",
        "annee": "2024",
        "trimestre": "1",
        "partenaire": "CNAF",
        "situation": "ALLOCATION_LOGEMENT",
        "canal": "SUR_SITE",
        "issue": "REPONDU_SUR_PLACE",
        "nb_demandes": "40",
    },
    "satisfaction_borne": {
        "site_id": "FS001",
        "annee": "2024",
        "trimestre": "1",
        "reponses_tres_satisfait": "10",
        "reponses_satisfait": "20",
        "reponses_peu_satisfait": "3",
        "reponses_pas_satisfait": "1",
    },
    "enquete_annuelle": {
        "site_id": "FS001",
        "annee": "2023",
        "question": "ACCUEIL",
        "repondants": "20",
        "reponses_1": "1",
        "reponses_2": "2",
        "reponses_3": "3",
        "reponses_4": "4",
        "reponses_5": "5",
    },
    "forfaits": {
        "annee": "2019",
        "porteur": "COMMUNE",
        "montant_forfait": "30 000",
        "part_fnadt": "15 000",
        "part_fonds_interoperateurs": "15 000",
        "part_fonds_postal": "0",
        "abattement_heberge_etat": "0",
        "origine": "circulaire du 1er juillet 2019, annexe 4",
    },
    "enveloppe_bdt": {
        "code_operation": "BDT-2020-001",
        "date_operation": "15/03/2020",
        "ligne": "BUS",
        "engagement": "150,5",
        "paiement": "0",
        "libelle": "Convention bus de la Creuse",
    },
    "regularisation_msap_2018": {
        "departement": "01",
        "date_delegation": "15/10/2019",
        "msap_regularisees": "4",
        "montant_verse": "30 000",
        "libelle": "Arrêté préfectoral",
    },
}

#: Tables not keyed by a site: the field that makes a second valid row (another key).
OTHER_KEY = {
    "forfaits": {"annee": "2020"},
    "enveloppe_bdt": {"code_operation": "BDT-2020-002"},
    "regularisation_msap_2018": {"departement": "2A"},
}


def test_base_rows_cover_every_catalogue_column():
    for code, table in CATALOGUE.tables.items():
        assert list(BASE[code]) == [c.code for c in table.columns], code


def context(today: dt.date = TODAY) -> ValidationContext:
    sites = pl.DataFrame({"site_id": list(LABELS), "date_labellisation": list(LABELS.values())})
    return ValidationContext(sites=sites, totals={"activite": TOTALS}, today=today)


def row(table: str, **changes: str) -> dict[str, str]:
    unknown = set(changes) - set(BASE[table])
    assert not unknown, unknown
    return {**BASE[table], **changes}


def other_site(table: str) -> dict[str, str]:
    """A valid row of another site (hence another site-period), placed on line 2.

    For a reference table not keyed by a site, a valid row with another key.
    """
    if "site_id" not in BASE[table]:
        return row(table, **OTHER_KEY[table])
    extra = {"nom": "France Services d'Oyonnax", "code_commune": "01283"} if table == "sites" else {}
    return row(table, site_id="FS002", **extra)


def run(table: str, rows: list[dict[str, str]], today: dt.date = TODAY, name: str = "depot.csv"):
    header = [c.code for c in CATALOGUE.table(table).columns]
    data = csv_bytes(header, [[r[c] for c in header] for r in rows], sep=";")
    (raw,) = read_tables(data, name, CATALOGUE)
    assert raw.table.code == table
    return validate(raw, CATALOGUE, context(today))


def failures_of(result, rule: str) -> list[dict]:
    return [f for f in result.failures.iter_rows(named=True) if f["regle"] == rule]


def assert_rejected(result, *, line: int, rule: str, column: str | None, name: str = "depot.csv") -> dict:
    """The row at ``line`` fails ``rule``; its French message names the file, the line and the column."""
    matching = [f for f in failures_of(result, rule) if f[LINE_COLUMN] == line]
    assert matching, f"no {rule} failure at line {line}: {result.failures.to_dicts()}"
    failure = matching[0]
    message = describe_failure(name, failure)
    assert message.startswith(f"{name}, ligne {line}"), message
    assert message.endswith(f"[{rule}]"), message
    if column is not None:
        assert failure["colonne"] == column, message
        assert f"colonne « {column} »" in message, message
    assert line in result.rejected[LINE_COLUMN].to_list()
    assert line not in result.valid[LINE_COLUMN].to_list()
    return failure


def assert_accepted(result, *lines: int) -> None:
    assert set(lines) <= set(result.valid[LINE_COLUMN].to_list()), result.failures.to_dicts()
    assert not set(lines) & set(result.failures[LINE_COLUMN].drop_nulls().to_list())


# --- single-column checks, generated from the catalogue (a new column is covered automatically) ---


def _column_cases():
    cases = []
    for table in CATALOGUE.tables.values():
        for col in table.columns:
            tid = f"{table.code}.{col.code}"
            if col.type in ("int", "float"):
                cases.append(pytest.param(table.code, col.code, "douze", "format", id=f"format-{tid}"))
            if col.type == "date":
                cases.append(pytest.param(table.code, col.code, "31/02/2024", "format", id=f"format-{tid}"))
            if col.type == "bool":
                cases.append(pytest.param(table.code, col.code, "peut-être", "format", id=f"format-{tid}"))
            if col.max is not None:
                too_big = col.max + 1 if col.type == "int" else col.max + 0.5
                text = f"{too_big:g}".replace(".", ",")
                cases.append(pytest.param(table.code, col.code, text, "plage", id=f"plage-max-{tid}"))
            if col.min is not None:
                too_small = col.min - 1
                cases.append(pytest.param(table.code, col.code, f"{too_small:g}", "plage", id=f"plage-min-{tid}"))
            if col.type == "enum":
                cases.append(
                    pytest.param(table.code, col.code, "CODE_INCONNU", "valeurs_admises", id=f"valeurs_admises-{tid}")
                )
            if col.pattern:
                assert re.fullmatch(col.pattern, "2C1") is None
                cases.append(pytest.param(table.code, col.code, "2C1", "motif", id=f"motif-{tid}"))
            if col.mandatory:
                cases.append(pytest.param(table.code, col.code, "", "not_nullable", id=f"not_nullable-{tid}"))
    return cases


@pytest.mark.parametrize("table, column, value, rule", _column_cases())
def test_column_rule(table, column, value, rule):
    result = run(table, [other_site(table), row(table, **{column: value})])
    failure = assert_rejected(result, line=3, rule=rule, column=column)
    if rule != "not_nullable":
        assert value.lstrip("-").split(",")[0] in (failure["valeur"] or ""), failure
        assert f"« {failure['valeur']} »" in failure["message"]
    assert_accepted(result, 2)


@pytest.mark.parametrize("value", ["2024", "20244", "1"])
def test_typo_in_year_is_a_range_error_not_a_crash(value):
    result = run("activite", [other_site("activite"), row("activite", annee=value)])
    if value == "2024":
        assert_accepted(result, 2, 3)
    else:
        assert_rejected(result, line=3, rule="plage", column="annee")
        assert_accepted(result, 2)


def test_range_message_is_french():
    result = run("activite", [other_site("activite"), row("activite", jours_ouverture_hebdo="8")])
    failure = assert_rejected(result, line=3, rule="plage", column="jours_ouverture_hebdo")
    assert failure["message"] == "valeur « 8 » hors de la plage admise (0 à 7 jours)"


def test_unreadable_number_message_is_french():
    result = run("activite", [other_site("activite"), row("activite", usagers_accueillis="12a")])
    failure = assert_rejected(result, line=3, rule="format", column="usagers_accueillis")
    assert failure["message"] == "valeur « 12a » illisible : nombre entier attendu"


def test_codes_are_accepted_by_label_case_and_accents():
    good = row(
        "demandes_detail",
        partenaire="cnaf",
        situation="Je déclare mes impôts",
        canal="Téléphone",
        issue="Réorientée vers un autre guichet",
    )
    result = run("demandes_detail", [good])
    assert_accepted(result, 2)
    assert result.valid.select("partenaire", "situation", "canal", "issue").row(0) == (
        "CNAF",
        "IMPOTS",
        "TELEPHONE",
        "REORIENTE",
    )


# --- cross-field rules of the catalogue (iterated, so that a new rule is covered) ---------------

LE_RULES = [r for r in CATALOGUE.rules if r.kind in ("le", "sum_le")]


def test_catalogue_has_comparison_rules():
    assert len(LE_RULES) >= 5


@pytest.mark.parametrize("rule", LE_RULES, ids=[r.code for r in LE_RULES])
def test_comparison_rule(rule):
    if rule.kind == "le":
        changes = {rule.left: "3", rule.right: "2"}
        column, left, right = rule.left, "3", "2"
    else:
        changes = {c: "1" for c in rule.left} | {rule.right: str(len(rule.left) - 1)}
        column, left, right = rule.left[0], str(len(rule.left)), str(len(rule.left) - 1)
    good = other_site(rule.table)
    result = run(rule.table, [good, row(rule.table, **changes)])
    failure = assert_rejected(result, line=3, rule=rule.code, column=column)
    assert failure["message"] == rule.message.format(left=left, right=right)
    assert_accepted(result, 2)
    # equality is allowed
    if rule.kind == "le":
        equal = {rule.left: BASE[rule.table][rule.right]}
    else:
        equal = {c: "1" for c in rule.left} | {rule.right: str(len(rule.left))}
    assert_accepted(run(rule.table, [good, row(rule.table, **equal)]), 2, 3)


def test_detail_sum_above_activity_total():
    rows = [
        other_site("demandes_detail"),
        row("demandes_detail", partenaire="CNAF", nb_demandes="60"),
        row("demandes_detail", partenaire="ANTS", situation="PAPIERS_IDENTITE", nb_demandes="60"),
    ]
    result = run("demandes_detail", rows)
    for line in (3, 4):
        failure = assert_rejected(result, line=line, rule="detail_le_total", column="nb_demandes")
        assert failure["message"] == CATALOGUE.rule("detail_le_total").message.format(left="120", right="100")
    assert_accepted(result, 2)


def test_detail_equal_to_activity_total_is_accepted():
    rows = [
        row("demandes_detail", nb_demandes="60"),
        row("demandes_detail", partenaire="ANTS", situation="PAPIERS_IDENTITE", nb_demandes="40"),
    ]
    assert_accepted(run("demandes_detail", rows), 2, 3)


def test_detail_without_any_activity_total():
    result = run(
        "demandes_detail", [other_site("demandes_detail"), row("demandes_detail", annee="2023", trimestre="4")]
    )
    failure = assert_rejected(result, line=3, rule="detail_le_total", column="nb_demandes")
    assert "aucun total « demandes »" in failure["message"]
    assert "activite" in failure["message"]
    assert_accepted(result, 2)


def test_duplicate_key():
    result = run("activite", [other_site("activite"), row("activite"), row("activite", demandes="90")])
    for line in (3, 4):
        failure = assert_rejected(result, line=line, rule="cle_unique", column=None)
        message = describe_failure("depot.csv", failure)
        assert "site_id=FS001, annee=2024, trimestre=1" in message  # the key columns are named
    assert_accepted(result, 2)


def test_duplicate_key_after_code_normalisation():
    """'cnaf' and 'CNAF' are the same partner: the two rows share a key."""
    result = run(
        "demandes_detail",
        [
            other_site("demandes_detail"),
            row("demandes_detail", nb_demandes="10"),
            row("demandes_detail", partenaire="cnaf", nb_demandes="10"),
        ],
    )
    assert_rejected(result, line=3, rule="cle_unique", column=None)
    assert_rejected(result, line=4, rule="cle_unique", column=None)
    assert_accepted(result, 2)


def test_duplicate_site_in_registry():
    result = run("sites", [other_site("sites"), row("sites"), row("sites", nom="Doublon")])
    assert_rejected(result, line=3, rule="cle_unique", column=None)
    assert_rejected(result, line=4, rule="cle_unique", column=None)
    assert_accepted(result, 2)


@pytest.mark.parametrize("table", [t.code for t in CATALOGUE.report_tables])
def test_unknown_site(table):
    result = run(table, [other_site(table), row(table, site_id="FS999")])
    failure = assert_rejected(result, line=3, rule="site_connu", column="site_id")
    assert failure["message"] == "le site « FS999 » est inconnu du référentiel des sites"
    assert_accepted(result, 2)


def test_period_before_label():
    # FS004 is labelled on 01/10/2024: 2024 T3 (ending 30/09/2024) predates it
    result = run("activite", [other_site("activite"), row("activite", site_id="FS004", trimestre="3")])
    failure = assert_rejected(result, line=3, rule="periode_apres_label", column="trimestre")
    assert failure["message"] == "la période déclarée se termine avant la labellisation du site (01/10/2024)"
    assert_accepted(result, 2)


def test_period_containing_label_date_is_accepted():
    result = run("activite", [row("activite", site_id="FS004", annee="2024", trimestre="4")], today=dt.date(2025, 1, 1))
    assert_accepted(result, 2)


def test_period_not_yet_complete():
    # today is 27/11/2024: 2024 T4 is not over
    result = run("activite", [other_site("activite"), row("activite", trimestre="4")])
    failure = assert_rejected(result, line=3, rule="periode_terminee", column=None)
    assert failure["message"] == "la période déclarée n'est pas encore terminée"
    assert_accepted(result, 2)


def test_period_not_yet_complete_names_a_column():
    result = run("activite", [other_site("activite"), row("activite", trimestre="4")])
    failure = failures_of(result, "periode_terminee")[0]
    assert failure["colonne"] in ("annee", "trimestre"), describe_failure("depot.csv", failure)


@pytest.mark.parametrize("today, complete", [(dt.date(2024, 9, 30), False), (dt.date(2024, 10, 1), True)])
def test_period_complete_boundary(today, complete):
    result = run("activite", [row("activite", trimestre="3")], today=today)
    assert bool(failures_of(result, "periode_terminee")) is not complete


def test_yearly_survey_of_current_year_is_not_complete():
    result = run("enquete_annuelle", [other_site("enquete_annuelle"), row("enquete_annuelle", annee="2024")])
    assert_rejected(result, line=3, rule="periode_terminee", column=None)
    assert_accepted(result, 2)


def test_whole_site_quarter_is_rejected():
    rows = [
        other_site("demandes_detail"),
        row("demandes_detail", partenaire="CAF_INCONNUE", nb_demandes="10"),
        row("demandes_detail", partenaire="ANTS", situation="PAPIERS_IDENTITE", nb_demandes="10"),
        row("demandes_detail", site_id="FS002", partenaire="ANTS", situation="PAPIERS_IDENTITE", nb_demandes="10"),
    ]
    result = run("demandes_detail", rows)
    assert_rejected(result, line=3, rule="valeurs_admises", column="partenaire")
    failure = assert_rejected(result, line=4, rule="groupe_rejete", column=None)
    assert "même site et de la même période" in failure["message"]
    assert len(failures_of(result, "groupe_rejete")) == 1
    assert_accepted(result, 2, 5)
    assert result.rejected[LINE_COLUMN].to_list() == [3, 4]
    # rejected rows are kept as the user typed them
    assert result.rejected["partenaire"].to_list() == ["CAF_INCONNUE", "ANTS"]


def test_valid_rows_are_typed_with_their_period():
    result = run("activite", [other_site("activite"), row("activite", trimestre="3", agents_etp="2,5")])
    assert result.failures.is_empty()
    assert result.valid["periode"].to_list() == [dt.date(2024, 1, 1), dt.date(2024, 7, 1)]
    assert result.valid["agents_etp"].to_list() == [2.0, 2.5]
    assert not [c for c in result.valid.columns if c.startswith("_") and c != LINE_COLUMN]


def test_failure_lines_follow_the_file_in_xlsx_too():
    """Same numbering for a worksheet: header is line 1."""
    import io

    import xlsxwriter

    header = [c.code for c in CATALOGUE.table("activite").columns]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("activite")
    for i, r in enumerate(
        [dict(zip(header, header, strict=False)), other_site("activite"), row("activite", demandes="beaucoup")]
    ):
        for j, c in enumerate(header):
            sheet.write_string(i, j, r[c])
    book.close()
    (raw,) = read_tables(buffer.getvalue(), "depot.xlsx", CATALOGUE)
    result = validate(raw, CATALOGUE, context())
    failure = assert_rejected(result, line=3, rule="format", column="demandes", name=raw.where)
    assert describe_failure(raw.where, failure).startswith("depot.xlsx, feuille « activite », ligne 3")


# --- the generated schema -----------------------------------------------------------------------


@pytest.mark.parametrize("table", list(CATALOGUE.tables.values()), ids=list(CATALOGUE.tables))
def test_pandera_schema_is_generated_from_the_catalogue(table):
    schema = build_schema(table, CATALOGUE)
    codes = [c.code for c in table.columns]
    assert len(codes) == len(set(codes))
    assert list(schema.columns) == codes
    for col in table.columns:
        generated = schema.columns[col.code]
        assert generated.dtype.type == POLARS_TYPES[col.type], col.code
        assert generated.nullable is (not col.mandatory), col.code
        if col.type == "enum":
            isin = [c for c in generated.checks if c.error == "valeurs_admises"]
            assert len(isin) == 1
            assert list(isin[0].statistics["allowed_values"]) == CATALOGUE.dimensions[col.dimension].codes
    rule_checks = sorted(c.error for c in schema.checks)
    own = sorted(r.code for r in CATALOGUE.rules_for(table.code))
    assert set(own) <= set(rule_checks)
    generic = {"cle_unique", "cle_unique_chargement"} | (
        {"site_connu", "periode_apres_label", "periode_terminee", "periode_avant_fermeture"}
        if table.is_report
        else set()
    )
    assert set(rule_checks) == set(own) | generic


@pytest.mark.parametrize("distinct_share", [0.25, 0.0])
def test_a_text_column_read_on_its_distinct_values_reads_as_every_cell(monkeypatch, distinct_share):
    """A text column is trimmed (blank = empty) on its distinct values and replaced only where that
    changed them, or cell by cell when most values are distinct: the same cells either way."""
    from fsdash import validation
    from fsdash.catalogue import Column

    monkeypatch.setattr(validation, "DISTINCT_SHARE", distinct_share)
    column = Column(code="partenaire", label="Partenaire", type="enum", dimension="partenaire")
    cells = pl.Series(
        "partenaire",
        ["CNAF", " CNAF", "CNAF\u00a0", "", "   ", None, "DGFIP", "\tDGFIP \n", "La Poste", "CNAF"] * 3,
    )
    expected = cells.to_frame().select(validation._text_parse_expr(column).alias("partenaire")).to_series()
    read, values = validation._text_cells(cells, column)
    assert read.to_list() == expected.to_list()
    assert set(values.drop_nulls()) == set(expected.drop_nulls())  # what the enum mapping looks at
    clean = pl.Series("partenaire", ["CNAF", "DGFIP", None] * 10)
    assert validation._text_cells(clean, column)[0] is clean or distinct_share == 0.0
