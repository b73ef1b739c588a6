"""The application: what any interface (the CLI today) calls. One poll cycle and
the CLI's one-off fetches (poll), the long-running scheduler with housekeeping
and its status report (service), when each feed is due (schedule), the disk-space
watch (disk) and the archive search (search).

Imports the stages (sources, match, store, delivery, config) and below; nothing
imports it but cli.
"""
