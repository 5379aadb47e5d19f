"""Who is looking: the signed-in person's role, read from the roles file, and what each role may do.

No Streamlit here: :mod:`fsdash.ui` reads ``st.user`` (the claims the OpenID Connect provider
returned through ``st.login``) and turns them into an :class:`Identity` with :func:`identify`;
the scope resolver (:func:`fsdash.metrics.scope.resolve_scope`) clamps what the identity may see
before any query, and the routes table says which roles see each page.

Three roles (:data:`ROLES`):

- ``programme`` — the programme team (ANCT): everything, and the only role that loads or corrects
  data;
- ``national`` — the national committee: everything, read-only;
- ``departement`` — a departmental committee: its own département's sites in detail; elsewhere
  only aggregates (France, régions, other départements), never another département's site detail,
  site-level funding or site-level audit comments.

Roles come from a mapping file, not from the provider: the State's SSO (ProConnect) says who a
person is, not what they may see in this dashboard. The file is a CSV (UTF-8, ``;``) with the
header ``courriel;role;departement``; ``courriel`` is an e-mail address (case ignored) or a claim
test ``nom_du_claim=valeur`` (for instance ``siret=13002603200016``: everyone of one organisation).
An e-mail row wins over a claim row. A signed-in person the file does not name gets no access and a
French page saying whom to ask — never a default role.

Sign-in is a setting (:func:`auth_setting`): ``oidc`` (Streamlit's ``st.login`` with the
``[auth]`` section of ``.streamlit/secrets.toml``) or ``local`` (no sign-in, for a developer's
demo), chosen explicitly by ``FSDASH_AUTH`` or ``[fsdash] auth`` in the secrets. Nothing chosen and
no ``[auth]`` section: the dashboard serves no data. Local mode is refused when an ``[auth]``
section is configured (a stray variable cannot switch sign-in off on a server set up for it), and
it shows a banner on every page.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: Role code -> French label.
ROLES = {
    "programme": "Équipe du programme (ANCT)",
    "national": "Comité national",
    "departement": "Comité départemental",
}
ALL_ROLES = frozenset(ROLES)
#: Roles that see every département's site detail.
NATIONAL_ROLES = frozenset({"programme", "national"})
#: Roles that load files or correct data.
LOADING_ROLES = frozenset({"programme"})

ROLES_HEADER = ("courriel", "role", "departement")
#: Environment variables of the settings (they win over ``[fsdash]`` in the secrets).
AUTH_ENV = "FSDASH_AUTH"
ROLES_ENV = "FSDASH_ROLES"
AUTH_MODES = ("oidc", "local")

LOCAL_BANNER = (
    "Mode local sans connexion — aucune identité n'est vérifiée : ce mode sert au développement et à la "
    "démonstration (réglage explicite FSDASH_AUTH=local), jamais à un serveur ouvert aux utilisateurs."
)
WHOM_TO_ASK = (
    "Demandez l'ouverture d'un accès à l'équipe du programme France Services (ANCT), en précisant votre "
    "rôle (comité national ou comité départemental) et votre département."
)


@dataclass(frozen=True)
class Identity:
    """A person and what they may see. ``departement`` is set for (and only for) the ``departement`` role;
    ``local`` marks the developer of local mode (no sign-in)."""

    email: str
    name: str
    role: str
    departement: str | None = None
    local: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role}")
        if (self.role == "departement") != (self.departement is not None):
            raise ValueError("a département role needs its département, and only it")

    @property
    def can_load(self) -> bool:
        """Whether this person may load files or correct data."""
        return self.role in LOADING_ROLES

    @property
    def detail_departements(self) -> tuple[str, ...] | None:
        """The départements whose site detail this person may see (None: all of them)."""
        return None if self.role in NATIONAL_ROLES else (self.departement,)

    def sees_site_detail(self, departement: str | None) -> bool:
        allowed = self.detail_departements
        return allowed is None or departement in allowed

    @property
    def label(self) -> str:
        """« Claire Martin — Comité départemental (23) », for the sidebar."""
        role = ROLES[self.role] + (f" ({self.departement})" if self.departement else "")
        return f"{self.name} — {role}" if self.name else role

    @property
    def loader(self) -> str:
        """What the batches record as who loaded (the e-mail, or the OS user in local mode)."""
        return self.email


def local_identity(os_user: str | None = None) -> Identity:
    """The developer of local mode: the programme team's rights, recorded as ``local:<OS user>``."""
    user = os_user or _os_user()
    return Identity(f"local:{user}", "Mode local", "programme", local=True)


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "inconnu"


# --- the roles file -------------------------------------------------------------------------------


class RolesFileError(ValueError):
    """The roles file cannot be used: French message naming the file, the line and the column."""


@dataclass(frozen=True)
class RoleEntry:
    key: str  # an e-mail (lower case) or ``claim=value``
    role: str
    departement: str | None
    line: int


@dataclass(frozen=True)
class Roles:
    """The roles file, read: e-mail rows and claim rows."""

    by_email: Mapping[str, RoleEntry]
    by_claim: tuple[RoleEntry, ...]

    def entry_for(self, claims: Mapping[str, object]) -> RoleEntry | None:
        email = str(claims.get("email") or "").strip().lower()
        if email and email in self.by_email:
            return self.by_email[email]
        for entry in self.by_claim:
            name, value = entry.key.split("=", 1)
            if str(claims.get(name, "")).strip() == value:
                return entry
        return None


