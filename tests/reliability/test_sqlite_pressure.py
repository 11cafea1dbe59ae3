"""SQLite under pressure: 50 concurrent writers never meet "database is locked", and a
SIGKILL in the middle of writes leaves an intact file with no partial article."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.infra.db import Database

pytestmark = pytest.mark.reliability

SCHEMA = """
CREATE TABLE IF NOT EXISTS stories (id TEXT PRIMARY KEY, parts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS parts (story TEXT NOT NULL, n INTEGER NOT NULL,
                                  PRIMARY KEY (story, n));
"""
ROOT = Path(__file__).resolve().parents[2]


async def _writer(db: Database, name: str, stories: int) -> None:
    for i in range(stories):
        async with db.transaction() as conn:
            story = f"{name}-{i}"
            await conn.execute("INSERT INTO stories(id, parts) VALUES (?, 3)", (story,))
            for n in range(3):
                await conn.execute("INSERT INTO parts(story, n) VALUES (?, ?)", (story, n))
            await asyncio.sleep(0)  # let the other writers pile up on the lock


async def test_fifty_concurrent_writers_on_one_database_all_commit_without_lock_errors(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "pressure.db", schema=[SCHEMA])
    try:
        await asyncio.gather(*(_writer(db, f"w{k}", 20) for k in range(50)))
        row = await db.fetchone("SELECT COUNT(*) FROM stories")
        parts = await db.fetchone("SELECT COUNT(*) FROM parts")
    finally:
        await db.close()
    assert row is not None and row[0] == 50 * 20
    assert parts is not None and parts[0] == 50 * 20 * 3


async def test_fifty_writers_over_five_connections_wait_for_each_other_instead_of_failing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"
    dbs = [await Database.open(path, schema=[SCHEMA]) for _ in range(5)]
    try:
        await asyncio.gather(*(_writer(dbs[k % 5], f"w{k}", 10) for k in range(50)))
        row = await dbs[0].fetchone("SELECT COUNT(*) FROM stories")
    finally:
        for db in dbs:
            await db.close()
    assert row is not None and row[0] == 50 * 10


def _count(path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def _kill_mid_write(path: Path, prefix: str, after: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.sqlite_writer", str(path), prefix], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 60
        while _count(path) < after and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, "the writer died on its own"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_sigkill_during_article_writes_leaves_an_intact_file_and_no_partial_article(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ingest.db"
    for round_, after in enumerate((5, 40, 90)):
        _kill_mid_write(path, f"r{round_}", after)

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        articles = {r[0] for r in conn.execute("SELECT uri FROM articles")}
        versions = {r[0] for r in conn.execute("SELECT uri FROM article_versions")}
        queued = {
            r[0]
            for r in conn.execute(
                "SELECT subject FROM outbox WHERE event_type = 'article.ingested'"
            )
        }
    finally:
        conn.close()
    assert len(articles) >= 90
    assert articles == versions == queued  # every article whole: row, version and its event
