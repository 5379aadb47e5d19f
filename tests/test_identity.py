"""Sign-in and roles: the roles file, the sign-in setting, the scope clamped in the one resolver, the
sections listing sites, who loaded, and the frame (AppTest with a signed-in ``st.user``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fsdash import identity
from fsdash.identity import Identity, RolesFileError, auth_setting, identify, read_roles
from fsdash.metrics.scope import directory, resolve_scope
from fsdash.views import quality
from fsdash.warehouse.store import reader

from conftest import ACTIVITE_HEADER, ACTIVITE_ROWS, TODAY, csv_bytes

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")

PROGRAMME = Identity("equipe@anct.gouv.fr", "Équipe", "programme")
LIMIT = 200 * 1024 * 1024  # bytes, as .streamlit/config.toml
NATIONAL_COMMITTEE = Identity("comite@interieur.gouv.fr", "Comité", "national")
AIN = Identity("prefecture@ain.gouv.fr", "Préfecture de l'Ain", "departement", "01")

ROLES_TEXT = """courriel;role;departement
Equipe@ANCT.gouv.fr;programme;
comite@interieur.gouv.fr;national;
prefecture@ain.gouv.fr;departement;01
siret=13002603200016;national;
"""


def _roles_file(tmp_path: Path, text: str = ROLES_TEXT) -> Path:
    path = tmp_path / "roles.csv"
    path.write_text(text, encoding="utf-8")
    return path


# --- the roles file -------------------------------------------------------------------------------


def test_the_roles_file_maps_e_mails_and_claims_to_roles(tmp_path):
    roles = read_roles(_roles_file(tmp_path), frozenset({"01", "2A"}))
    assert identify({"email": "equipe@anct.gouv.fr", "given_name": "Ana", "usual_name": "Diallo"}, roles) == Identity(
        "equipe@anct.gouv.fr", "Ana Diallo", "programme"
    )
    ain = identify({"email": "PREFECTURE@ain.gouv.fr"}, roles)
    assert (ain.role, ain.departement, ain.can_load) == ("departement", "01", False)
    by_claim = identify({"email": "x@agence.fr", "siret": "13002603200016"}, roles)
    assert (by_claim.role, by_claim.email) == ("national", "x@agence.fr")
    assert identify({"email": "inconnu@exemple.fr", "siret": "1"}, roles) is None  # no default role


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mail;role\n", "ligne 1 : en-tête attendu « courriel;role;departement »"),
        ("courriel;role;departement\na@b.fr;chef;\n", "ligne 2, colonne role : « chef » inconnu"),
        ("courriel;role;departement\na@b.fr;departement;\n", "ligne 2, colonne departement : un rôle departement"),
        ("courriel;role;departement\na@b.fr;departement;99\n", "ligne 2, colonne departement : aucun département"),
        ("courriel;role;departement\na@b.fr;national;01\n", "ligne 2, colonne departement : le rôle national"),
        (
            "courriel;role;departement\n\na@b.fr;national;\nA@b.fr;programme;\n",
            "ligne 4, colonne courriel : « a@b.fr » déjà",
        ),
        ("courriel;role;departement\nquelqu'un;national;\n", "ligne 2, colonne courriel : « quelqu'un » n'est ni"),
        ("courriel;role;departement\na@b.fr;national\n", "ligne 2 : 2 colonnes au lieu de 3"),
    ],
)
def test_a_wrong_roles_file_is_refused_naming_file_line_and_column(tmp_path, text, message):
    path = _roles_file(tmp_path, text)
    with pytest.raises(RolesFileError) as caught:
        read_roles(path, frozenset({"01"}))
    assert str(caught.value).startswith(f"Fichier des rôles {path}")
    assert message in str(caught.value)


def test_the_sign_in_mode_is_explicit_and_local_mode_cannot_override_a_configured_sign_in():
    assert auth_setting(None, auth_configured=True).mode == "oidc"
    assert auth_setting("oidc", auth_configured=False).mode == "oidc"
    assert auth_setting("LOCAL", auth_configured=False).mode == "local"
    nothing = auth_setting(None, auth_configured=False)
    assert nothing.mode is None and "Aucune connexion n'est configurée" in nothing.problem
    refused = auth_setting("local", auth_configured=True)
    assert refused.mode is None and "FSDASH_AUTH=local est refusé" in refused.problem
    assert auth_setting("ouvert", auth_configured=False).mode is None


# --- the scope clamped in the resolver --------------------------------------------------------------


def test_a_departement_user_cannot_resolve_another_departements_site(loaded_db):
    with reader(loaded_db) as con:
        d = directory(con)
    clamped = resolve_scope(d, "site", "FS003", identity=AIN)  # FS003 is in Corse-du-Sud (2A)
    assert (clamped.scope.level, clamped.scope.code) == ("departement", "2A")
    assert clamped.problems and "« FS003 » est réservé à son comité départemental (2A)" in clamped.problems[0]
    own = resolve_scope(d, "site", "FS001", identity=AIN)
    assert (own.scope.level, own.scope.code, own.problems) == ("site", "FS001", ())
    for who in (PROGRAMME, NATIONAL_COMMITTEE, None):
        seen = resolve_scope(d, "site", "FS003", identity=who)
        assert (seen.scope.level, seen.scope.code, seen.problems) == ("site", "FS003", ())


def test_a_departement_user_keeps_every_aggregate_but_its_scopes_say_what_it_sees_in_detail(loaded_db):
    with reader(loaded_db) as con:
        d = directory(con)
    for level, code in (("national", None), ("region", "94"), ("departement", "2A")):
        resolution = resolve_scope(d, level, code, identity=AIN)
        assert (resolution.scope.level, resolution.scope.code, resolution.problems) == (level, code, ())
        assert resolution.scope.detail_departements == ("01",)
        assert resolution.scope.shows_site_detail("01") and not resolution.scope.shows_site_detail("2A")
    everything = resolve_scope(d, "national", identity=PROGRAMME).scope
    # a section cached for the programme team is never served to a département (the scope is its key)
    assert everything != resolve_scope(d, "national", identity=AIN).scope
    assert everything.shows_site_detail("2A") and everything.detail_departements is None


def test_the_registry_checks_list_other_departements_sites_only_to_national_roles(loaded_db):
    with reader(loaded_db) as con:
        d = directory(con)
        full = quality.registry_quality(con, resolve_scope(d, "national", identity=PROGRAMME).scope, TODAY)
        ain = quality.registry_quality(con, resolve_scope(d, "national", identity=AIN).scope, TODAY)
    listed = full.table.frame
    assert set(listed["Département"]) == {"01", "2A"}  # the hand-made network has flagged sites in both
    assert set(ain.table.frame["Département"]) == {"01"}
    assert ain.table.frame.height == listed.filter(listed["Département"] == "01").height
    assert [t.value for t in ain.tiles] == [t.value for t in full.tiles]  # the counts stay aggregates
    assert any("ne sont pas listés" in n for n in ain.notes) and not any("ne sont pas listés" in n for n in full.notes)


# --- who loaded -------------------------------------------------------------------------------------


def test_every_load_records_who_loaded(loaded_db, tmp_path):
    from fsdash.upload import LoadForbidden, load_files

    corrected = [list(r) for r in ACTIVITE_ROWS]
    corrected[0][4] = 1550
    code, _ = load_files([("corrige.csv", csv_bytes(ACTIVITE_HEADER, corrected))], loaded_db, PROGRAMME, LIMIT)
    assert code == 0
    with pytest.raises(LoadForbidden):
        load_files([("autre.csv", csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS[:1]))], loaded_db, NATIONAL_COMMITTEE, LIMIT)
    corrected[1][4] = 999
    (tmp_path / "cli.csv").write_bytes(csv_bytes(ACTIVITE_HEADER, corrected))
    cli = subprocess.run(
        [sys.executable, "-m", "fsdash", "ingest", "--db", str(loaded_db), "--par", "agent@anct.gouv.fr", "cli.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert cli.returncode == 0, cli.stderr
    with reader(loaded_db) as con:
        loaders = con.sql("SELECT file_name, loaded_by FROM batches ORDER BY batch_id").fetchall()
        shown = quality.batches(con).table.frame
    assert loaders[-2:] == [("corrige.csv", "equipe@anct.gouv.fr"), ("cli.csv", "agent@anct.gouv.fr")]
    assert shown["Chargé par"].to_list()[:2] == ["agent@anct.gouv.fr", "equipe@anct.gouv.fr"]


# --- the frame (AppTest, st.user as the provider would fill it) ------------------------------------


@pytest.fixture
def signed_in(loaded_db, tmp_path, monkeypatch):
    """An app in sign-in mode on the small warehouse; call with the claims of the person signed in."""
    monkeypatch.setenv("FSDASH_DB", str(loaded_db))
    monkeypatch.setenv(identity.AUTH_ENV, "oidc")
    monkeypatch.setenv(identity.ROLES_ENV, str(_roles_file(tmp_path)))

    def app(claims: dict | None, **params) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.user = {"is_logged_in": True, **claims} if claims is not None else {}
        for key, value in params.items():
            at.query_params[key] = value
        return at.run()

    return app


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.markdown, *at.caption, *at.error, *at.info, *at.warning)]
    return "\n".join(str(p) for p in parts)


def test_nobody_sees_data_before_signing_in_and_an_unknown_person_is_told_whom_to_ask(signed_in):
    at = signed_in(None)  # AppTest reads no [auth] section: the sign-in page says it is not configured
    assert not at.exception and "Connectez-vous avec votre compte professionnel" in _texts(at)
    assert "La connexion n'est pas configurée" in at.error[0].value and not at.metric  # the button: browser test
    stranger = signed_in({"email": "curieux@exemple.fr"})
    assert "Accès non ouvert" in _texts(stranger) and identity.WHOM_TO_ASK in _texts(stranger)
    assert not stranger.metric and stranger.button(key="deconnexion")


def test_a_departement_user_following_a_link_to_another_departements_site_gets_its_aggregate(signed_in):
    at = signed_in({"email": "prefecture@ain.gouv.fr"}, perimetre="site", code="FS003")
    assert not at.exception
    assert any("« FS003 » est réservé" in w.value for w in at.warning)
    assert at.query_params["perimetre"] == "departement" and at.query_params["code"] == "2A"
    assert "Comité départemental (01)" in _texts(at)


def test_the_loading_page_is_the_programme_teams_and_read_only_for_the_national_committee(signed_in):
    programme = signed_in({"email": "equipe@anct.gouv.fr"})
    programme.switch_page("pages/page_chargements.py").run()
    assert programme.file_uploader(key="chargement_fichiers")
    committee = signed_in({"email": "comite@interieur.gouv.fr"})
    committee.switch_page("pages/page_chargements.py").run()
    assert not committee.exception and not committee.get("file_uploader")
    assert any("réservés à l'équipe du programme" in i.value for i in committee.info)
    ain = signed_in({"email": "prefecture@ain.gouv.fr"})
    ain.switch_page("pages/page_chargements.py").run()
    assert any("« Chargements et qualité » est réservée" in e.value for e in ain.error)
    assert not ain.get("file_uploader") and not ain.metric


def test_without_any_sign_in_setting_the_dashboard_serves_no_data(loaded_db, monkeypatch):
    monkeypatch.setenv("FSDASH_DB", str(loaded_db))
    monkeypatch.delenv(identity.AUTH_ENV, raising=False)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "Aucune connexion n'est configurée" in at.error[0].value and not at.metric


def test_local_mode_says_so_on_every_page(loaded_db, monkeypatch):
    monkeypatch.setenv("FSDASH_DB", str(loaded_db))
    monkeypatch.setenv(identity.AUTH_ENV, "local")
    at = AppTest.from_file(APP, default_timeout=60).run()
    for path in ("pages/page_frequentation.py", "pages/page_chargements.py"):
        at.switch_page(path).run()
        banners = [h for h in at.get("html") if "Mode local sans connexion" in str(h.proto)]
        assert len(banners) == 1, path
