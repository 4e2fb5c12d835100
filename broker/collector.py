"""Keeping Python's cyclic garbage collector from stalling the event loop.

A full collection scans every tracked object, and a broker holding tens of thousands of partitions
has millions of them: each full collection would stall every connection for a second. Objects that
live as long as the broker (its partitions, loaded at start or created by CreateTopics) are moved
out of the collector's sight with gc.freeze(); reference counting still frees them when a topic is
deleted (they hold no cycles). While a large request builds millions of objects, collection pauses.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

_pauses = 0  # large operations under way


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection while this runs; it resumes when the last pause ends."""
    global _pauses
    _pauses += 1
    gc.disable()
    try:
        yield
    finally:
        _pauses -= 1
        if not _pauses:
            gc.enable()


def keep_long_lived() -> None:
    """Hide every object alive now from later collections (call when what was just made lives on)."""
    gc.freeze()
