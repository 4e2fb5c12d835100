"""The broker's clock: wall-clock milliseconds, passed to coordinators so tests can drive time."""

from __future__ import annotations

import time
from typing import Callable

Clock = Callable[[], int]


def now_ms() -> int:
    return int(time.time() * 1000)
