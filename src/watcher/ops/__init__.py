"""Operations plumbing any layer may use: logging, systemd notification, the
single-instance lock and the control-character rule for text from strangers.

Imports nothing from watcher but `errors`.
"""
