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
        """The digests `where` picks that no live sender holds, now claimed by this
        connection for `lease` seconds.

        An OS pid says nothing about a process on another host, so a claim names
        the claimer's server process (`pg_backend_pid()`; `pid` is not needed),
        which ends when the watcher dies: a restarted service sends a digest its
        killed predecessor held at once rather than after the lease. The lease
        stays for a claimer the server still thinks connected (a host that
        vanished). `FOR UPDATE SKIP LOCKED` hands each digest to one claimer.
        """
        rows = self.db.execute(
            f"""
            UPDATE digests SET claimed_by = pg_backend_pid(), claimed_until = ?
            WHERE id IN (
                SELECT id FROM digests
                WHERE {where} AND (claimed_until IS NULL OR claimed_until <= ? OR NOT EXISTS
                    (SELECT 1 FROM pg_stat_activity a WHERE a.pid = digests.claimed_by))
                FOR UPDATE SKIP LOCKED
            )
            RETURNING id
            """,
            [stamp(now + timedelta(seconds=lease)), *params, stamp(now)],
        ).fetchall()
        return [row[0] for row in rows]
