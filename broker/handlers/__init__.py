"""One module per API; importing this package registers every handler."""

from broker.handlers import (  # noqa: F401
    add_offsets_to_txn,
    add_partitions_to_txn,
    api_versions,
    create_partitions,
    create_topics,
    delete_topics,
    describe_cluster,
    describe_configs,
    describe_producers,
    describe_transactions,
    end_txn,
    fetch,
    find_coordinator,
    init_producer_id,
    list_offsets,
    list_transactions,
    metadata,
    offset_for_leader_epoch,
    produce,
    write_txn_markers,
)
