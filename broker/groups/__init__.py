"""Consumer groups: the classic and the consumer (KIP-848) group protocols, committed offsets, their records.

- `state`: the classic membership state machine (no I/O);
- `consumer_group`: the consumer protocol's state machine (ConsumerGroupHeartbeat; no I/O);
- `assignors`: the server-side assignors of the consumer protocol ("uniform", "range");
- `offsets`: committed and pending transactional offsets of one group;
- `records`: the `__consumer_offsets` key/value layouts;
- `coordinator`: the edge that owns futures, timers and the log.
"""

from kafkette.broker.groups.coordinator import GroupCoordinator

__all__ = ["GroupCoordinator"]
