"""Records kafkette writes to its internal topics, as Kafka declares them (coordinator/*.json)."""

from kafkette.protocol.schema import Data, f


TRANSACTION_LOG_KEY = Data(
    name='TransactionLogKey',
    versions=(0, 0),
    flexible=None,
    fields=[
        f('transactional_id', 'string'),
    ],
)

TRANSACTION_LOG_VALUE = Data(
    name='TransactionLogValue',
    versions=(0, 1),
    flexible=1,
    fields=[
        f('producer_id', 'int64'),
        f('previous_producer_id', 'int64', v='1+', tag=0, default=-1),
        f('next_producer_id', 'int64', v='1+', tag=1, default=-1),
        f('producer_epoch', 'int16'),
        f('transaction_timeout_ms', 'int32'),
        f('transaction_status', 'int8'),
        f('transaction_partitions', '[]PartitionsSchema', null='0+', fields=[
            f('topic', 'string'),
            f('partition_ids', '[]int32'),
        ]),
        f('transaction_last_update_timestamp_ms', 'int64'),
        f('transaction_start_timestamp_ms', 'int64'),
        f('client_transaction_version', 'int16', v='1+', tag=2),
    ],
)

OFFSET_COMMIT_KEY = Data(
    name='OffsetCommitKey',
    versions=(0, 1),
    flexible=None,
    fields=[
        f('group', 'string'),
        f('topic', 'string'),
        f('partition', 'int32'),
    ],
)

OFFSET_COMMIT_VALUE = Data(
    name='OffsetCommitValue',
    versions=(0, 4),
    flexible=4,
    fields=[
        f('offset', 'int64'),
        f('leader_epoch', 'int32', v='3+', default=-1),
        f('metadata', 'string'),
        f('commit_timestamp', 'int64'),
        f('expire_timestamp', 'int64', v='1', default=-1),
    ],
)

GROUP_METADATA_KEY = Data(
    name='GroupMetadataKey',
    versions=(2, 2),
    flexible=None,
    fields=[
        f('group', 'string', v='2+'),
    ],
)

GROUP_METADATA_VALUE = Data(
    name='GroupMetadataValue',
    versions=(0, 4),
    flexible=4,
    fields=[
        f('protocol_type', 'string'),
        f('generation', 'int32'),
        f('protocol', 'string', null='0+'),
        f('leader', 'string', null='0+'),
        f('current_state_timestamp', 'int64', v='2+', default=-1),
        f('members', '[]MemberMetadata', fields=[
            f('member_id', 'string'),
            f('group_instance_id', 'string', v='3+', null='3+', default=None),
            f('client_id', 'string'),
            f('client_host', 'string'),
            f('rebalance_timeout', 'int32', v='1+', default=-1),
            f('session_timeout', 'int32'),
            f('subscription', 'bytes'),
            f('assignment', 'bytes'),
        ]),
    ],
)

TransactionLogKey = TRANSACTION_LOG_KEY.Record
TransactionLogValue = TRANSACTION_LOG_VALUE.Record
OffsetCommitKey = OFFSET_COMMIT_KEY.Record
OffsetCommitValue = OFFSET_COMMIT_VALUE.Record
GroupMetadataKey = GROUP_METADATA_KEY.Record
GroupMetadataValue = GROUP_METADATA_VALUE.Record

# kafkette's own records (`__kafkette_scram_credentials`), with the fields of Kafka's UserScramCredentialRecord and
# RemoveUserScramCredentialRecord (metadata/*.json): a null value removes the user's credential for that mechanism.
# The salted password is never stored, only what the server needs (RFC 5802 StoredKey and ServerKey).
SCRAM_CREDENTIAL_KEY = Data(
    name='ScramCredentialKey',
    versions=(0, 0),
    flexible=0,
    fields=[
        f('name', 'string'),
        f('mechanism', 'int8'),
    ],
)

SCRAM_CREDENTIAL_VALUE = Data(
    name='ScramCredentialValue',
    versions=(0, 0),
    flexible=0,
    fields=[
        f('salt', 'bytes'),
        f('stored_key', 'bytes'),
        f('server_key', 'bytes'),
        f('iterations', 'int32'),
    ],
)

ScramCredentialKey = SCRAM_CREDENTIAL_KEY.Record
ScramCredentialValue = SCRAM_CREDENTIAL_VALUE.Record

# kafkette's own records (`__kafkette_acls`): the fields of Kafka's AccessControlEntryRecord (metadata/*.json)
# without its id, as the key. The value is empty while the ACL exists; a null value removes it.
ACL_KEY = Data(
    name='AclKey',
    versions=(0, 0),
    flexible=0,
    fields=[
        f('resource_type', 'int8'),
        f('resource_name', 'string'),
        f('pattern_type', 'int8'),
        f('principal', 'string'),
        f('host', 'string'),
        f('operation', 'int8'),
        f('permission_type', 'int8'),
    ],
)

AclKey = ACL_KEY.Record

# kafkette's own records (`__kafkette_broker_configs`): Kafka's ConfigRecord (metadata/*.json) of a BROKER resource,
# its resource and config name as the key; the value holds the config's text, and a null value removes it.
BROKER_CONFIG_KEY = Data(
    name='BrokerConfigKey',
    versions=(0, 0),
    flexible=0,
    fields=[
        f('resource_name', 'string'),
        f('name', 'string'),
    ],
)

BROKER_CONFIG_VALUE = Data(
    name='BrokerConfigValue',
    versions=(0, 0),
    flexible=0,
    fields=[
        f('value', 'string'),
    ],
)

BrokerConfigKey = BROKER_CONFIG_KEY.Record
BrokerConfigValue = BROKER_CONFIG_VALUE.Record
