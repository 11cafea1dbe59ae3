"""Versioned schema migrations (shared/infra/db.py): PRAGMA user_version counts the steps
a database file has had; each step runs once, whole or not at all."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from services.enrichment.store import MIGRATIONS as ENRICHMENT
from services.ingest.store import MIGRATIONS as INGEST
from services.publish.store import MIGRATIONS as PUBLISH
from services.webhooks.store import MIGRATIONS as WEBHOOKS
from shared.infra.db import Database, Migration, SchemaTooNew, run_script

STEPS: tuple[Migration, ...] = (
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);"
    " CREATE TABLE runs (step INTEGER);",
    "ALTER TABLE notes ADD COLUMN author TEXT; INSERT INTO runs VALUES (2);",
)


def version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    conn.close()
    return found


async def test_a_new_file_gets_every_step_and_their_count(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.db", migrations=STEPS)
    await db.close()
    assert version(tmp_path / "t.db") == 2
    with sqlite3.connect(tmp_path / "t.db") as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(notes)")]
    conn.close()
    assert columns == ["id", "text", "author"]


async def test_a_file_at_an_older_version_gets_only_the_steps_it_lacks(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.db", migrations=STEPS[:1])
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO notes(text) VALUES ('kept')")
    await db.close()
    for _ in range(2):  # and opening it again changes nothing
        db = await Database.open(tmp_path / "t.db", migrations=STEPS)
        await db.close()
    with sqlite3.connect(tmp_path / "t.db") as conn:
        assert conn.execute("SELECT text, author FROM notes").fetchall() == [("kept", None)]
        assert conn.execute("SELECT step FROM runs").fetchall() == [(2,)]
    conn.close()
    assert version(tmp_path / "t.db") == 2


async def test_a_file_from_a_newer_release_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.db", migrations=STEPS)
    await db.close()
    with pytest.raises(SchemaTooNew, match="version 2, written by a newer galley"):
        await Database.open(tmp_path / "t.db", migrations=STEPS[:1])
    assert version(tmp_path / "t.db") == 2


async def test_a_failing_step_leaves_the_file_at_the_version_before_it(tmp_path: Path) -> None:
    def breaks(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (x)")
        raise RuntimeError("the step failed midway")

    with pytest.raises(RuntimeError, match="midway"):
        await Database.open(tmp_path / "t.db", migrations=(STEPS[0], breaks))
    assert version(tmp_path / "t.db") == 1
    with sqlite3.connect(tmp_path / "t.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "half" not in tables and "notes" in tables


async def test_replicas_opening_one_file_at_once_apply_each_step_once(tmp_path: Path) -> None:
    opened = await asyncio.gather(
        *(Database.open(tmp_path / "t.db", migrations=STEPS) for _ in range(4))
    )
    for db in opened:
        await db.close()
    with sqlite3.connect(tmp_path / "t.db") as conn:
        assert conn.execute("SELECT step FROM runs").fetchall() == [(2,)]
    conn.close()


@pytest.mark.parametrize(
    ("name", "steps"),
    [("ingest", INGEST), ("enrichment", ENRICHMENT), ("publish", PUBLISH), ("webhooks", WEBHOOKS)],
)
async def test_each_services_database_records_its_schema_version(
    tmp_path: Path, name: str, steps: tuple[Migration, ...]
) -> None:
    db = await Database.open(tmp_path / f"{name}.db", migrations=steps)
    await db.close()
    assert version(tmp_path / f"{name}.db") == len(steps) >= 1


async def test_publish_migration_2_indexes_subjects_under_the_shared_slug_rule(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from services.publish import domain
    from services.publish.store import Store
    from tests.unit.publish.factories import enriched_event, simple_story

    path = tmp_path / "publish.db"
    store = await Store.open(str(path))
    story = simple_story(1).model_copy(update={"subjects": ["Côte d'Ivoire"]})
    now = datetime(2026, 3, 1, tzinfo=UTC)
    await store.apply(
        enriched_event(story).id, story.uri, lambda s: domain.receive(s, story, now), now
    )
    async with store.db.transaction() as conn:  # as release 1 indexed it
        await conn.execute("UPDATE article_subjects SET subject_slug = 'cote-d-ivoire'")
        await conn.execute("UPDATE subjects SET slug = 'cote-d-ivoire'")
        await conn.execute("DROP TABLE subject_moves")
        await conn.execute("PRAGMA user_version = 1")
    await store.close()

    store = await Store.open(str(path))
    try:
        rows = await store.db.fetchall("SELECT subject_slug FROM article_subjects")
        assert [r[0] for r in rows] == ["cote-divoire"]
        # the old address of the subject's page and feeds is remembered, for a redirect
        assert await store.subject_moved("cote-d-ivoire") == "cote-divoire"
        assert await store.subject_moved("cote-divoire") is None
    finally:
        await store.close()
    assert version(path) == 2


def test_a_script_may_end_with_a_comment_but_not_with_half_a_statement() -> None:
    conn = sqlite3.connect(":memory:")
    run_script(conn, "CREATE TABLE a (x); -- the table; of things\n  -- done\n")
    assert conn.execute("SELECT count(*) FROM a").fetchone() == (0,)
    with pytest.raises(ValueError, match="incomplete statement"):
        run_script(conn, "CREATE TABLE b (x); CREATE TABLE c (")
    run_script(
        conn,
        "CREATE TABLE d (t TEXT DEFAULT 'a;b'); /* a; b */"
        " CREATE TRIGGER e AFTER INSERT ON d BEGIN UPDATE d SET t = 'x;y'; END;",
    )
    conn.execute("INSERT INTO d DEFAULT VALUES")
    assert conn.execute("SELECT t FROM d").fetchall() == [("x;y",)]
    conn.close()
