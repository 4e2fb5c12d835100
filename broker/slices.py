"""Large requests done in slices, so that no request holds the event loop for long.

A handler whose work grows with its request (DeleteTopics naming ten million topics, CreateTopics
of 10,000 partitions) is written as a generator that yields wherever it may pause and returns the
response. `sliced` runs it at once and, when it is done within one slice, answers at once like any
handler; otherwise it answers with an awaitable that runs the rest a slice at a time, letting
every other connection's requests run in between. The connection that sent it dispatches nothing
more until it is answered (see broker.connection), so requests pipelined behind it see all of its
effects; other connections can see it part done, as each named topic is created or deleted in turn.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Awaitable, Generic, Iterable, TypeVar

from kafkette.storage.engine import Steps

SLICE_SECONDS = 0.02
COUNT_STEP = 4096  # items counted between two yields

T = TypeVar("T")
K = TypeVar("K")


def counted(keys: Iterable[K]) -> Steps[Counter[K]]:
    """How often each key occurs, counted in steps (a million names take a second to count)."""
    counts: Counter[K] = Counter()
    for i, key in enumerate(keys):
        counts[key] += 1
        if i % COUNT_STEP == COUNT_STEP - 1:
            yield
    return counts


def sliced(steps: Steps[T]) -> T | Awaitable[T]:
    """The result of `steps` if it takes under a slice, else an awaitable of it that runs a slice at a time."""
    run = _Slices(steps)
    return run.result if run.slice() else run.rest()


class _Slices(Generic[T]):
    result: T  # set once the steps are done

    def __init__(self, steps: Steps[T]) -> None:
        self.steps = steps

    def slice(self) -> bool:
        """Run the steps for up to one slice; whether they are done."""
        deadline = time.perf_counter() + SLICE_SECONDS
        try:
            while time.perf_counter() < deadline:
                next(self.steps)
        except StopIteration as finished:
            self.result = finished.value
            return True
        return False

    async def rest(self) -> T:
        while True:
            await asyncio.sleep(0)
            if self.slice():
                return self.result
