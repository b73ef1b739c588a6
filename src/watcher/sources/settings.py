"""The HTTP client's settings (`[fetch]`): a value of their own, so that loading
the configuration does not load httpx, and the client does not load the config."""

from __future__ import annotations

from dataclasses import dataclass

# Publishers see this; [fetch] user_agent should add a contact (a URL or mailto:).
DEFAULT_USER_AGENT = "watcher/0.1 (news-monitoring agent; feed and article fetcher)"


@dataclass(frozen=True)
class FetchConfig:
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    concurrency: int = 16
    per_host: int = 2
    allow_private_addresses: bool = False
    user_agent: str = DEFAULT_USER_AGENT
