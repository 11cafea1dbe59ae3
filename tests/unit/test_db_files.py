"""A service's database is its owner's alone: folder 0700, files 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from shared.infra.db import Database


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_a_new_database_and_its_folder_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "webhooks.db"
    db = await Database.open(path, ["CREATE TABLE secrets(value TEXT)"])
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO secrets VALUES ('whsec_x')")
    try:
        assert mode(path.parent) == 0o700
        for name in ("webhooks.db", "webhooks.db-wal", "webhooks.db-shm"):
            assert mode(path.parent / name) == 0o600, name
    finally:
        await db.close()


def test_a_service_log_galley_up_writes_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    from galley.supervisor import ServiceProcess

    log = tmp_path / "logs" / "nothing-0.log"
    process = ServiceProcess("no_such_service", 0, 0, {}, log)
    process.start()  # `python -m services.no_such_service` fails at once, into its log
    assert process.proc is not None
    process.proc.wait(timeout=30)
    assert mode(log.parent) == 0o700 and mode(log) == 0o600
    assert log.read_bytes()  # the child's error is there
