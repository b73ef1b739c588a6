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

from watcher.words import forms, split

BITS = 64
MAX_DISTANCE = 10  # bits: above every measured copy, far below every distinct pair
BANDS = 8  # 8-bit bands: copies up to 7 bits apart always share one, and most up to 10 do
SHINGLE = 2  # words per feature
MIN_WORDS = 40  # shorter texts (headline-only items) are too alike to cluster safely


def simhash(text: str) -> int | None:
    """The SimHash of a text, or None when it is too short to say anything."""
    words = [forms(word)[1] for word in split(text)]
    if len(words) < MIN_WORDS:
        return None
    weights = [0] * BITS
    for index in range(len(words) - SHINGLE + 1):
        feature = " ".join(words[index : index + SHINGLE]).encode()
        value = int.from_bytes(hashlib.blake2b(feature, digest_size=8).digest(), "big")
        for bit in range(BITS):
            weights[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(BITS) if weights[bit] > 0)


def distance(a: int, b: int) -> int:
    """Bits in which two fingerprints differ."""
    return (a ^ b).bit_count()


def bands(fingerprint: int) -> list[int]:
    """Lookup keys: each band of the fingerprint, tagged with its position."""
    size = BITS // BANDS
    mask = (1 << size) - 1
    return [(band << size) | (fingerprint >> (band * size) & mask) for band in range(BANDS)]
