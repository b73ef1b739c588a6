"""`watcher status`: the service's state, its feeds and its outbox, read from the database."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from watcher.app.schedule import network_quorum
from watcher.ops.processes import process_alive
from watcher.store.protocols import Storage
from watcher.store.records import FeedStatus, ProcessBeat

HEARTBEAT = 30.0  # seconds between the service's heartbeats; three missed: "not responding"


@dataclass(frozen=True)
class ServiceStatus:
    """The service process and totals, as `watcher status` shows them."""

    state: str  # "running since ...", "stopped at ...", "not responding since ...", "never run"
    database: str
    feeds: int
    failing: int
    hits_today: int
    hits_total: int
    integrity: str | None = None  # the last integrity check's finding ("ok at ...")
    pid: int | None = None
    started_at: str | None = None
    heartbeat_at: str | None = None
    pending_deliveries: int = 0  # digests waiting to be sent or retried
    failed_deliveries: int = 0  # digests that ran out of attempts
    network_down_since: str | None = None  # no feed answered since then, many were unreachable
    # Every watcher process that has not stopped, one line each (several share a database).
    processes: tuple[str, ...] = ()


def service_status(store: Storage, feeds: list[FeedStatus], now: datetime) -> ServiceStatus:
    """What `watcher status` reports, read from the database (works while the service runs)."""
    enabled = [feed for feed in feeds if feed.enabled]
    down = store.feeds.network_down(network_quorum(len(enabled)))
    recorded = store.heartbeat.state()
    beats = store.heartbeat.processes()
    state = "never run"
    pid = started = beat = None
    if recorded:
        pid, started, beat, stopped = recorded
        if stopped:
            state = f"stopped at {stopped[:16].replace('T', ' ')}"
        elif _here(pid, beats) and not process_alive(pid):
            state = f"not running: pid {pid} ended without stopping (killed?)"
        elif now - datetime.fromisoformat(beat) > timedelta(seconds=3 * HEARTBEAT):
            state = f"not responding since {beat[:16].replace('T', ' ')} (pid {pid})"
        else:
            uptime = now - datetime.fromisoformat(started)
            state = f"running for {_span(uptime)}"
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    digests = store.outbox.counts()
    return ServiceStatus(
        state=state,
        database=store.location,
        feeds=len(enabled),
        failing=sum(1 for feed in enabled if feed.consecutive_errors),
        hits_today=store.hits_since(midnight),
        hits_total=store.count("hits"),
        pid=pid,
        started_at=started,
        heartbeat_at=beat,
        pending_deliveries=digests["pending"],
        failed_deliveries=digests["failed"],
        integrity=_integrity(store.last_check()),
        network_down_since=down,
        processes=tuple(_process(beat, now) for beat in beats if beat.stopped_at is None),
    )  # fmt: skip


def _here(pid: int, beats: list[ProcessBeat]) -> bool:
    """Whether the service process `pid` ran on this host, so its pid can be looked up here
    (a database several hosts share may name one elsewhere; none noted: a local file's)."""
    hosts = {beat.host for beat in beats if beat.pid == pid}
    return not hosts or socket.gethostname() in hosts


def _process(beat: ProcessBeat, now: datetime) -> str:
    """One process as `watcher status` lists it; one whose beat stopped is marked."""
    last = beat.beat_at[:19].replace("T", " ")
    who = f"{beat.host} pid {beat.pid}"
    if now - datetime.fromisoformat(beat.beat_at) > timedelta(seconds=3 * HEARTBEAT):
        return f"{who}: STOPPED BEATING at {last} (killed? its feeds return when their lease ends)"
    return f"{who}: beat at {last}, {beat.feeds} feeds in hand"


def _integrity(check: tuple[str, str | None] | None) -> str:
    if check is None:
        return "not checked yet (watcher db check)"
    checked_at, problem = check
    when = checked_at[:16].replace("T", " ")
    if problem:
        return f"DAMAGED at {when}: {problem[:200]} (see docs/operations.md)"
    return f"ok at {when}"


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    return f"{days}d {hours}h {minutes}m" if days else f"{hours}h {minutes}m"
