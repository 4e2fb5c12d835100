"""Every API kafkette declares, one module each."""

from protocol.messages.produce import PRODUCE
from protocol.messages.fetch import FETCH
from protocol.messages.list_offsets import LIST_OFFSETS
from protocol.messages.metadata import METADATA
from protocol.messages.offset_commit import OFFSET_COMMIT
from protocol.messages.offset_fetch import OFFSET_FETCH
from protocol.messages.find_coordinator import FIND_COORDINATOR
from protocol.messages.join_group import JOIN_GROUP
from protocol.messages.heartbeat import HEARTBEAT
from protocol.messages.leave_group import LEAVE_GROUP
from protocol.messages.sync_group import SYNC_GROUP
from protocol.messages.describe_groups import DESCRIBE_GROUPS
from protocol.messages.list_groups import LIST_GROUPS
from protocol.messages.api_versions import API_VERSIONS
from protocol.messages.create_topics import CREATE_TOPICS
from protocol.messages.delete_topics import DELETE_TOPICS
from protocol.messages.delete_records import DELETE_RECORDS
from protocol.messages.init_producer_id import INIT_PRODUCER_ID
from protocol.messages.offset_for_leader_epoch import OFFSET_FOR_LEADER_EPOCH
from protocol.messages.add_partitions_to_txn import ADD_PARTITIONS_TO_TXN
from protocol.messages.add_offsets_to_txn import ADD_OFFSETS_TO_TXN
from protocol.messages.end_txn import END_TXN
from protocol.messages.write_txn_markers import WRITE_TXN_MARKERS
from protocol.messages.txn_offset_commit import TXN_OFFSET_COMMIT
from protocol.messages.describe_configs import DESCRIBE_CONFIGS
from protocol.messages.alter_configs import ALTER_CONFIGS
from protocol.messages.create_partitions import CREATE_PARTITIONS
from protocol.messages.delete_groups import DELETE_GROUPS
from protocol.messages.incremental_alter_configs import INCREMENTAL_ALTER_CONFIGS
from protocol.messages.offset_delete import OFFSET_DELETE
from protocol.messages.describe_cluster import DESCRIBE_CLUSTER
from protocol.messages.describe_producers import DESCRIBE_PRODUCERS
from protocol.messages.describe_transactions import DESCRIBE_TRANSACTIONS
from protocol.messages.list_transactions import LIST_TRANSACTIONS
from protocol.messages.consumer_group_heartbeat import CONSUMER_GROUP_HEARTBEAT
from protocol.messages.consumer_group_describe import CONSUMER_GROUP_DESCRIBE


ALL = (
    PRODUCE,
    FETCH,
    LIST_OFFSETS,
    METADATA,
    OFFSET_COMMIT,
    OFFSET_FETCH,
    FIND_COORDINATOR,
    JOIN_GROUP,
    HEARTBEAT,
    LEAVE_GROUP,
    SYNC_GROUP,
    DESCRIBE_GROUPS,
    LIST_GROUPS,
    API_VERSIONS,
    CREATE_TOPICS,
    DELETE_TOPICS,
    DELETE_RECORDS,
    INIT_PRODUCER_ID,
    OFFSET_FOR_LEADER_EPOCH,
    ADD_PARTITIONS_TO_TXN,
    ADD_OFFSETS_TO_TXN,
    END_TXN,
    WRITE_TXN_MARKERS,
    TXN_OFFSET_COMMIT,
    DESCRIBE_CONFIGS,
    ALTER_CONFIGS,
    CREATE_PARTITIONS,
    DELETE_GROUPS,
    INCREMENTAL_ALTER_CONFIGS,
    OFFSET_DELETE,
    DESCRIBE_CLUSTER,
    DESCRIBE_PRODUCERS,
    DESCRIBE_TRANSACTIONS,
    LIST_TRANSACTIONS,
    CONSUMER_GROUP_HEARTBEAT,
    CONSUMER_GROUP_DESCRIBE,
)
