"""The cluster clients see: its nodes and which are up, each partition's replicas, in-sync set, leader
and leader epoch, the controller, and which node coordinates each group and transactional id.

`kafkette serve --brokers N` serves nodes 0 to N-1 from one process and one store: this model decides
which node answers for what; nothing is copied between nodes, so a node that is down loses nothing.
With one node (the default) it leads every partition at leader epoch 0 and coordinates everything.

As Kafka (KRaft) does:
- a topic's replicas are placed round-robin from a start offset (`place`); the first replica leads;
- a node that goes down leaves every in-sync set (but the last member stays, leaderless) and the
  partitions it led move to their next in-sync replica; one that comes back rejoins the in-sync sets
  at once (it has nothing to catch up on) and leads the partitions whose last in-sync replica it was;
- every change of leader bumps the leader epoch and records where the new epoch starts in the
  partition's log (Kafka's leader-epoch cache, which OffsetForLeaderEpoch answers from);
- group and transaction coordinators are the leaders of partition `abs(key.hashCode()) % 50` of
  `__consumer_offsets` and `__transaction_state` (Java's String.hashCode). The store holds one partition
  of each; the 50 are virtual here: they only place coordinators, and partition 0 is the stored one.

The placement and the leader-epoch history are kept in `<data dir>/cluster.json` (by a single broker
only once an epoch grew); which nodes are down is not (a restart brings every node up).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Awaitable, Callable, Iterable, Protocol

import structlog

from kafkette.broker.internal_topic import OFFSETS_TOPIC, TRANSACTIONS_TOPIC
from kafkette.broker.listeners import Listener
from kafkette.protocol.errors import ErrorCode
from kafkette.storage.files import atomic_write

log = structlog.get_logger("kafkette.cluster")

GROUP, TRANSACTION = 0, 1  # FindCoordinator's key types
COORDINATOR_TOPICS = {GROUP: OFFSETS_TOPIC, TRANSACTION: TRANSACTIONS_TOPIC}
COORDINATOR_KINDS = {"group": GROUP, "transaction": TRANSACTION}
VIRTUAL_PARTITIONS = 50  # offsets.topic.num.partitions and transaction.state.log.num.partitions
INTERNAL_REPLICATION_FACTOR = 3  # offsets.topic.replication.factor (as many as there are nodes, if fewer)
NO_LEADER = -1
NOT_COORDINATOR_MESSAGE = "This is not the correct coordinator."
STATE_FILE = "cluster.json"

LogEnd = Callable[[str, int], int]  # (topic, partition) -> the log end offset, where a new leader epoch starts


class ClusterError(Exception):
    """A cluster change refused: `kind` says whether what it names is unknown ("unknown") or in the
    wrong state ("conflict"), the message what to do."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class PlacementError(Exception):
    """Replicas cannot be placed as asked; `error` is CreateTopics' code, the message Kafka's."""

    def __init__(self, error: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.error = error


class NodeSwitch(Protocol):
    """Opens and closes a node's listening sockets (the server); the model itself does no I/O."""

    def close(self, node: int) -> None: ...

    def open(self, node: int) -> Awaitable[None]: ...


def java_hash(text: str) -> int:
    """Java's String.hashCode: over UTF-16 code units, in 32-bit two's complement."""
    h = 0
    data = text.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


@lru_cache(maxsize=8192)
def coordinator_partition(key: str) -> int:
    """Kafka's partitionFor: Utils.abs(key.hashCode) % 50 (Utils.abs maps Integer.MIN_VALUE to 0)."""
    h = java_hash(key)
    return (0 if h == -(1 << 31) else abs(h)) % VIRTUAL_PARTITIONS


def place(nodes: list[int], partitions: int, replication_factor: int, start: int, first: int = 0) -> list[list[int]]:
    """Kafka's rack-unaware replica assignment (AdminUtils) with a fixed start index: partition p's first
    replica is nodes[(p + start) % n], its followers shifted from it by an amount that grows every n partitions."""
    n = len(nodes)
    shift = start
    placed = []
    for p in range(first, first + partitions):
        if p > 0 and p % n == 0:
            shift += 1
        head = (p + start) % n
        placed.append([nodes[head]] + [nodes[(head + 1 + (shift + j) % (n - 1)) % n]
                                       for j in range(replication_factor - 1)])
    return placed


@dataclass
class PartitionState:
    replicas: list[int]
    isr: list[int]
    leader: int
    # Kafka's leader-epoch cache: (epoch, offset it starts at), oldest first; the last is the current epoch
    epochs: list[tuple[int, int]] = field(default_factory=lambda: [(0, 0)])

    @property
    def leader_epoch(self) -> int:
        return self.epochs[-1][0]

    def error_at(self, node: int, current_leader_epoch: int = -1, leader_only: bool = True) -> ErrorCode:
        """What `node` answers a request for this partition (Kafka's Partition.getLocalLog): a node holding
        no replica NOT_LEADER_OR_FOLLOWER, then the client's epoch checked, then NOT_LEADER_OR_FOLLOWER
        from a follower if only the leader may answer."""
        if node not in self.replicas:
            return ErrorCode.NOT_LEADER_OR_FOLLOWER
        if current_leader_epoch >= 0 and current_leader_epoch != self.leader_epoch:
            return ErrorCode.FENCED_LEADER_EPOCH if current_leader_epoch < self.leader_epoch \
                else ErrorCode.UNKNOWN_LEADER_EPOCH
        if leader_only and self.leader != node:
            return ErrorCode.NOT_LEADER_OR_FOLLOWER
        return ErrorCode.NONE

    def lead(self, node: int, log_end: int) -> None:
        """`node` becomes the leader (NO_LEADER: none): a new epoch starts at `log_end`. As Kafka's cache,
        an epoch in which nothing was written gives way to the next."""
        epoch = self.leader_epoch + 1
        self.leader = node
        self.epochs = [e for e in self.epochs if e[1] < log_end] + [(epoch, log_end)]

    def end_offset_for(self, epoch: int, log_end: int) -> tuple[int, int]:
        """(epoch, end offset) OffsetForLeaderEpoch answers (Kafka's LeaderEpochFileCache.endOffsetFor):
        the current epoch ends at the log end, an older one where the next one starts; (-1, -1) if unknown."""
        if epoch < 0 or epoch > self.leader_epoch:
            return -1, -1
        if epoch == self.leader_epoch:
            return epoch, log_end
        floor = None
        for known, start in self.epochs:
            if known > epoch:
                return (epoch if floor is None else floor), start
            floor = known
        return -1, -1

    def epoch_at(self, offset: int) -> int:
        """The epoch of the leader that wrote `offset` (Kafka's epochForOffset); -1 before the first."""
        found = -1
        for epoch, start in self.epochs:
            if start > offset:
                break
            found = epoch
        return found

    def to_json(self) -> dict:
        return {"replicas": self.replicas, "leader": self.leader, "epochs": self.epochs}


@dataclass
class Node:
    node_id: int
    listeners: list[Listener] = field(default_factory=list)
    up: bool = True


class Cluster:
    def __init__(self, node_ids: Iterable[int]) -> None:
        self.nodes = {n: Node(n) for n in node_ids}
        self.topics: dict[str, list[PartitionState]] = {}
        # False while one node leads everything at epoch 0: handlers on the hot path then skip the checks
        self.routed = len(self.nodes) > 1
        self.switch: NodeSwitch | None = None  # set by the server: what down() and up() open and close
        self._path: Path | None = None
        self._log_end: LogEnd = lambda _topic, _partition: 0

    # ------------------------------------------------------------------ nodes and listeners

    def add(self, listener: Listener) -> None:
        self.nodes[listener.node_id].listeners.append(listener)

    def live(self) -> list[int]:
        return [n for n, node in sorted(self.nodes.items()) if node.up]

    def brokers(self, listener_name: str) -> list[Listener]:
        """Every live node's listener of this name, by node id (Metadata's and DescribeCluster's brokers)."""
        return [lsn for n in self.live() for lsn in self.nodes[n].listeners if lsn.name == listener_name]

    def listener(self, node: int, listener_name: str) -> Listener | None:
        """The listener of this name of a live node."""
        found = self.nodes.get(node)
        if found is None or not found.up:
            return None
        return next((lsn for lsn in found.listeners if lsn.name == listener_name), None)

    def listener_strings(self, node_id: int) -> list[str]:
        """`NAME://HOST:PORT` of each listener of a node, as DescribeConfigs reports advertised.listeners."""
        return [f"{lsn.name}://{lsn.advertised[0]}:{lsn.advertised[1]}" for lsn in self.nodes[node_id].listeners]

    @property
    def controller(self) -> int:
        """The node named as controller: the lowest live one (KRaft names any live broker)."""
        return next(iter(self.live()), NO_LEADER)

    # ------------------------------------------------------------------ what a node answers

    def partition(self, topic: str, index: int) -> PartitionState | None:
        states = self.topics.get(topic)
        return states[index] if states is not None and 0 <= index < len(states) else None

    def partition_error(self, node: int, topic: str, index: int, current_leader_epoch: int = -1,
                        leader_only: bool = True) -> ErrorCode:
        """NONE if `node` may answer for the partition (see PartitionState.error_at)."""
        state = self.partition(topic, index)
        if state is None:
            return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        return state.error_at(node, current_leader_epoch, leader_only)

    def leader_epoch(self, topic: str, index: int) -> int:
        state = self.partition(topic, index)
        return state.leader_epoch if state is not None else 0

    def coordinator(self, kind: int, key: str) -> int:
        """The node coordinating a group (GROUP) or transactional id (TRANSACTION); NO_LEADER if none is up."""
        return self.topics[COORDINATOR_TOPICS[kind]][coordinator_partition(key)].leader

    def coordinator_error(self, node: int, kind: int, key: str) -> ErrorCode:
        """NOT_COORDINATOR unless `node` coordinates the group or transactional id `key`."""
        if len(self.nodes) == 1:  # the one node, or none while it is down (and nothing reaches it)
            return ErrorCode.NONE
        return ErrorCode.NONE if self.coordinator(kind, key) == node else ErrorCode.NOT_COORDINATOR

    def coordinator_epoch(self, kind: int, key: str) -> int:
        """The coordinator's epoch: its partition's leader epoch (what transaction markers carry)."""
        return self.topics[COORDINATOR_TOPICS[kind]][coordinator_partition(key)].leader_epoch

    # ------------------------------------------------------------------ topics

    def plan(self, topic: str, partitions: int, replication_factor: int,
             assignments: list[list[int]] | None = None) -> list[list[int]]:
        """The replicas of a new topic's partitions, as Kafka's controller checks and places them;
        raises PlacementError."""
        if assignments:
            return self._check_assignments(assignments)
        if replication_factor > len(self.nodes):
            raise PlacementError(ErrorCode.INVALID_REPLICATION_FACTOR,
                                 f"Unable to replicate the partition {replication_factor} time(s): The target "
                                 f"replication factor of {replication_factor} cannot be reached because only "
                                 f"{len(self.nodes)} broker(s) are registered.")
        live = self.live()
        if not live:
            raise PlacementError(ErrorCode.INVALID_REPLICATION_FACTOR,
                                 f"Unable to replicate the partition {replication_factor} time(s): "
                                 f"All brokers are currently fenced.")
        # Kafka starts at a random broker; here where the name hashes to (the internal topics at 0), so a run
        # places the same way every time
        start = 0 if topic in COORDINATOR_TOPICS.values() else (java_hash(topic) & 0x7FFFFFFF) % len(live)
        placed = place(live, partitions, min(replication_factor, len(live)), start)
        down = [n for n in sorted(self.nodes) if n not in live]
        missing = replication_factor - len(live)
        return [replicas + [down[(p + j) % len(down)] for j in range(missing)] if missing > 0 else replicas
                for p, replicas in enumerate(placed)]

    def _check_assignments(self, assignments: list[list[int]]) -> list[list[int]]:
        """CreateTopics' manual assignments, checked as Kafka's ReplicationControlManager does."""
        size = len(assignments[0])
        for replicas in assignments:
            if not replicas:
                raise PlacementError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                                     "The manual partition assignment includes an empty replica list.")
            unknown = next((n for n in sorted(replicas) if n not in self.nodes), None)
            if unknown is not None:
                raise PlacementError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                                     f"The manual partition assignment includes broker {unknown}, but no such "
                                     f"broker is registered.")
            if len(set(replicas)) != len(replicas):
                twice = next(n for n in replicas if replicas.count(n) > 1)
                raise PlacementError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                                     f"The manual partition assignment includes the broker {twice} more than once.")
            if len(replicas) != size:
                raise PlacementError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                                     f"The manual partition assignment includes a partition with {len(replicas)} "
                                     f"replica(s), but this is not consistent with previous partitions, which "
                                     f"have {size} replica(s).")
            if not any(self.nodes[n].up for n in replicas):
                raise PlacementError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                                     "All brokers specified in the manual partition assignment are fenced or in "
                                     "controlled shutdown.")
        return [list(replicas) for replicas in assignments]

    def add_topic(self, topic: str, assignment: list[list[int]]) -> None:
        """A new topic (or new partitions of one, appended): each partition led by its first live replica."""
        self.topics.setdefault(topic, []).extend(self._fresh(replicas) for replicas in assignment)
        self._save()

    def grow_topic(self, topic: str, new_total: int) -> None:
        """CreatePartitions: the new partitions placed as Kafka continues a topic's assignment."""
        states = self.topics.get(topic, [])
        live = self.live() or sorted(self.nodes)
        factor = min(len(states[0].replicas) if states else 1, len(live))
        first = states[0].replicas[0] if states else live[0]
        start = live.index(first) if first in live else 0
        self.add_topic(topic, place(live, new_total - len(states), factor, start, first=len(states)))

    def remove_topic(self, topic: str) -> None:
        """A deleted topic; the 50 virtual partitions of a deleted internal topic stay where they are, so its
        coordinators keep their nodes when FindCoordinator recreates it."""
        if topic in COORDINATOR_TOPICS.values():
            return
        if self.topics.pop(topic, None) is not None:
            self._save()

    def _fresh(self, replicas: list[int]) -> PartitionState:
        isr = [n for n in replicas if self.nodes[n].up]
        return PartitionState(list(replicas), isr or replicas[:1], isr[0] if isr else NO_LEADER)

    # ------------------------------------------------------------------ changes at run time

    def down(self, node: int) -> list[tuple[str, int]]:
        """Take `node` down: its sockets close, it leaves every in-sync set (the last member stays, leaderless),
        and the partitions it led move to their next in-sync replica. Returns the partitions that moved."""
        if not self._known(node).up:
            raise ClusterError("conflict", f"broker {node} is down already")
        self.nodes[node].up = False
        moved = []
        for topic, states in self.topics.items():
            for index, state in enumerate(states):
                if node not in state.isr:
                    continue
                if len(state.isr) > 1:
                    state.isr = [n for n in state.isr if n != node]
                if state.leader == node:
                    successor = next((n for n in state.replicas if n in state.isr and self.nodes[n].up), NO_LEADER)
                    state.lead(successor, self._log_end(topic, index))
                    moved.append((topic, index))
        self.routed = True
        self._save()
        if self.switch is not None:
            self.switch.close(node)
        log.info("broker down", node=node, leaders_moved=len(moved))
        return moved

    async def up(self, node: int) -> list[tuple[str, int]]:
        """Bring `node` back: its sockets open again and it rejoins the in-sync sets at once (there is nothing
        to catch up on). A partition left without a leader gets one only when its last in-sync replica
        returns, as without unclean election. Returns the partitions that got a leader."""
        if self._known(node).up:
            raise ClusterError("conflict", f"broker {node} is up already")
        if self.switch is not None:
            await self.switch.open(node)
        self.nodes[node].up = True
        elected = []
        for topic, states in self.topics.items():
            for index, state in enumerate(states):
                if node not in state.replicas:
                    continue
                if state.leader == NO_LEADER:
                    if node not in state.isr:
                        continue
                    state.lead(node, self._log_end(topic, index))
                    elected.append((topic, index))
                state.isr = [n for n in state.replicas if n in state.isr or self.nodes[n].up]
        self._save()
        log.info("broker up", node=node, leaders_elected=len(elected))
        return elected

    def move_leader(self, topic: str, index: int, node: int) -> bool:
        """Make `node` the partition's leader with a new epoch; a node holding no replica first takes the old
        leader's place in the replica list (a reassignment). False if it leads already."""
        states = self.topics.get(topic)
        if states is None or not 0 <= index < len(states):
            raise ClusterError("unknown", f"there is no partition {topic}-{index}")
        if not self._known(node).up:
            raise ClusterError("conflict", f"broker {node} is down: bring it up first")
        state = states[index]
        if state.leader == node:
            return False
        if node not in state.replicas:
            replaced = state.leader if state.leader in state.replicas else state.replicas[0]
            state.replicas = [node if n == replaced else n for n in state.replicas]
            state.replicas.sort(key=lambda n: n != node)
        state.isr = [n for n in state.replicas if self.nodes[n].up]
        state.lead(node, self._log_end(topic, index))
        self.routed = True
        self._save()
        log.info("leader moved", topic=topic, partition=index, node=node, leader_epoch=state.leader_epoch)
        return True

    def move_coordinator(self, kind: int, key: str, node: int) -> int:
        """Move the coordinator of a group or transactional id to `node`, with every key of its partition
        (as Kafka moves coordinators: with their partition's leader). Returns that partition."""
        index = coordinator_partition(key)
        self.move_leader(COORDINATOR_TOPICS[kind], index, node)
        return index

    def _known(self, node: int) -> Node:
        found = self.nodes.get(node)
        if found is None:
            raise ClusterError("unknown", f"there is no broker {node}: the brokers are "
                                          f"{', '.join(map(str, sorted(self.nodes)))}")
        return found

    # ------------------------------------------------------------------ state kept across restarts

    def open(self, path: Path | None, partition_counts: dict[str, int], log_end: LogEnd,
             replication_factor: int) -> None:
        """Load the placement kept at `path` (None: keep nothing) for the topics the store holds; place what it
        lacks (a new data dir, or one written by an older kafkette) with `replication_factor` replicas."""
        self._path, self._log_end = path, log_end
        saved = json.loads(path.read_bytes()).get("topics", {}) if path is not None and path.exists() else {}
        counts = dict(partition_counts)
        for internal in COORDINATOR_TOPICS.values():
            counts[internal] = VIRTUAL_PARTITIONS
        for topic, count in counts.items():
            factor = INTERNAL_REPLICATION_FACTOR if topic in COORDINATOR_TOPICS.values() else replication_factor
            states = [self._restored(topic, i, doc) for i, doc in enumerate(saved.get(topic, [])[:count])]
            fresh = self.plan(topic, count, min(factor, len(self.nodes)))[len(states):]
            self.topics[topic] = states + [self._fresh(replicas) for replicas in fresh]
        self.routed = len(self.nodes) > 1 or any(s.leader_epoch for states in self.topics.values() for s in states)
        self._save()

    def _restored(self, topic: str, index: int, doc: dict) -> PartitionState:
        """A saved partition, its replicas narrowed to the nodes served now; a new leader gets a new epoch."""
        replicas = [n for n in doc["replicas"] if n in self.nodes] or [min(self.nodes)]
        state = PartitionState(replicas, list(replicas), doc["leader"], [(e[0], e[1]) for e in doc["epochs"]])
        if state.leader not in replicas:
            state.lead(replicas[0], self._log_end(topic, index))
        return state

    def _save(self) -> None:
        """Write the placement and epochs, unless one node leads everything at epoch 0 (what a fresh start
        places anyway): a single broker writes nothing more than before there were clusters."""
        if self._path is None or not self.routed:
            return
        doc = {"nodes": sorted(self.nodes),
               "topics": {topic: [s.to_json() for s in states] for topic, states in self.topics.items()}}
        atomic_write(self._path, json.dumps(doc, separators=(",", ":")).encode())

    # ------------------------------------------------------------------ for people

    def status(self) -> dict:
        """Nodes, controller, and every partition's placement (the admin API's GET /cluster)."""
        internal = set(COORDINATOR_TOPICS.values())
        return {
            "controller": self.controller,
            "nodes": [{"id": n, "up": node.up, "listeners": self.listener_strings(n)}
                      for n, node in sorted(self.nodes.items())],
            "partitions": [{"topic": topic, "partition": i, "leader": s.leader, "leader_epoch": s.leader_epoch,
                            "replicas": s.replicas, "isr": s.isr}
                           for topic, states in sorted(self.topics.items()) if topic not in internal
                           for i, s in enumerate(states)],
            "coordinator_partitions": {name: [{"partition": i, "leader": s.leader, "leader_epoch": s.leader_epoch}
                                              for i, s in enumerate(self.topics[COORDINATOR_TOPICS[kind]])]
                                       for name, kind in COORDINATOR_KINDS.items()},
        }
