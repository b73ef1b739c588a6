"""Operations plumbing any layer may use: logging, systemd notification, the
single-instance lock, the control-character rule for text from strangers,
the backoff rule for retries and whether a process of this host still runs.

Imports nothing from watcher but `errors`.
"""
