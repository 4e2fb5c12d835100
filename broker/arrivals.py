"""Wake-ups for long polls: a Fetch waits on partitions; an append to any of them wakes it."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Iterable


class Arrivals:
    def __init__(self) -> None:
        self._waiters: dict[object, set[asyncio.Future]] = defaultdict(set)

    async def wait(self, keys: Iterable[object], timeout: float) -> bool:
        """Wait until `notify` is called for one of `keys`, or `timeout` seconds; True if woken."""
        future = asyncio.get_running_loop().create_future()
        keys = list(keys)
        for key in keys:
            self._waiters[key].add(future)
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            for key in keys:
                waiters = self._waiters.get(key)
                if waiters is not None:
                    waiters.discard(future)
                    if not waiters:
                        del self._waiters[key]

    def notify(self, key: object) -> None:
        for future in self._waiters.pop(key, ()):
            if not future.done():
                future.set_result(None)