def read_roles(path: Path, departements: frozenset[str] | None = None) -> Roles:
    """Read and check the roles file; ``departements`` (the known codes) checks the third column.

    Every problem raises :class:`RolesFileError` naming the file, the line and the column: a roles
    file half understood would give someone the wrong rights.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise RolesFileError(f"Fichier des rôles illisible : {path} ({exc.strerror or exc}).") from exc
    except UnicodeDecodeError as exc:
        raise RolesFileError(f"Fichier des rôles {path} : encodage non reconnu (attendu : UTF-8).") from exc
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    if not rows or tuple(c.strip().lower() for c in rows[0]) != ROLES_HEADER:
        raise RolesFileError(f"Fichier des rôles {path}, ligne 1 : en-tête attendu « {';'.join(ROLES_HEADER)} ».")
    by_email: dict[str, RoleEntry] = {}
    by_claim: list[RoleEntry] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"Fichier des rôles {path}, ligne {number}"
        if len(row) != len(ROLES_HEADER):
            raise RolesFileError(f"{where} : {len(row)} colonnes au lieu de {len(ROLES_HEADER)} (séparateur « ; »).")
        key, role, departement = (cell.strip() for cell in row)
        if not key:
            raise RolesFileError(f"{where}, colonne courriel : valeur manquante.")
        if "=" in key:
            name, _, value = key.partition("=")
            if not name.strip() or not value.strip():
                raise RolesFileError(f"{where}, colonne courriel : « {key} » n'est ni un courriel ni « claim=valeur ».")
            key = f"{name.strip()}={value.strip()}"
        elif "@" not in key:
            raise RolesFileError(f"{where}, colonne courriel : « {key} » n'est ni un courriel ni « claim=valeur ».")
        else:
            key = key.lower()
        if role not in ROLES:
            raise RolesFileError(f"{where}, colonne role : « {role} » inconnu (rôles admis : {', '.join(ROLES)}).")
        if role == "departement":
            if not departement:
                raise RolesFileError(f"{where}, colonne departement : un rôle departement précise son département.")
            if departements is not None and departement not in departements:
                raise RolesFileError(f"{where}, colonne departement : aucun département de code « {departement} ».")
        elif departement:
            raise RolesFileError(
                f"{where}, colonne departement : le rôle {role} voit tous les départements, laissez-la vide."
            )
        if key in seen:
            raise RolesFileError(f"{where}, colonne courriel : « {key} » déjà présent ligne {seen[key]}.")
        seen[key] = number
        entry = RoleEntry(key, role, departement or None, number)
        if "=" in key:
            by_claim.append(entry)
        else:
            by_email[key] = entry
    return Roles(by_email, tuple(by_claim))


def identify(claims: Mapping[str, object], roles: Roles) -> Identity | None:
    """The identity of a signed-in person (the provider's claims), or None when the roles file does not
    name them (no access: see :data:`WHOM_TO_ASK`)."""
    entry = roles.entry_for(claims)
    if entry is None:
        return None
    email = str(claims.get("email") or claims.get("sub") or "").strip()
    name = " ".join(
        str(claims[k]).strip() for k in ("given_name", "usual_name", "family_name") if claims.get(k)
    ) or str(claims.get("name") or "")
    return Identity(email, name.strip(), entry.role, entry.departement)


# --- the sign-in setting --------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthSetting:
    """The sign-in mode in force (``oidc``, ``local``), or None with the French reason no data is served."""

    mode: str | None
    problem: str | None = None


def auth_setting(chosen: str | None, auth_configured: bool) -> AuthSetting:
    """The sign-in mode from the explicit setting (``FSDASH_AUTH`` or ``[fsdash] auth``) and whether the
    secrets hold an ``[auth]`` section (Streamlit's OpenID Connect settings)."""
    chosen = (chosen or "").strip().lower() or None
    if chosen is not None and chosen not in AUTH_MODES:
        return AuthSetting(None, f"Réglage {AUTH_ENV} « {chosen} » inconnu (valeurs admises : oidc, local).")
    if chosen == "local":
        if auth_configured:
            return AuthSetting(
                None,
                f"{AUTH_ENV}=local est refusé sur un serveur dont la connexion est configurée (section [auth] de "
                ".streamlit/secrets.toml) : retirez l'un des deux réglages.",
            )
        return AuthSetting("local")
    if chosen == "oidc" or auth_configured:
        return AuthSetting("oidc")  # without an [auth] section the sign-in page says it is not configured
    return AuthSetting(
        None,
        "Aucune connexion n'est configurée : le tableau de bord ne montre aucune donnée. Configurez la connexion "
        "(section [auth] de .streamlit/secrets.toml, voir .streamlit/secrets.example.toml) ou, pour la "
        f"démonstration sur un poste de développement, lancez-le avec {AUTH_ENV}=local.",
    )


def setting(name: str, secrets_section: Mapping[str, object] | None, key: str) -> str | None:
    """An fsdash setting: the environment variable ``name`` wins over ``[fsdash] key`` in the secrets."""
    value = os.environ.get(name)
    if value:
        return value
    if secrets_section and secrets_section.get(key):
        return str(secrets_section[key])
    return None
