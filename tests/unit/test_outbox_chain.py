"""The chain the relay sends with each batch: every row names the outbox row before it,
which Redis must already hold; rows another replica sent still link the chain."""

from __future__ import annotations

from typing import Any

from shared.envelope import Envelope
from shared.infra.db import Database
from shared.infra.outbox import OUTBOX_SCHEMA, Chain, Gap, Link, OutboxRelay, enqueue


class _Writer:
    """Records what it is asked to append; `gap_at` answers a gap at that seq once."""

    def __init__(self, gap_at: int | None = None, watermark: int = 0) -> None:
        self.chains: list[Chain | None] = []
        self.appended: list[int] = []
        self.gap_at = gap_at
        self.mark = watermark
        self.advanced: list[int] = []

    async def append_many(
        self, entries: list[tuple[str, dict[str, str]]], chain: Chain | None = None
    ) -> list[str]:
        assert chain is not None
        self.chains.append(chain)
        ids: list[str] = []
        for link in chain.links:
            if link.seq == self.gap_at and not chain.repair:
                self.gap_at = None
                raise Gap(ids, self.mark)
            self.appended.append(link.seq)
            ids.append(f"{len(self.appended)}-0")  # a new entry id for every append
        return ids

    async def watermark(self, ledger: str) -> int:
        return self.mark

    async def advance(self, ledger: str, seq: int) -> None:
        self.advanced.append(seq)


def _event(n: int) -> Envelope[dict[str, Any]]:
    return Envelope[dict[str, Any]](source="/t", type="t.happened", subject=f"s{n}", data={})


async def _db(rows: int) -> Database:
    db = await Database.open(":memory:", schema=[OUTBOX_SCHEMA])
    async with db.transaction() as conn:
        for n in range(rows):
            await enqueue(conn, _event(n), "t.chain")
    return db


async def test_each_row_names_the_row_before_it_and_rows_sent_elsewhere_still_link() -> None:
    db = await _db(5)
    async with db.transaction() as conn:  # another replica sent rows 2 and 3 meanwhile
        await conn.execute("UPDATE outbox SET sent_at = 'x' WHERE seq IN (2, 3)")
    writer = _Writer()
    relay = OutboxRelay(db, writer)
    assert await relay.relay_once() == 3
    chain = writer.chains[0]
    assert chain is not None and chain.ledger.startswith("galley:outbox:")
    assert list(chain.links) == [Link(1, 0), Link(4, 3), Link(5, 4)]
    await db.close()


async def test_a_gap_sends_again_what_redis_lacks_before_anything_newer() -> None:
    db = await _db(6)
    writer = _Writer()
    relay = OutboxRelay(db, writer, batch=3)
    await relay.relay_once()  # rows 1-3 out and marked
    writer.gap_at, writer.mark = 4, 1  # Redis now holds only row 1

    assert await relay.relay_once() == 3  # the batch went out...
    assert writer.appended[3:] == [2, 3, 4, 5, 6]  # ...after rows 2 and 3 went again
    assert writer.advanced == [3]
    assert relay.resent == 2
    await db.close()


async def test_a_relay_starts_just_below_its_first_unsent_row() -> None:
    db = await _db(4)
    async with db.transaction() as conn:
        await conn.execute("UPDATE outbox SET sent_at = 'x' WHERE seq <= 2")
    writer = _Writer(watermark=2)
    relay = OutboxRelay(db, writer)
    assert await relay.check() == 0  # Redis holds everything up to row 2
    assert await relay.relay_once() == 2
    assert list(writer.chains[0].links) == [Link(3, 2), Link(4, 3)]  # type: ignore[union-attr]
    await db.close()
