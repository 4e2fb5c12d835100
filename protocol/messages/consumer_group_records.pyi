# Generated from consumer_group_records.py by `python -m kafkette.protocol.stubs`: do not edit.

from kafkette.protocol.model import Message
from kafkette.protocol.schema import Data


class ConsumerGroupMetadataKey(Message):
    group_id: str
    def __init__(self, *, group_id: str = ...) -> None: ...


CONSUMER_GROUP_METADATA_KEY: Data[ConsumerGroupMetadataKey]


class ConsumerGroupMetadataValue(Message):
    epoch: int
    def __init__(self, *, epoch: int = ...) -> None: ...


CONSUMER_GROUP_METADATA_VALUE: Data[ConsumerGroupMetadataValue]
