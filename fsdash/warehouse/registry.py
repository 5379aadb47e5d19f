"""The site registry: upserts with history, and closures when an official list drops a site.

A site is never deleted: what changes about it (label, département, hours, closure, reopening)
is written to ``site_history`` with the batch that brought it, so the network can be traced
at any date.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from fsdash import geography
from fsdash.catalogue import Table

_HISTORY_SCHEMA = {"site_id": pl.String, "event": pl.String, "event_date": pl.Date, "details": pl.String}


def _history_rows(changed: pl.DataFrame, before: pl.DataFrame, cols: list[str]) -> list[tuple]:
    old_by_id = {r["site_id"]: r for r in before.iter_rows(named=True)}
    history = []
    for row in changed.iter_rows(named=True):
        old = old_by_id.get(row["site_id"])
        if old is None:
            history.append((row["site_id"], "labellisation", row["date_labellisation"], "nouveau site"))
        else:
            diffs = [f"{c} : {old[c]} → {row[c]}" for c in cols if old[c] != row[c]]
            history.append((row["site_id"], "modification", None, " ; ".join(diffs)))
        was_closed = old is not None and old["date_fermeture"] is not None
        if row["date_fermeture"] is not None and not was_closed:
            history.append((row["site_id"], "fermeture", row["date_fermeture"], "site fermé"))
        if was_closed and row["date_fermeture"] is None:
            history.append((row["site_id"], "reouverture", None, "site de nouveau ouvert"))
    return history


def _append_history(con: duckdb.DuckDBPyConnection, rows: list[tuple], batch_id: int) -> None:
    if not rows:
        return
    con.register("_history", pl.DataFrame(rows, schema=_HISTORY_SCHEMA, orient="row"))
    con.sql("INSERT INTO site_history SELECT site_id, event, event_date, ?, details FROM _history", params=[batch_id])
    con.unregister("_history")


def write_sites(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    valid: pl.DataFrame,
    batch_id: int,
    *,
    source: str = "fichier",
    keep_existing: tuple[str, ...] = (),
    keep_reported: tuple[str, ...] = (),
    kept: dict[str, int] | None = None,
) -> tuple[int, set[str]]:
    """Upsert sites; returns (sites written, départements whose requests rollup rows must be recomputed).

    The rollups group requests by the site's département, format and carrier as the registry has
    them now: when a site changes any of them, its old and its new département are returned.

    ``keep_existing`` names columns the source does not carry (the ANCT list says nothing of the
    carrier of non-postal sites): an empty incoming cell keeps the registry's value instead of
    erasing what another file taught it. ``keep_reported`` names columns the source does carry but
    may leave empty (hours, postcode…): an empty cell keeps the known value too, and ``kept`` is
    told, by column, how many known values were kept so (the report says it: nothing is erased
    silently, nor kept silently).
    """
    cols = [c.code for c in table.columns]
    regions = geography.departements().select(pl.col("code").alias("departement"), "region")
    existing = con.sql(f"SELECT {', '.join(cols)} FROM sites").pl()
    incoming = valid.select(cols)
    keep = [c for c in (*keep_existing, *keep_reported) if c in cols]
    if keep:
        known = existing.select("site_id", *[pl.col(c).alias(f"_old_{c}") for c in keep])
        incoming = incoming.join(known, on="site_id", how="left", maintain_order="left")
        if kept is not None:
            reported = [c for c in keep_reported if c in cols]
            counts = incoming.select(
                (pl.col(c).is_null() & pl.col(f"_old_{c}").is_not_null()).sum().alias(c) for c in reported
            )
            kept.update({c: n for c, n in zip(reported, counts.row(0), strict=True) if n} if reported else {})
        incoming = incoming.with_columns(pl.coalesce(c, f"_old_{c}").alias(c) for c in keep).select(cols)
    changed = incoming.join(existing, on=cols, how="anti", nulls_equal=True).join(regions, on="departement", how="left")
    if changed.is_empty():
        return 0, set()
    before = existing.join(changed.select("site_id"), on="site_id", how="semi")
    con.register("_incoming_sites", changed)
    con.sql("DELETE FROM sites WHERE site_id IN (SELECT site_id FROM _incoming_sites)")
    con.sql(
        f"INSERT INTO sites ({', '.join(cols)}, region, batch_id, updated_at, source) "
        f"SELECT {', '.join(cols)}, region, ?, current_timestamp, ? FROM _incoming_sites",
        params=[batch_id, source],
    )
    con.unregister("_incoming_sites")
    _append_history(con, _history_rows(changed, before, cols), batch_id)
    grouped_by = ["departement", "format", "porteur"]
    old = before.select("site_id", *[pl.col(c).alias(f"_old_{c}") for c in grouped_by])
    regrouped = changed.join(old, on="site_id").filter(
        pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"_old_{c}")) for c in grouped_by)
    )
    return changed.height, {d for d in [*regrouped["departement"], *regrouped["_old_departement"]] if d is not None}


def close_missing(
    con: duckdb.DuckDBPyConnection, listed: list[str], list_date: dt.date, source: str, batch_id: int
) -> int:
    """Close the open sites of ``source`` that the new list no longer holds; returns how many."""
    con.register("_listed", pl.DataFrame({"site_id": listed}, schema={"site_id": pl.String}))
    gone = con.sql(
        """SELECT site_id FROM sites WHERE source = ? AND date_fermeture IS NULL
                      AND site_id NOT IN (SELECT site_id FROM _listed)""",
        params=[source],
    ).pl()
    con.unregister("_listed")
    if gone.is_empty():
        return 0
    con.register("_gone", gone)
    con.sql(
        """UPDATE sites SET date_fermeture = ?, batch_id = ?, updated_at = current_timestamp
               WHERE site_id IN (SELECT site_id FROM _gone)""",
        params=[list_date, batch_id],
    )
    con.unregister("_gone")
    note = f"absent de la liste du {list_date.strftime('%d/%m/%Y')}"
    _append_history(con, [(s, "fermeture", list_date, note) for s in gone["site_id"].to_list()], batch_id)
    return gone.height


def registry(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The whole site registry as stored (every column), by site: what the demo draws its feed on."""
    return con.sql("SELECT * FROM sites ORDER BY site_id").pl()
