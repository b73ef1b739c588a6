"""The outbox of a PostgreSQL database several watchers share: store/outbox.py's, but
claiming digests as processes on several hosts must."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from watcher.store.outbox import Outbox
from watcher.store.schema import stamp


class SharedOutbox(Outbox):
    """An `Outbox` whose claims hold between watchers on any hosts."""

    def _claim(
        self, where: str, params: list[Any], now: datetime, pid: int, lease: float
    ) -> list[str]:
        """The digests `where` picks whose lease (if any) ran out, now claimed by `pid`.

        A pid says nothing about a process on another host, so the lease alone
        decides: a sender that died leaves its digest claimed until the lease
        runs out. `FOR UPDATE SKIP LOCKED` hands each digest to one claimer.
        """
        rows = self.db.execute(
            f"""
            UPDATE digests SET claimed_by = ?, claimed_until = ?
            WHERE id IN (
                SELECT id FROM digests
                WHERE {where} AND (claimed_until IS NULL OR claimed_until <= ?)
                FOR UPDATE SKIP LOCKED
            )
            RETURNING id
            """,
            [pid, stamp(now + timedelta(seconds=lease)), *params, stamp(now)],
        ).fetchall()
        return [row[0] for row in rows]
