"""Per-minute request and token counters in the catalog, so every server process (every replica) counts
against the same limits. One row per subject ("key:…", "tenant:…") and minute; every change is a single
atomic upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, in SQLite and PostgreSQL alike), so two
replicas admitting at the same instant never both see the old count."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from ownllm.store.catalog import RateCounter
from ownllm.store.home import Home

KEEP_MINUTES = 5  # older rows are no longer part of any window; the writer deletes them now and then


def _insert(home: Home):  # type: ignore[no-untyped-def]
    dialect = home.catalog.engine.dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(RateCounter)


def bump(home: Home, subjects: list[str], minute: int, requests: int = 0,
         tokens: int = 0) -> dict[str, tuple[int, int]]:
    """Add to each subject's counts for `minute`; returns the new (requests, tokens) of each."""
    out: dict[str, tuple[int, int]] = {}
    with home.catalog.session() as session:
        for subject in subjects:
            statement = _insert(home).values(subject=subject, minute=minute, requests=max(0, requests),
                                             tokens=max(0, tokens))
            statement = statement.on_conflict_do_update(
                index_elements=[RateCounter.subject, RateCounter.minute],
                set_={"requests": RateCounter.requests + requests, "tokens": RateCounter.tokens + tokens},
            ).returning(RateCounter.requests, RateCounter.tokens)
            row = session.execute(statement).one()
            out[subject] = (int(row[0]), int(row[1]))
    return out


def counts(home: Home, subjects: list[str], minutes: tuple[int, int]) -> dict[tuple[str, int], tuple[int, int]]:
    """(requests, tokens) of each subject in each of the given minutes (absent rows are zero)."""
    with home.catalog.session() as session:
        rows = session.execute(select(RateCounter.subject, RateCounter.minute, RateCounter.requests,
                                      RateCounter.tokens)
                               .where(RateCounter.subject.in_(subjects), RateCounter.minute.in_(minutes))).all()
    return {(subject, minute): (int(r), int(t)) for subject, minute, r, t in rows}


def forget_before(home: Home, minute: int) -> None:
    with home.catalog.session() as session:
        session.execute(delete(RateCounter).where(RateCounter.minute < minute - KEEP_MINUTES))
