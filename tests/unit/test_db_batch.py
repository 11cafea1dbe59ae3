"""Database.batch(): many transactions of one task share one commit, each a savepoint."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from contextvars import ContextVar
from pathlib import Path

import pytest

from shared.infra.db import Database, run_sync

SCHEMA = ["CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY)"]


async def keys(db: Database) -> list[str]:
    return [r["k"] for r in await db.fetchall("SELECT k FROM t ORDER BY k")]


async def test_a_failing_transaction_inside_a_batch_rolls_back_alone(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "b.db", schema=SCHEMA)
    try:
        async with db.batch():
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES ('a')")
            with pytest.raises(RuntimeError):
                async with db.transaction() as conn:
                    await conn.execute("INSERT INTO t VALUES ('b')")
                    raise RuntimeError("handler failed")
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES ('c')")
        assert await keys(db) == ["a", "c"]
    finally:
        await db.close()


async def test_nothing_of_a_batch_is_visible_to_others_before_it_commits(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "b.db", schema=SCHEMA)
    other = await Database.open(tmp_path / "b.db")
    try:
        async with db.batch():
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES ('a')")
            assert await keys(db) == ["a"]  # the batch's own task reads its writes
            assert await keys(other) == []
        assert await keys(other) == ["a"]
    finally:
        await other.close()
        await db.close()


async def test_an_error_escaping_the_batch_rolls_back_every_transaction_in_it(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "b.db", schema=SCHEMA)
    try:
        with pytest.raises(RuntimeError):
            async with db.batch():
                async with db.transaction() as conn:
                    await conn.execute("INSERT INTO t VALUES ('a')")
                raise RuntimeError("commit never reached")
        assert await keys(db) == []
    finally:
        await db.close()


async def test_another_task_writes_after_the_batch_commits_not_inside_it(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "b.db", schema=SCHEMA)
    order: list[str] = []

    async def outsider() -> None:
        async with db.transaction() as conn:
            order.append("outsider")
            await conn.execute("INSERT INTO t VALUES ('z')")

    try:
        async with db.batch():
            task = asyncio.create_task(outsider())
            await asyncio.sleep(0.05)
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES ('a')")
            order.append("batch")
        await task
        assert order == ["batch", "outsider"]
        assert await keys(db) == ["a", "z"]
    finally:
        await db.close()


TRACE: ContextVar[str] = ContextVar("trace", default="none")


def _insert_and_read_trace(conn: sqlite3.Connection, key: str) -> str:
    conn.execute("INSERT INTO t VALUES (?)", (key,))
    return TRACE.get()


async def test_run_sync_is_part_of_the_savepoint_and_sees_the_callers_context(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "r.db", schema=SCHEMA)
    TRACE.set("trace-1")
    try:
        async with db.batch():
            async with db.transaction() as conn:
                assert await run_sync(conn, _insert_and_read_trace, "kept") == "trace-1"
            with pytest.raises(RuntimeError):
                async with db.transaction() as conn:
                    await run_sync(conn, _insert_and_read_trace, "rolled-back")
                    raise RuntimeError("handler failed after its unit of work")
        assert await keys(db) == ["kept"]
    finally:
        await db.close()


def _thread(conn: sqlite3.Connection) -> int:
    return threading.get_ident()


async def test_the_batch_task_runs_its_units_on_the_loop_thread_and_others_hop(
    tmp_path: Path,
) -> None:
    """Inside a batch its own task's units skip the hop to aiosqlite's thread; a unit
    outside a batch, or from a task the batch did not open, still takes it."""
    db = await Database.open(tmp_path / "i.db", schema=SCHEMA)
    loop_thread = threading.get_ident()
    try:
        async with db.transaction() as conn:
            assert await run_sync(conn, _thread) != loop_thread
        async with db.batch():
            async with db.transaction() as conn:
                assert await run_sync(conn, _thread) == loop_thread
                # a child task inherits the batch's context but is not the batch's task
                assert await asyncio.create_task(run_sync(conn, _thread)) != loop_thread
        assert await run_sync(db._writer, _thread) != loop_thread  # batch over
    finally:
        await db.close()


def _begin_threads(db: Database) -> list[int]:
    """Record the thread of every BEGIN the writer connection runs from now on."""
    seen: list[int] = []

    def trace(sql: str) -> None:
        if sql.startswith("BEGIN"):
            seen.append(threading.get_ident())

    db._writer._conn.set_trace_callback(trace)
    return seen


async def test_begin_runs_on_the_loop_thread_when_the_write_lock_is_free(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "b.db", schema=SCHEMA)
    try:
        begins = _begin_threads(db)
        async with db.batch():
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES ('a')")
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES ('b')")
        assert await keys(db) == ["a", "b"]
    finally:
        await db.close()
    assert begins == [threading.get_ident()] * 2


async def test_begin_waits_off_the_loop_while_another_process_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    """Another connection (as another replica would) holds SQLite's write lock: the batch
    waits for it on aiosqlite's thread, the loop keeps running, and the batch then goes on."""
    db = await Database.open(tmp_path / "b.db", schema=SCHEMA)
    other = sqlite3.connect(tmp_path / "b.db", isolation_level=None, check_same_thread=False)
    try:
        begins = _begin_threads(db)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES ('first')")

        async def write() -> None:
            async with db.batch():
                async with db.transaction() as conn:
                    await conn.execute("INSERT INTO t VALUES ('second')")

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.2)  # runs only if the waiting BEGIN left the loop free
        assert not writing.done()
        other.execute("COMMIT")
        await asyncio.wait_for(writing, timeout=10)
        assert await keys(db) == ["first", "second"]
    finally:
        other.close()
        await db.close()
    assert len(begins) == 2 and begins[-1] != threading.get_ident()  # tried inline, then waited


