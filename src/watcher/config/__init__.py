"""Settings: `watcher.toml` read and checked (load, with the TOML checker in check),
the delivery channels' settings (channels), the feed list edited in place (edit)
and the sample config `watcher init` writes (sample, sample.toml).

The HTTP client's settings are `watcher.sources.settings.FetchConfig`.
"""
