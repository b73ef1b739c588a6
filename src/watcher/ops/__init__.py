"""Operations plumbing any layer may use: logging, systemd notification, the
single-instance lock, the control-character rule for text from strangers and
the backoff rule for retries.

Imports nothing from watcher but `errors`.
"""
