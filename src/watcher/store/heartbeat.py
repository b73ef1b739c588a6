"""The running service as the database remembers it: its process, heartbeat and
housekeeping runs (for `watcher status`, and so a restart catches up), and every
watcher process using the database (`processes`). Their SQL, for both backends.
"""

from __future__ import annotations

from datetime import datetime

from watcher.store.records import ProcessBeat
from watcher.store.schema import stamp
from watcher.store.sql import Sql


class Heartbeat:
    """The one-row `service` table, and `processes`: one row per watcher process."""

    def __init__(self, db: Sql) -> None:
        self.db = db

    def started(self, pid: int, now: datetime) -> None:
        """Note that a service process started (for `watcher status`)."""
        self.db.execute(
            """
            INSERT INTO service (id, pid, started_at, heartbeat_at, stopped_at)
            VALUES (1, ?, ?, ?, NULL)
            ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at,
                heartbeat_at = excluded.heartbeat_at, stopped_at = NULL
            """,
            [pid, stamp(now), stamp(now)],
        )

    def beat(self, now: datetime, stopped: bool = False) -> None:
        """Note that the service is alive at `now`, or (`stopped`) that it stopped then."""
        column = "stopped_at" if stopped else "heartbeat_at"
        self.db.execute(f"UPDATE service SET {column} = ? WHERE id = 1", [stamp(now)])

    def housekept(self, now: datetime) -> None:
        """Note that housekeeping finished (a restart catches up on a missed run)."""
        self.db.execute("UPDATE service SET housekept_at = ? WHERE id = 1", [stamp(now)])

    def last_housekeeping(self) -> str | None:
        row = self.db.execute("SELECT housekept_at FROM service WHERE id = 1").fetchone()
        return row[0] if row else None

    def state(self) -> tuple[int, str, str, str | None] | None:
        """(pid, started_at, heartbeat_at, stopped_at) of the last service process, if any."""
        row = self.db.execute(
            "SELECT pid, started_at, heartbeat_at, stopped_at FROM service WHERE id = 1"
        ).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else None

    def joined(self, host: str, pid: int, now: datetime) -> None:
        """Note that a watcher process started on `host` (one row per process)."""
        self.db.execute(
            """
            INSERT INTO processes (id, host, pid, started_at, beat_at, stopped_at, feeds)
            VALUES (?, ?, ?, ?, ?, NULL, 0)
            ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at,
                beat_at = excluded.beat_at, stopped_at = NULL, feeds = 0
            """,
            [f"{host}:{pid}", host, pid, stamp(now), stamp(now)],
        )

    def beat_process(
        self, host: str, pid: int, now: datetime, feeds: int, stopped: bool = False
    ) -> None:
        """Note that the process is alive at `now` with `feeds` polls in hand (or stopped)."""
        column = "stopped_at" if stopped else "beat_at"
        self.db.execute(
            f"UPDATE processes SET {column} = ?, feeds = ? WHERE id = ?",
            [stamp(now), 0 if stopped else feeds, f"{host}:{pid}"],
        )

    def processes(self) -> list[ProcessBeat]:
        """Every watcher process that used the database, the most recent beat first."""
        rows = self.db.execute(
            "SELECT host, pid, started_at, beat_at, stopped_at, feeds FROM processes"
            " ORDER BY beat_at DESC, id"
        ).fetchall()
        return [ProcessBeat(*row) for row in rows]
