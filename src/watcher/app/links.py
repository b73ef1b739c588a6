"""The web desk's links to a hit and its signed actions, as digests carry them.

Digests (delivery/) build them too, and a lower layer cannot import app/, so
they are made in delivery/links.py; interfaces import them from here.
"""

from watcher.delivery.links import NOT_RELEVANT, hit_url, not_relevant_url, verify_link

__all__ = ["NOT_RELEVANT", "hit_url", "not_relevant_url", "verify_link"]
