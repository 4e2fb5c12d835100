"""What the coordinator knows of one transactional id."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafkette.broker.transactions.states import TxnState, check_transition
from kafkette.protocol.types import TopicPartition


@dataclass
class TransactionMetadata:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    state: TxnState = TxnState.EMPTY
    partitions: set[TopicPartition] = field(default_factory=set)
    start_ms: int = -1
    last_update_ms: int = -1
    last_producer_id: int = -1  # previous id/epoch: lets a producer retrying its InitProducerId be recognised
    last_producer_epoch: int = -1

    def transition(self, target: TxnState, now_ms: int) -> None:
        check_transition(self.state, target)
        self.state = target
        self.last_update_ms = now_ms

    def expired(self, now_ms: int) -> bool:
        return self.state == TxnState.ONGOING and now_ms > self.start_ms + self.timeout_ms
