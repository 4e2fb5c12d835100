"""Consumer groups: the classic group protocol, committed offsets and their `__consumer_offsets` records.

- `state`: the membership state machine (no I/O);
- `offsets`: committed and pending transactional offsets of one group;
- `records`: the `__consumer_offsets` key/value layouts;
- `coordinator`: the edge that owns futures, timers and the log.
"""

from broker.groups.coordinator import GroupCoordinator

__all__ = ["GroupCoordinator"]
