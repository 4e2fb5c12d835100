# Generated from internal.py by `python -m kafkette.protocol.stubs`: do not edit.

from kafkette.protocol.model import Message
from kafkette.protocol.schema import Data


class TransactionLogKey(Message):
    transactional_id: str
    def __init__(self, *, transactional_id: str = ...) -> None: ...


TRANSACTION_LOG_KEY: Data[TransactionLogKey]


class TransactionLogValue(Message):
    producer_id: int
    previous_producer_id: int
    next_producer_id: int
    producer_epoch: int
    transaction_timeout_ms: int
    transaction_status: int
    transaction_partitions: list[TransactionLogValue.PartitionsSchema] | None
    transaction_last_update_timestamp_ms: int
    transaction_start_timestamp_ms: int
    client_transaction_version: int
    def __init__(
        self,
        *,
        producer_id: int = ...,
        previous_producer_id: int = ...,
        next_producer_id: int = ...,
        producer_epoch: int = ...,
        transaction_timeout_ms: int = ...,
        transaction_status: int = ...,
        transaction_partitions: list[TransactionLogValue.PartitionsSchema] | None = ...,
        transaction_last_update_timestamp_ms: int = ...,
        transaction_start_timestamp_ms: int = ...,
        client_transaction_version: int = ...,
    ) -> None: ...

    class PartitionsSchema(Message):
        topic: str
        partition_ids: list[int]
        def __init__(self, *, topic: str = ..., partition_ids: list[int] = ...) -> None: ...


TRANSACTION_LOG_VALUE: Data[TransactionLogValue]


class OffsetCommitKey(Message):
    group: str
    topic: str
    partition: int
    def __init__(self, *, group: str = ..., topic: str = ..., partition: int = ...) -> None: ...


OFFSET_COMMIT_KEY: Data[OffsetCommitKey]


class OffsetCommitValue(Message):
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp: int
    expire_timestamp: int
    def __init__(
        self,
        *,
        offset: int = ...,
        leader_epoch: int = ...,
        metadata: str = ...,
        commit_timestamp: int = ...,
        expire_timestamp: int = ...,
    ) -> None: ...


OFFSET_COMMIT_VALUE: Data[OffsetCommitValue]


class GroupMetadataKey(Message):
    group: str
    def __init__(self, *, group: str = ...) -> None: ...


GROUP_METADATA_KEY: Data[GroupMetadataKey]


class GroupMetadataValue(Message):
    protocol_type: str
    generation: int
    protocol: str | None
    leader: str | None
    current_state_timestamp: int
    members: list[GroupMetadataValue.MemberMetadata]
    def __init__(
        self,
        *,
        protocol_type: str = ...,
        generation: int = ...,
        protocol: str | None = ...,
        leader: str | None = ...,
        current_state_timestamp: int = ...,
        members: list[GroupMetadataValue.MemberMetadata] = ...,
    ) -> None: ...

    class MemberMetadata(Message):
        member_id: str
        group_instance_id: str | None
        client_id: str
        client_host: str
        rebalance_timeout: int
        session_timeout: int
        subscription: bytes
        assignment: bytes
        def __init__(
            self,
            *,
            member_id: str = ...,
            group_instance_id: str | None = ...,
            client_id: str = ...,
            client_host: str = ...,
            rebalance_timeout: int = ...,
            session_timeout: int = ...,
            subscription: bytes = ...,
            assignment: bytes = ...,
        ) -> None: ...


GROUP_METADATA_VALUE: Data[GroupMetadataValue]


class ScramCredentialKey(Message):
    name: str
    mechanism: int
    def __init__(self, *, name: str = ..., mechanism: int = ...) -> None: ...


SCRAM_CREDENTIAL_KEY: Data[ScramCredentialKey]


class ScramCredentialValue(Message):
    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int
    def __init__(
        self,
        *,
        salt: bytes = ...,
        stored_key: bytes = ...,
        server_key: bytes = ...,
        iterations: int = ...,
    ) -> None: ...


SCRAM_CREDENTIAL_VALUE: Data[ScramCredentialValue]


class AclKey(Message):
    resource_type: int
    resource_name: str
    pattern_type: int
    principal: str
    host: str
    operation: int
    permission_type: int
    def __init__(
        self,
        *,
        resource_type: int = ...,
        resource_name: str = ...,
        pattern_type: int = ...,
        principal: str = ...,
        host: str = ...,
        operation: int = ...,
        permission_type: int = ...,
    ) -> None: ...


ACL_KEY: Data[AclKey]


class BrokerConfigKey(Message):
    resource_name: str
    name: str
    def __init__(self, *, resource_name: str = ..., name: str = ...) -> None: ...


BROKER_CONFIG_KEY: Data[BrokerConfigKey]


class BrokerConfigValue(Message):
    value: str
    def __init__(self, *, value: str = ...) -> None: ...


BROKER_CONFIG_VALUE: Data[BrokerConfigValue]
