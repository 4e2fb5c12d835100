"""Every API kafkette declares, one module each."""

from kafkette.protocol.messages.produce import PRODUCE
from kafkette.protocol.messages.fetch import FETCH
from kafkette.protocol.messages.list_offsets import LIST_OFFSETS
from kafkette.protocol.messages.metadata import METADATA
from kafkette.protocol.messages.offset_commit import OFFSET_COMMIT
from kafkette.protocol.messages.offset_fetch import OFFSET_FETCH
from kafkette.protocol.messages.find_coordinator import FIND_COORDINATOR
from kafkette.protocol.messages.join_group import JOIN_GROUP
from kafkette.protocol.messages.heartbeat import HEARTBEAT
from kafkette.protocol.messages.leave_group import LEAVE_GROUP
from kafkette.protocol.messages.sync_group import SYNC_GROUP
from kafkette.protocol.messages.describe_groups import DESCRIBE_GROUPS
from kafkette.protocol.messages.list_groups import LIST_GROUPS
from kafkette.protocol.messages.api_versions import API_VERSIONS
from kafkette.protocol.messages.create_topics import CREATE_TOPICS
from kafkette.protocol.messages.delete_topics import DELETE_TOPICS
from kafkette.protocol.messages.delete_records import DELETE_RECORDS
from kafkette.protocol.messages.init_producer_id import INIT_PRODUCER_ID
from kafkette.protocol.messages.offset_for_leader_epoch import OFFSET_FOR_LEADER_EPOCH
from kafkette.protocol.messages.add_partitions_to_txn import ADD_PARTITIONS_TO_TXN
from kafkette.protocol.messages.add_offsets_to_txn import ADD_OFFSETS_TO_TXN
from kafkette.protocol.messages.end_txn import END_TXN
from kafkette.protocol.messages.write_txn_markers import WRITE_TXN_MARKERS
from kafkette.protocol.messages.txn_offset_commit import TXN_OFFSET_COMMIT
from kafkette.protocol.messages.describe_configs import DESCRIBE_CONFIGS
from kafkette.protocol.messages.alter_configs import ALTER_CONFIGS
from kafkette.protocol.messages.create_partitions import CREATE_PARTITIONS
from kafkette.protocol.messages.delete_groups import DELETE_GROUPS
from kafkette.protocol.messages.incremental_alter_configs import INCREMENTAL_ALTER_CONFIGS
from kafkette.protocol.messages.offset_delete import OFFSET_DELETE
from kafkette.protocol.messages.describe_cluster import DESCRIBE_CLUSTER
from kafkette.protocol.messages.describe_producers import DESCRIBE_PRODUCERS
from kafkette.protocol.messages.describe_transactions import DESCRIBE_TRANSACTIONS
from kafkette.protocol.messages.list_transactions import LIST_TRANSACTIONS
from kafkette.protocol.messages.consumer_group_heartbeat import CONSUMER_GROUP_HEARTBEAT
from kafkette.protocol.messages.consumer_group_describe import CONSUMER_GROUP_DESCRIBE
from kafkette.protocol.messages.sasl_handshake import SASL_HANDSHAKE
from kafkette.protocol.messages.sasl_authenticate import SASL_AUTHENTICATE
from kafkette.protocol.messages.describe_user_scram_credentials import DESCRIBE_USER_SCRAM_CREDENTIALS
from kafkette.protocol.messages.alter_user_scram_credentials import ALTER_USER_SCRAM_CREDENTIALS


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
    SASL_HANDSHAKE,
    SASL_AUTHENTICATE,
    DESCRIBE_USER_SCRAM_CREDENTIALS,
    ALTER_USER_SCRAM_CREDENTIALS,
)
