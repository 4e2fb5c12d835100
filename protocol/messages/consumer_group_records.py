"""The consumer-protocol (KIP-848) group record kafkette keeps in `__consumer_offsets`: its epoch.

Kafka's ConsumerGroupMetadataKey/Value (group-coordinator/src/main/resources/common/message);
the member and assignment records Kafka also writes are not kept here.
"""

from kafkette.protocol.schema import Data, f


CONSUMER_GROUP_METADATA_KEY = Data(
    name='ConsumerGroupMetadataKey',
    versions=(3, 3),
    flexible=None,
    fields=[
        f('group_id', 'string', v='3'),
    ],
)

CONSUMER_GROUP_METADATA_VALUE = Data(
    name='ConsumerGroupMetadataValue',
    versions=(0, 0),
    flexible=0,
    fields=[
        f('epoch', 'int32'),
    ],
)

ConsumerGroupMetadataKey = CONSUMER_GROUP_METADATA_KEY.Record
ConsumerGroupMetadataValue = CONSUMER_GROUP_METADATA_VALUE.Record
