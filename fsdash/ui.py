"""Streamlit glue shared by the pages: the warehouse of this view, the shared filter bar, and
:func:`render`, which draws a section (:mod:`fsdash.views`) on screen.

Pages stay short lists of sections. Everything expensive — queries, formatting, chart specs —
happens in the sections, cached per warehouse version and filters (:mod:`fsdash.cache`); what
runs here on every rerun is widget drawing, and downloads are built only when clicked.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import time
from pathlib import Path
from typing import ClassVar

import polars as pl
import streamlit as st

from fsdash import exports, formats, identity
from fsdash.catalogue import load_catalogue
from fsdash.filters import COMPARISONS, Filters, parse_quarter_code
from fsdash.identity import Identity
from fsdash.metrics import activity
from fsdash.metrics.scope import (
    COLLECTIVITIES,
    LEVEL_LABELS,
    LEVELS,
    Directory,
    Resolution,
    carrier_labels,
    directory,
    resolve_scope,
)
from fsdash.progress import elapsed_text
from fsdash.routes import HOME_ROOT_PATH, ROUTES, Route
from fsdash.views.common import ignored_filters_text, is_demo, period_text
from fsdash.views.section import Section, Table
from fsdash.warehouse.store import Reader, current_reader, default_db_path

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def db_path() -> Path:
    return default_db_path()


def warehouse() -> Reader:
    """The published warehouse, one pooled read-only connection per version (a cursor per thread)."""
    return current_reader(db_path())


# --- files sent --------------------------------------------------------------------------------


def max_upload_bytes() -> int:
    """Streamlit's ``server.maxUploadSize`` (megabytes, ``.streamlit/config.toml``) in bytes: the limit
    the server checks an upload against (the browser's is no guarantee)."""
    return int(st.get_option("server.maxUploadSize")) * 1024 * 1024


class LoadStatus:
    """The upload's progress in the browser (``st.status``): the box's title follows the load's latest
    step with the time it has run, each step is listed inside, and the box ends green, orange or red
    with the outcome. Called with the same French steps as the command line's progress line."""

    OUTCOMES: ClassVar[dict[int, tuple[str, str]]] = {
        0: ("complete", "Chargement terminé"),
        1: ("complete", "Chargement terminé avec des rejets"),
        2: ("error", "Chargement refusé"),
    }

    def __init__(self, files: int) -> None:
        self.start = time.monotonic()
        self.box = st.status(f"Chargement de {formats.plural(files, 'fichier', 'fichiers')}…", expanded=False)

    def _elapsed(self) -> str:
        return elapsed_text(time.monotonic() - self.start)

    def __call__(self, message: str) -> None:
        self.box.update(label=f"{literal(message)} ({self._elapsed()})")
        self.box.write(literal(message))

    def done(self, code: int) -> None:
        state, words = self.OUTCOMES[code]
        self.box.update(label=f"{words} en {self._elapsed()}", state=state)


# --- text from users and data --------------------------------------------------------------------

#: What Streamlit's markdown would read as markup: emphasis, code, links and images, HTML, headings,
#: tables, strikethrough, LaTeX; a colon or dot glued to the next character (``:material/…:`` icons,
#: ``:red[…]`` colours, ``http://`` and ``www.`` autolinks).
_MARKUP = re.compile(r"[\\`*_\[\]<>#|~$&]|[:.](?=\S)|^[+\-=]")


def literal(text: object) -> str:
    """Text from a user or from the data (a site's name, a code from a link, an e-mail) made literal for
    the elements that render markdown (titles, captions, messages, metric labels): every markup
    character is backslash-escaped and line breaks become spaces, so ``**gras**`` reads as typed.
    The one helper of the frame for this; tables, select box options and downloads take text as is."""
    flat = " ".join(str(text).splitlines())
    return _MARKUP.sub(lambda m: "\\" + m.group(0), flat)


# --- who is looking ------------------------------------------------------------------------------

LOGIN_BUTTON_KEY = "connexion"
LOGOUT_BUTTON_KEY = "deconnexion"


def _secrets_section(name: str) -> dict:
    """A section of ``.streamlit/secrets.toml`` as a plain dict (empty when there is no file or no section)."""
    from streamlit.auth_util import get_secrets_auth_section
    from streamlit.runtime.secrets import secrets_singleton

    if name == "auth":
        return dict(get_secrets_auth_section() or {})
    if not secrets_singleton.load_if_toml_exists():
        return {}
    return dict(secrets_singleton.get(name, {}) or {})


@functools.lru_cache(maxsize=4)
def _roles(path: str, modified_ns: int) -> identity.Roles:
    """The roles file, read again when it changes (its modification time is in the key)."""
    from fsdash import geography

    known = frozenset(geography.departements()["code"].to_list()) | frozenset(COLLECTIVITIES)
    return identity.read_roles(Path(path), known)


def viewer() -> Identity:
    """Who is looking, or a page saying why nothing is shown (then the run stops).

    The sign-in mode is an explicit setting (:func:`fsdash.identity.auth_setting`). In ``oidc`` mode
    the person signs in with Streamlit's ``st.login`` (the ``[auth]`` section of the secrets: ProConnect
    or any OpenID Connect provider; ``[fsdash] provider`` names one of several) and the roles file
    (``FSDASH_ROLES`` or ``[fsdash] roles``) gives their role; someone it does not name sees whom to ask.
    """
    settings = _secrets_section("fsdash")
    auth = _secrets_section("auth")
    chosen = identity.setting(identity.AUTH_ENV, settings, "auth")
    setting = identity.auth_setting(chosen, bool(auth))
    if setting.mode is None:
        st.error(setting.problem, icon=":material/lock:")
        st.stop()
    if setting.mode == "local":
        return identity.local_identity()
    claims = st.user.to_dict()
    if not claims.get("is_logged_in"):
        _login_page(auth, settings.get("provider"))
    roles_path = identity.setting(identity.ROLES_ENV, settings, "roles")
    if not roles_path:
        st.error(
            f"Fichier des rôles non configuré ({identity.ROLES_ENV} ou « roles » de la section [fsdash] des secrets) : "
            "personne ne peut voir de données.",
            icon=":material/lock:",
        )
        st.stop()
    try:
        path = Path(roles_path)
        roles = _roles(str(path), path.stat().st_mtime_ns if path.exists() else 0)
    except identity.RolesFileError as exc:
        st.error(literal(exc), icon=":material/lock:")
        st.stop()
    who = identity.identify(claims, roles)
    if who is None:
        st.title("Accès non ouvert")
        email = claims.get("email") or claims.get("sub") or "?"
        st.write(
            f"Vous êtes connecté avec l'adresse {literal(email)}, à laquelle ce tableau de bord n'a ouvert aucun accès."
        )
        st.write(identity.WHOM_TO_ASK)
        if st.button("Se déconnecter", key=LOGOUT_BUTTON_KEY):
            st.logout()
        st.stop()
    return who


def _login_page(auth: dict, provider: str | None) -> None:
    st.title("France Services — tableau de bord de pilotage")
    st.write(
        "Ce tableau de bord est réservé à l'équipe du programme France Services, au comité national et aux comités "
        "départementaux. Connectez-vous avec votre compte professionnel (ProConnect)."
    )
    if not auth:
        st.error(
            "La connexion n'est pas configurée sur ce serveur (section [auth] de .streamlit/secrets.toml).",
            icon=":material/lock:",
        )
    elif st.button("Se connecter", type="primary", key=LOGIN_BUTTON_KEY):
        st.login(provider or None)
    st.stop()


def identity_bar(who: Identity) -> None:
    """The sidebar's line on who is looking, and the sign-out button (none in local mode)."""
    st.sidebar.caption(literal(who.label) if not who.local else "Mode local sans connexion")
    if not who.local and st.sidebar.button("Se déconnecter", key=LOGOUT_BUTTON_KEY):
        st.logout()


def route_of(page) -> Route | None:
    """The route of the page Streamlit is about to run (Accueil answers at ``/`` too)."""
    url_path = getattr(page, "url_path", None)
    if url_path == HOME_ROOT_PATH:
        return ROUTES[0]
    return next((r for r in ROUTES if r.url_path == url_path), None)


def refusal(route: Route) -> str:
    roles = ", ".join(identity.ROLES[r] for r in identity.ROLES if r in route.roles)
    return f"La page « {route.title} » est réservée à : {roles}."


def start(page, who: Identity) -> None:
    """Run the frame's part of every page: the filter bar, then the page itself — once admitted.

    ``who`` (:func:`viewer`) clamps the scope in the resolver; a page its role does not see is refused
    here, whatever the link; local mode's banner is drawn above every page.

    The admission gate (:mod:`fsdash.admission`, ``FSDASH_MAX_RUNS``) bounds the runs computed at
    once: past it a run waits a few seconds for a slot, then says the server is busy and stops,
    instead of making every viewer wait on every other one. ``st.stop()`` keeps the session's filters.

    ``import pandas`` first: Streamlit imports pandas lazily, at the first table drawn, and Altair
    building a chart in another session at that moment takes the half-imported module from
    ``sys.modules`` and fails (« partially initialized module 'pandas' has no attribute
    'Timestamp' », seen on fresh servers under load). Imported here, before any section, a
    concurrent run waits for the import to complete (Python's import lock) instead.
    """
    import pandas  # noqa: F401 (see the docstring)

    from fsdash import admission

    with admission.gate().slot() as admitted:
        if not admitted:
            st.warning(admission.BUSY_MESSAGE, icon=":material/hourglass_top:")
            st.stop()
        if who.local:
            st.html(f'<div role="status" class="fsdash-local">{LOCAL_BANNER_HTML}</div>')
        found = route_of(page)
        if found is not None and who.role not in found.roles:
            st.error(refusal(found), icon=":material/lock:")
            st.stop()
        wh = warehouse()
        st.session_state["identity"] = who
        st.session_state["filters"] = filter_bar(wh, who)
        page.run()


LOCAL_BANNER_HTML = (
    '<p style="background:#FFE9E6;color:#3A3A3A;border-left:4px solid #E1000F;padding:0.5rem 0.75rem;margin:0">'
    f"<strong>{identity.LOCAL_BANNER.split(' — ')[0]}</strong> — {identity.LOCAL_BANNER.split(' — ', 1)[1]}</p>"
)


def current_identity() -> Identity:
    """The identity the frame admitted for this run (pages ask it, e.g. whether the viewer may load)."""
    return st.session_state["identity"]


def context() -> tuple[Reader, Filters]:
    """What a page draws from: the warehouse and the shared filters."""
    return warehouse(), st.session_state.get("filters", Filters())


# --- the shared filter bar ----------------------------------------------------------------------


def _index(options: list, wanted: object) -> int:
    return options.index(wanted) if wanted in options else 0


def _list_param(params, key: str) -> tuple[str, ...]:
    return tuple(v for v in (params.get(key) or "").split(",") if v)


def _linked_view(d: Directory, params, first_run: bool, who: Identity) -> Resolution:
    """The view the URL describes, checked by the resolver. The URL mirrors the widgets, so it
    also gives their defaults; on a session's first run, what a link asked that cannot be shown
    (a mistyped code) is kept to be said, not guessed."""
    resolution = resolve_scope(
        d,
        params.get("perimetre", "national"),
        params.get("code"),
        _list_param(params, "formats"),
        _list_param(params, "porteurs"),
        who,
    )
    if first_run:
        st.session_state["scope_problems"] = resolution.problems
    return resolution


def _scope_widgets(d: Directory, wanted: Resolution, who: Identity) -> tuple[str, str | None]:
    """Périmètre, then the région or département, then the site: (level, code). A département's
    committee is offered only its own sites (the resolver refuses the others anyway)."""
    level = st.sidebar.selectbox(
        "Périmètre",
        LEVELS,
        format_func=LEVEL_LABELS.get,
        key="scope_level",
        index=_index(list(LEVELS), wanted.scope.level),
    )
    if level == "national":
        return level, None
    if level == "region":
        codes = sorted(d.regions)
        code = st.sidebar.selectbox(
            "Région",
            codes,
            format_func=lambda c: d.area_label("region", c),
            key="scope_code_region",
            index=_index(codes, wanted.scope.region),
        )
        return level, code
    codes = sorted(d.departements)
    dep = st.sidebar.selectbox(
        "Département",
        codes,
        format_func=lambda c: d.area_label("departement", c),
        key="scope_code_departement",
        index=_index(codes, wanted.scope.departement),
    )
    if level == "departement":
        return level, dep
    if not who.sees_site_detail(dep):
        st.sidebar.info("Le détail des sites de ce département est réservé à son comité départemental.")
        return "departement", dep
    sites = d.sites_of(dep)
    ids = sites["site_id"].to_list()
    names = dict(sites.iter_rows())
    if not ids:
        st.sidebar.info("Aucun site dans ce département.")
        return "departement", dep
    site = st.sidebar.selectbox(
        "Site",
        ids,
        format_func=lambda i: f"{names[i]} ({i})",
        key="scope_site",
        index=_index(ids, wanted.scope.code if wanted.scope.level == "site" else None),
    )
    return level, site


def _say(problem: str) -> None:
    """Keep one more thing the link asked that cannot be shown, to be said above the page."""
    st.session_state["scope_problems"] = (*st.session_state.get("scope_problems", ()), problem)


def _comparison_widget(params) -> str:
    """The « Comparaison » selector; an unknown code from a link falls back to none, said so."""
    comparisons = list(COMPARISONS)
    wanted = params.get("comparaison", "aucune")
    if wanted not in COMPARISONS and "filtre_comparaison" not in st.session_state:
        _say(f"Comparaison « {wanted} » inconnue : la vue ne compare à rien.")
    return st.sidebar.selectbox(
        "Comparaison",
        comparisons,
        format_func=COMPARISONS.get,
        key="filtre_comparaison",
        index=_index(comparisons, wanted),
    )


def _period_widget(wh: Reader, params) -> tuple[dt.date | None, dt.date | None]:
    quarters = activity.quarters(wh)
    if not quarters:
        return None, None
    if len(quarters) == 1:
        return quarters[0], quarters[0]
    wanted = [parse_quarter_code(params.get("du")), parse_quarter_code(params.get("au"))]
    if "filtre_periode" not in st.session_state:
        outside = [
            params.get(k) for k, q in zip(("du", "au"), wanted, strict=True) if params.get(k) and q not in quarters
        ]
        if outside:
            _say(
                f"Trimestre sans données ou illisible ignoré ({', '.join(outside)}) : les données vont du "
                f"{formats.quarter_short(quarters[0])} au {formats.quarter_short(quarters[-1])}."
            )
    default = (
        wanted[0] if wanted[0] in quarters else quarters[0],
        wanted[1] if wanted[1] in quarters else quarters[-1],
    )
    if default[0] > default[1]:
        default = (default[1], default[0])
        if "filtre_periode" not in st.session_state:
            _say(
                f"Période inversée ({params.get('du')} après {params.get('au')}) : la vue montre la période "
                f"du {formats.quarter_short(default[0])} au {formats.quarter_short(default[1])}."
            )
    first, last = st.sidebar.select_slider(
        "Période", options=quarters, value=default, format_func=formats.quarter_short, key="filtre_periode"
    )
    return first, last


def filter_bar(wh: Reader, who: Identity) -> Filters:
    """The shared filter bar (sidebar), mirrored in the URL so that a link reproduces the view.

    Scope (France, région, département, site), quarter range, site formats and carriers, and
    the comparison. The one scope resolver turns the choice into the scope every section uses.
    Widget keys are prefixed ``scope_``/``filtre_`` and live in session state, so every page of
    the session sees the same selection.
    """
    params = st.query_params
    d = directory(wh)
    wanted = _linked_view(d, params, "scope_level" not in st.session_state, who)
    level, code = _scope_widgets(d, wanted, who)
    catalogue = load_catalogue()
    fmt_dim = catalogue.dimensions["format"]
    carriers = carrier_labels()
    with st.sidebar.expander("Format et porteur des sites", expanded=bool(wanted.scope.narrowed)):
        chosen_formats = st.multiselect(
            "Format",
            fmt_dim.codes,
            format_func=fmt_dim.label_of,
            key="filtre_formats",
            default=list(wanted.scope.formats),
            placeholder="Tous les formats",
            select_all=False,  # Streamlit writes « Select all » in English; empty means all
        )
        chosen_carriers = st.multiselect(
            "Porteur",
            list(carriers),
            format_func=carriers.get,
            key="filtre_porteurs",
            placeholder="Tous les porteurs",
            select_all=False,  # Streamlit writes « Select all » in English; empty means all
            default=list(wanted.scope.carriers),
        )
    scope = resolve_scope(d, level, code, tuple(chosen_formats), tuple(chosen_carriers), who).scope
    first, last = _period_widget(wh, params)
    comparison = _comparison_widget(params)
    filters = Filters(scope, first, last, comparison)
    if "scope_problems_view" not in st.session_state:
        st.session_state["scope_problems_view"] = filters  # the fallback the link's problems describe
    wanted_params = filters.to_params()
    if {k: params.get(k) for k in set(params) | set(wanted_params)} != wanted_params:
        params.from_dict(wanted_params)
    return filters


# --- page furniture --------------------------------------------------------------------------------


def header(
    title: str,
    filters: Filters,
    *,
    scope: bool = True,
    period: bool = True,
    feed: bool = False,
    ignores: dict[str, str] | None = None,
) -> None:
    """Title, the scope (and period) in words, the filters of the bar the page does not honour and
    why (``ignores``: filter -> reason), the demo flag and anything the link asked that could not be
    shown. A page of the quarterly feed stops with a clear message when the warehouse holds no
    activity yet."""
    wh = warehouse()
    st.title(title)
    if scope:
        words = filters.scope.title
        if period and filters.first is not None:
            words += f" — {period_text(filters.first, filters.last)}"
        st.caption(literal(words))
    if note := ignored_filters_text(ignores or {}):
        st.caption(note)
    if st.session_state.get("scope_problems_view") == filters:  # said until the viewer picks another view
        for problem in st.session_state.get("scope_problems", ()):
            st.warning(literal(problem), icon=":material/link_off:")
    if is_demo(wh):
        st.warning(
            "**Données de démonstration** — chiffres synthétiques générés par fsdash "
            "(python -m fsdash demo), calés sur les ordres de grandeur publics du programme.",
            icon=":material/science:",
        )
    if feed and filters.first is None:
        st.info("Aucune donnée d'activité : chargez un reporting trimestriel (python -m fsdash ingest).")
        st.stop()


_MESSAGE = {"info": st.info, "warning": st.warning, "success": st.success, "error": st.error}


#: Kinds written as French text on screen (:attr:`Table.display`), aligned as numbers.
_NUMBER_KINDS = ("integer", "decimal", "percent", "euros")


def _column_config(table: Table) -> dict:
    config = {}
    for column in table.described():
        if column.kind in _NUMBER_KINDS:
            config[column.name] = st.column_config.TextColumn(alignment="right")
        elif column.kind == "date":
            config[column.name] = st.column_config.DateColumn(format="DD/MM/YYYY")
        elif column.kind == "datetime":
            config[column.name] = st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm")
    return config


def table(data: Table, **kwargs) -> None:
    """A table written the French way (:attr:`Table.display`, computed once with its section); the
    downloads keep the typed values. An Arrow table goes to the browser as is (a Polars frame would
    pass through pandas on every rerun)."""
    st.dataframe(data.display.to_arrow(), hide_index=True, column_config=_column_config(data), **kwargs)


def downloads(key: str, frame: pl.DataFrame) -> None:
    """CSV for French Excel and XLSX of a frame, built when clicked, never on a rerun."""
    cols = st.columns(2)
    cols[0].download_button(
        "Télécharger (CSV)",
        lambda: exports.csv_bytes(frame),
        file_name=f"{key}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )
    cols[1].download_button(
        "Télécharger (XLSX)",
        lambda: exports.xlsx_bytes(frame),
        file_name=f"{key}.xlsx",
        mime=XLSX_MIME,
        key=f"{key}_xlsx",
        on_click="ignore",
    )


def _heading(section: Section) -> None:
    if not section.title or section.heading == "none":
        return
    if section.heading == "header":
        st.header(section.title)
    elif section.heading == "bold":
        st.markdown(f"**{section.title}**")
    else:
        st.subheader(section.title)


def tiles(section: Section) -> None:
    rows = section.tile_rows or (len(section.tiles),)
    position = 0
    for size in rows:
        columns = st.columns(size)
        for column, tile in zip(columns, section.tiles[position : position + size], strict=False):
            column.metric(tile.label, tile.value, delta=tile.delta, delta_color=tile.delta_color, help=tile.help)
            if tile.caption:
                column.caption(tile.caption)
        position += size


def _figure(section: Section) -> None:
    if section.chart is not None:
        st.vega_lite_chart(spec={**section.chart}, width="stretch", alt=section.chart_alt)
    if section.deck is not None:
        st.pydeck_chart(section.deck, height=section.extra.get("height", 520), key=f"{section.key}_carte")


def render(section: Section | None, *, heading: bool = True) -> None:
    """Draw a section: heading, intro, messages, tiles, chart or map, caption, table and downloads.

    Nothing is computed here: the section arrives formatted and its chart spec built. ``None``
    (a section that has nothing to say for these filters) draws nothing. ``heading=False`` when
    the page drew the title itself, above the widgets the section depends on.
    """
    if section is None:
        return
    if heading:
        _heading(section)
    if section.intro:
        st.markdown(section.intro)
    for message in section.messages:
        _MESSAGE[message.kind](message.text)
    if section.empty:
        st.info(section.empty)
        return
    if section.tiles:
        tiles(section)
    frame = section.download_frame
    if section.extra.get("side_by_side") and section.table is not None:
        left, right = st.columns([5, 4])
        with left:
            _figure(section)
        with right:
            table(section.table, height=section.extra.get("height", 520))
        caption = section.caption()
        if caption:
            st.caption(caption)
        if section.downloads and frame is not None:
            with st.expander("Téléchargements"):
                downloads(section.key, frame)
        return
    _figure(section)
    caption = section.caption()
    if caption:
        st.caption(caption)
    if section.table is not None and not section.table_in_expander:
        table(section.table)
        if section.downloads and frame is not None:
            downloads(section.key, frame)
    elif frame is not None and (section.table is not None or section.downloads):
        with st.expander("Tableau et téléchargements" if section.table is not None else "Téléchargements"):
            if section.table is not None:
                table(section.table)
            if section.downloads:
                downloads(section.key, frame)
