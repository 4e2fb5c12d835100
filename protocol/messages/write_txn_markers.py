"""WriteTxnMarkers (API key 27): versions 0-1, as in Kafka's WriteTxnMarkersRequest/Response.json."""

from kafkette.protocol.schema import Api, f


WRITE_TXN_MARKERS = Api(
    key=27,
    name='WriteTxnMarkers',
    versions=(0, 1),
    flexible=1,
    request=[
        f('markers', '[]WritableTxnMarker', fields=[
            f('producer_id', 'int64'),
            f('producer_epoch', 'int16'),
            f('transaction_result', 'bool'),
            f('topics', '[]WritableTxnMarkerTopic', fields=[
                f('name', 'string'),
                f('partition_indexes', '[]int32'),
            ]),
            f('coordinator_epoch', 'int32'),
        ]),
    ],
    response=[
        f('markers', '[]WritableTxnMarkerResult', fields=[
            f('producer_id', 'int64'),
            f('topics', '[]WritableTxnMarkerTopicResult', fields=[
                f('name', 'string'),
                f('partitions', '[]WritableTxnMarkerPartitionResult', fields=[
                    f('partition_index', 'int32'),
                    f('error_code', 'int16'),
                ]),
            ]),
        ]),
    ],
)

WriteTxnMarkersRequest = WRITE_TXN_MARKERS.Request
WriteTxnMarkersResponse = WRITE_TXN_MARKERS.Response
