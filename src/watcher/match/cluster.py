"""Story clusters: near-identical copies of one story share a cluster.

Wire copy syndicated by several outlets differs in a headline word, a byline
or a trailing paragraph. A 64-bit SimHash (Charikar 2002) over word pairs maps
such copies to fingerprints a few bits apart, while different stories land
far apart. Measured on the 23 longest pages of ../shared/corpus/pages, each
against a copy with an edited first sentence, two sentences dropped and a
credit line added: copies 0-10 bits apart (median 3), distinct stories 23-40.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta

from watcher.match.words import forms, split

BITS = 64
MAX_DISTANCE = 10  # bits: above every measured copy, far below every distinct pair
BANDS = 8  # 8-bit bands: copies up to 7 bits apart always share one, and most up to 10 do
SHINGLE = 2  # words per feature
MIN_WORDS = 40  # shorter texts (headline-only items) are too alike to cluster safely
WINDOW = timedelta(days=7)  # copies of a story appear within days, not weeks


# _ONES[k][byte] is 1 where bit k of `byte` is set: bytes.translate then counts a bit at C speed.
_ONES = [bytes(byte >> k & 1 for byte in range(256)) for k in range(8)]


def simhash(text: str) -> int | None:
    """The SimHash of a text, or None when it is too short to say anything.

    Bit b of the fingerprint is set when more than half of the features'
    64-bit hashes have it set. The hashes are laid end to end, big-endian, so
    byte i of every hash is one slice of them, whose set bits are counted by
    `translate` and `count` instead of a Python loop over 64 bits per feature.
    """
    words = [forms(word)[1] for word in split(text)]
    if len(words) < MIN_WORDS:
        return None
    hashes = b"".join(
        hashlib.blake2b(" ".join(words[i : i + SHINGLE]).encode(), digest_size=8).digest()
        for i in range(len(words) - SHINGLE + 1)
    )
    features = len(hashes) // 8
    fingerprint = 0
    for index in range(8):
        column = hashes[index::8]  # byte `index` of every hash: bits 63-8*index .. 56-8*index
        for k in range(8):
            if 2 * column.translate(_ONES[k]).count(1) > features:
                fingerprint |= 1 << ((7 - index) * 8 + k)
    return fingerprint


def distance(a: int, b: int) -> int:
    """Bits in which two fingerprints differ."""
    return (a ^ b).bit_count()


def bands(fingerprint: int) -> list[int]:
    """Lookup keys: each band of the fingerprint, tagged with its position."""
    size = BITS // BANDS
    mask = (1 << size) - 1
    return [(band << size) | (fingerprint >> (band * size) & mask) for band in range(BANDS)]


def closest(fingerprint: int, copies: Iterable[tuple[int, int]]) -> int | None:
    """The story cluster a new article joins: that of its nearest copy, if within
    `MAX_DISTANCE` bits. `copies` are (fingerprint, cluster) of recent articles that
    share a band with it; None: none is near enough, the article starts its own."""
    near = [(distance(fingerprint, other), cluster) for other, cluster in copies]
    best = min(near, default=None)
    return best[1] if best is not None and best[0] <= MAX_DISTANCE else None
