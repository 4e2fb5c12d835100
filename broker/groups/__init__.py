"""Consumer groups: the classic and the consumer (KIP-848) group protocols, committed offsets, their records.

- `state`: the classic membership state machine (no I/O);
- `consumer_group`: the consumer protocol's state machine (ConsumerGroupHeartbeat; no I/O);
- `assignors`: the server-side assignors of the consumer protocol ("uniform", "range");
- `offsets`: committed and pending transactional offsets of one group;
- `records`: the `__consumer_offsets` key/value layouts;
- `registry`: the groups of both protocols under one id space;
- `group_log`: writing `__consumer_offsets`; `replay`: reading it back at start;
- `classic`, `consumer`, `offset_manager`: the edges of the classic protocol, the consumer
  protocol and committed offsets (futures, timers, records to store);
- `coordinator`: the three together, with what spans them (ListGroups, DeleteGroups, load, tick).
"""

from kafkette.broker.groups.coordinator import GroupCoordinator

__all__ = ["GroupCoordinator"]
