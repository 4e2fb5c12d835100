# Generated from consumer_protocol.py by `python -m kafkette.protocol.stubs`: do not edit.

from kafkette.protocol.model import Message
from kafkette.protocol.schema import Data


class ConsumerProtocolSubscription(Message):
    topics: list[str]
    user_data: bytes | None
    owned_partitions: list[ConsumerProtocolSubscription.TopicPartition]
    generation_id: int
    rack_id: str | None
    def __init__(
        self,
        *,
        topics: list[str] = ...,
        user_data: bytes | None = ...,
        owned_partitions: list[ConsumerProtocolSubscription.TopicPartition] = ...,
        generation_id: int = ...,
        rack_id: str | None = ...,
    ) -> None: ...

    class TopicPartition(Message):
        topic: str
        partitions: list[int]
        def __init__(self, *, topic: str = ..., partitions: list[int] = ...) -> None: ...


CONSUMER_PROTOCOL_SUBSCRIPTION: Data[ConsumerProtocolSubscription]


class ConsumerProtocolAssignment(Message):
    assigned_partitions: list[ConsumerProtocolAssignment.TopicPartition]
    user_data: bytes | None
    def __init__(
        self,
        *,
        assigned_partitions: list[ConsumerProtocolAssignment.TopicPartition] = ...,
        user_data: bytes | None = ...,
    ) -> None: ...

    class TopicPartition(Message):
        topic: str
        partitions: list[int]
        def __init__(self, *, topic: str = ..., partitions: list[int] = ...) -> None: ...


CONSUMER_PROTOCOL_ASSIGNMENT: Data[ConsumerProtocolAssignment]
