"""SQLite through aiosqlite: WAL, a busy timeout, and `BEGIN IMMEDIATE` writes.

One writer connection per process, serialized by a lock, so concurrent tasks
never nest transactions or meet "database is locked"; a second connection
serves reads, which WAL lets run beside the writer.

`batch()` groups many transactions of one task into ONE commit (one fsync):
inside it, that task's `transaction()` calls become savepoints, so each can
still fail and roll back alone while the others stay in the batch. Reads from
the batch's own task go through the writer, so they see the batch so far.

`run_sync(conn, fn, ...)` runs a plain function with the connection's sqlite3
handle on aiosqlite's own thread: a unit of work of many statements costs ONE
hop between the event loop and that thread instead of one (or three, for a
cursor) per statement. The hot paths of the services use it; the statements
still run inside the caller's transaction or savepoint.

Inside a batch, the batch's own task runs its savepoints and `run_sync` units on
the event loop's thread, with no hop at all. That is safe, and the loop never waits
on a lock or the disk there: the batch holds the writer lock and `BEGIN IMMEDIATE`
(no busy wait can happen), nothing else uses the writer connection meanwhile, and
nothing inside a batch syncs to disk: the fsync is the COMMIT's, which still runs on
aiosqlite's thread. `BEGIN IMMEDIATE` runs on the loop's thread too when SQLite's write
lock is free and the connection idle (it then waits for nothing); otherwise,
the BEGIN goes to aiosqlite's thread, which waits there up to the busy timeout.
A hop costs about 100 µs of CPU (futures, a self-pipe wake-up, two GIL hand-overs);
a consumer's entry used to make three of them.

`peek()` is for a small, bounded read on a hot path (the outbox relay looks for new rows
after every batch, at most its batch size): it runs on the event loop's thread, on a
read-only connection of its own whose busy timeout is 0, so it never waits for a lock
another connection holds (SQLite's own brief retries aside); in WAL mode a reader meets
one only at the rare moment SQLite resets the log, and then `peek()` hands the read to
the reader connection instead, as any other. It sees committed rows only. A `:memory:`
database has no peek connection: there the read goes through its one shared connection
and sees what that connection sees, as `fetchall` does.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")


async def run_sync(conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    """`fn(sqlite3_connection, *args)` on the aiosqlite connection's worker thread, or
    inline when the calling task holds a batch on that connection (module docstring).

    aiosqlite runs every call this way (`Connection._execute`) but exposes only
    one statement per call; this hands it a whole unit of work. The function must
    not touch the event loop (it may run on another thread; context variables are
    copied over) and should be quick: the connection serves nothing else meanwhile.
    """
    if _inline_here(conn):
        return fn(conn._conn, *args)
    # The caller's context goes along (trace id, the entry being handled: events built
    # on that thread pick them up as they would on the loop's).
    context = contextvars.copy_context()
    return await conn._execute(context.run, _call, fn, conn, args)  # private: see docstring


def _call(fn: Callable[..., T], conn: aiosqlite.Connection, args: tuple[Any, ...]) -> T:
    raw: sqlite3.Connection = conn._conn  # on the worker thread
    return fn(raw, *args)


# (writer connection, batch task) while a batch is open: that task runs its units inline
_inline: contextvars.ContextVar[tuple[aiosqlite.Connection, asyncio.Task[Any]] | None] = (
    contextvars.ContextVar("galley_db_inline", default=None)
)


def _inline_here(conn: aiosqlite.Connection) -> bool:
    owner = _inline.get()
    return owner is not None and owner[0] is conn and owner[1] is asyncio.current_task()


BUSY_TIMEOUT_MS = 10_000


async def _open(path: str) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN ourselves. check_same_thread=False: a batch's
    # task runs its units on the loop's thread (see the module docstring).
    conn = await aiosqlite.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = aiosqlite.Row
    await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if path != ":memory:":
        # replicas opening a new file at once: the switch to WAL needs the file alone for
        # a moment, and SQLite may answer BUSY at once instead of waiting
        for attempt in range(50):
            try:
                await conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or attempt == 49:
                    await conn.close()
                    raise
                await asyncio.sleep(0.1)
        await conn.execute("PRAGMA synchronous=FULL")
    await conn.execute("PRAGMA foreign_keys=ON")
    return conn


class Database:
    """A SQLite file (or `:memory:`) with one serialized writer and one reader."""

    def __init__(
        self,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        peeker: sqlite3.Connection | None = None,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._peeker = peeker
        self._lock = asyncio.Lock()
        self._batch_owner: asyncio.Task[Any] | None = None
        self._savepoints = 0
        self.batches = 0  # batches begun so far: tells a caller whether a batch is new

    @classmethod
    async def open(
        cls,
        path: str | Path,
        schema: Iterable[str] = (),
        *,
        migrations: Sequence[Migration] = (),
    ) -> Database:
        """Open (or create) the file and bring its schema to the newest version: each of
        `migrations` not yet applied runs in a transaction of its own that also records it
        (`PRAGMA user_version`), so a file is never left between two versions and replicas
        opening it at once apply each step once. A file from a newer release (a higher
        version than there are migrations) is refused. `schema` scripts run every time
        (IF NOT EXISTS statements; for tests and tools)."""
        path = str(path)
        if path != ":memory:":
            _private_file(Path(path))
        writer = await _open(path)
        try:
            for ddl in schema:
                await writer.executescript(ddl)
            if migrations:
                await run_sync(writer, migrate, tuple(migrations), path)
        except BaseException:
            await writer.close()
            raise
        if path == ":memory:":
            return cls(writer, writer)
        return cls(writer, await _open(path), _open_peeker(path))

    async def close(self) -> None:
        if self._peeker is not None:
            self._peeker.close()
        if self._reader is not self._writer:
            await self._reader.close()
        await self._writer.close()

    def in_batch(self) -> bool:
        """True inside `batch()`, in the task that opened it."""
        return self._batch_owner is not None and self._batch_owner is asyncio.current_task()

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[aiosqlite.Connection]:
        """One `BEGIN IMMEDIATE` ... `COMMIT` around many `transaction()`s of this task.

        Each nested `transaction()` is a SAVEPOINT: released on success, rolled back
        (alone) on error. An error escaping the batch itself rolls everything back.
        Other tasks' transactions wait for the batch's commit, as for any writer.
        """
        if self.in_batch():
            raise RuntimeError("Database.batch() does not nest")
        async with self._lock:
            await self._begin()
            self.batches += 1
            owner = asyncio.current_task()
            assert owner is not None  # a batch runs in a task
            self._batch_owner = owner
            # (`:memory:` reads share the writer connection, from other tasks: no inline)
            own = self._reader is not self._writer
            inline = _inline.set((self._writer, owner) if own else None)
            try:
                yield self._writer
            except BaseException:
                self._batch_owner = None
                _inline.reset(inline)
                await self._writer.execute("ROLLBACK")
                raise
            self._batch_owner = None
            _inline.reset(inline)
            try:
                await self._writer.execute("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    await self._writer.execute("ROLLBACK")
                raise

    async def _begin(self) -> None:
        """`BEGIN IMMEDIATE`, holding the writer lock: on the loop's thread when SQLite's
        write lock is free at once (the usual case: no hop), else on aiosqlite's thread,
        which waits up to the busy timeout for another process to commit."""
        conn = self._writer._conn
        # Only on an idle connection: a transaction whose awaited COMMIT was cancelled
        # leaves that COMMIT queued on aiosqlite's thread, and a BEGIN queued behind it
        # keeps the order.
        if self._reader is not self._writer and not conn.in_transaction and _begin_now(conn):
            return
        await self._writer.execute("BEGIN IMMEDIATE")

    @asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[aiosqlite.Connection]:
        self._savepoints += 1
        name = f"sp{self._savepoints}"
        await self._run(f"SAVEPOINT {name}")
        try:
            yield self._writer
        except BaseException:
            await self._run(f"ROLLBACK TO {name}")
            await self._run(f"RELEASE {name}")
            raise
        await self._run(f"RELEASE {name}")

    async def _run(self, sql: str) -> None:
        """One statement on the writer: inline in the batch's own task (see above)."""
        await run_sync(self._writer, _statement, sql)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any error.

        Inside `batch()` (same task) it is a savepoint of the batch instead.
        """
        if self.in_batch():
            async with self._savepoint() as conn:
                yield conn
            return
        async with self._lock:
            await self._begin()
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    def _read_conn(self) -> aiosqlite.Connection:
        return self._writer if self.in_batch() else self._reader

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        return await run_sync(self._read_conn(), fetchall, sql, tuple(params))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        return await run_sync(self._read_conn(), fetchone, sql, tuple(params))

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(sqlite3_connection, *args)` on the reader connection (the writer inside this
        task's batch), off the event loop: several reads as one unit, or an incremental
        BLOB read with `Connection.blobopen`."""
        return await run_sync(self._read_conn(), fn, *args)

    async def peek(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """`fetchall` of committed rows on the loop's thread, without waiting for another
        connection's lock (module docstring); through the reader when SQLite is busy, or
        when there is no peek connection (`:memory:`, whose one connection also sees its
        own open transaction)."""
        if self._peeker is not None:
            try:
                return self._peeker.execute(sql, tuple(params)).fetchall()
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
        return await run_sync(self._reader, fetchall, sql, tuple(params))


# A schema step: a SQL script, or a function of the connection (to move data as well).
Migration = str | Callable[[sqlite3.Connection], None]


class SchemaTooNew(RuntimeError):
    """The database was written by a newer release of galley than this one."""


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration], where: str = "") -> int:
    """Apply the steps the file has not had yet, each in its own `BEGIN IMMEDIATE`
    transaction with its `PRAGMA user_version`; returns the version found at first."""
    target, found = len(migrations), None
    while True:
        _begin_waiting(conn)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            found = version if found is None else found
            if version > target:
                raise SchemaTooNew(
                    f"{where or 'the database'} is at schema version {version}, written by a"
                    f" newer galley; this one knows versions up to {target}"
                )
            if version == target:
                conn.execute("COMMIT")
                return found
            step = migrations[version]
            if isinstance(step, str):
                run_script(conn, step)
            else:
                step(conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


MIGRATION_WAITS = 6  # busy timeouts a replica waits for another one's migration step


def _begin_waiting(conn: sqlite3.Connection) -> None:
    """`BEGIN IMMEDIATE`, waiting out another process's long migration step (each try
    waits the busy timeout) rather than failing the start."""
    for attempt in range(MIGRATION_WAITS):
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or attempt == MIGRATION_WAITS - 1:
                raise


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Each statement of a SQL script, inside the caller's transaction (sqlite3's
    `executescript` would COMMIT first)."""
    for statement in sql_statements(script):
        conn.execute(statement)


_CLOSING = {"'": "'", '"': '"', "`": "`", "[": "]"}


def sql_statements(script: str) -> list[str]:
    """The statements of a SQL script: split at each `;` outside quotes, comments and
    trigger bodies; `--` and `/* */` comments left out. Raises ValueError when the
    script ends inside a statement."""
    found: list[str] = []
    text: list[str] = []
    i, n, closing = 0, len(script), ""
    while i < n:
        c = script[i]
        if closing:
            text.append(c)
            if c == closing:
                closing = ""
        elif c in _CLOSING:
            closing = _CLOSING[c]
            text.append(c)
        elif script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        elif c == ";":
            text.append(c)
            statement = "".join(text)
            if sqlite3.complete_statement(statement):  # a trigger body's `;` does not end it
                if statement.strip(" \n\t\r;"):
                    found.append(statement.strip())
                text = []
        else:
            text.append(c)
        i += 1
    rest = "".join(text).strip(" \n\t\r;")
    if rest:
        raise ValueError(f"an incomplete statement at the end of a script: {rest[:80]!r}")
    return found


def ensure_columns(
    conn: sqlite3.Connection, table: str, columns: dict[str, str], backfill: Iterable[str] = ()
) -> None:
    """Add the columns a table made by an older release lacks, then run `backfill` once."""
    have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    missing = {name: decl for name, decl in columns.items() if name not in have}
    for name, decl in missing.items():
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
    if missing:
        for sql in backfill:
            conn.execute(sql)


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (0600), in a folder made 0700
    if galley creates it: a database holds unpublished stories and, for webhooks, the
    signing secrets. SQLite gives its -wal and -shm files the database file's mode."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _open_peeker(path: str) -> sqlite3.Connection:
    """The read-only connection `peek()` uses on the loop's thread: no busy waiting."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=0")
    conn.execute("PRAGMA query_only=ON")
    return conn


def _busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY, extended codes included (another connection holds a lock)."""
    return exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


def _begin_now(conn: sqlite3.Connection) -> bool:
    """`BEGIN IMMEDIATE` without waiting; False if another connection holds the lock."""
    conn.execute("PRAGMA busy_timeout=0")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if not _busy(exc):
            raise
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return True


def _statement(conn: sqlite3.Connection, sql: str) -> None:
    conn.execute(sql)


def fetchall(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Every row of a query (for use inside a `run_sync` function)."""
    return conn.execute(sql, params).fetchall()


def fetchone(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first row of a query or None (for use inside a `run_sync` function)."""
    return conn.execute(sql, params).fetchone()