async def test_peek_reads_committed_rows_on_the_loop_thread_without_the_reader(
    tmp_path: Path,
) -> None:
    """peek() answers while the reader connection's thread is stuck: it never goes there."""
    db = await Database.open(tmp_path / "b.db", schema=SCHEMA)
    release = threading.Event()
    try:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES ('a')")
        stuck = asyncio.create_task(run_sync(db._reader, lambda _conn: release.wait(10)))
        await asyncio.sleep(0.05)
        async with db.batch():  # a batch in progress: its rows are not committed yet
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES ('b')")
            assert [r["k"] for r in await db.peek("SELECT k FROM t ORDER BY k")] == ["a"]
        assert [r["k"] for r in await db.peek("SELECT k FROM t ORDER BY k")] == ["a", "b"]
        assert not stuck.done()
    finally:
        release.set()
        await stuck
        await db.close()


class _BusyPeeker:
    """Stands in for the peek connection at the rare moment SQLite answers BUSY to a WAL
    reader (a log being recovered or reset), which a test cannot provoke on demand."""

    def __init__(self, code: int) -> None:
        self.code = code

    def execute(self, _sql: str, _params: tuple[object, ...]) -> None:
        error = sqlite3.OperationalError("stand-in error")
        error.sqlite_errorcode = self.code  # type: ignore[attr-defined]
        raise error

    def close(self) -> None:
        pass


async def test_peek_reads_through_the_reader_when_sqlite_is_busy(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "b.db", schema=SCHEMA)
    try:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES ('a')")
        db._peeker.close()
        db._peeker = _BusyPeeker(sqlite3.SQLITE_BUSY_RECOVERY)  # an extended BUSY code
        assert [r["k"] for r in await db.peek("SELECT k FROM t")] == ["a"]
        db._peeker = _BusyPeeker(sqlite3.SQLITE_CORRUPT)  # anything else is raised
        with pytest.raises(sqlite3.OperationalError):
            await db.peek("SELECT k FROM t")
    finally:
        await db.close()


async def test_peek_on_an_in_memory_database_reads_through_the_shared_connection() -> None:
    db = await Database.open(":memory:", schema=SCHEMA)
    try:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES ('a')")
        assert [r["k"] for r in await db.peek("SELECT k FROM t")] == ["a"]
    finally:
        await db.close()
