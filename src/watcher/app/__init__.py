"""The application: what any interface (the CLI today) calls. The poller (poll),
the CLI's one-off actions (oneshot: a poll of every feed once, one article fetched,
a feed found from a site), the long-running scheduler (service), retention
(housekeeping) and the status report (status), when each feed is due (schedule),
the disk-space watch (disk) and the archive search (search).

Imports the stages (sources, match, store, delivery, config) and below; nothing
imports it but cli.
"""
