"""Fetch: whole batches from the log, up to the HWM or the LSO; a long poll woken by appends.

Sizes as Kafka's KafkaApis.handleFetchRequest and ReplicaManager.readFromLog: the response carries at
most min(max_bytes, --fetch-max-bytes) record bytes and each partition at most its partition_max_bytes,
except that the first batch of the first partition with data is returned whole whatever its size
(KIP-74), so a consumer always makes progress; min_bytes is capped at the same limit.
Fetch sessions are answered as sessionless (session id 0), as Kafka allows. In a simulated cluster
(broker.cluster) a partition is read on its leader, or from v11 on any of its replicas (Kafka's
follower fetching, open to every v11 consumer), after the client's leader epoch is checked.
"""

from __future__ import annotations

import time
from operator import attrgetter
from typing import TYPE_CHECKING, AbstractSet, Awaitable

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.fetch import FETCH, FetchRequest, FetchResponse
from kafkette.protocol.types import IsolationLevel

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = FetchResponse
TOPIC_NAME = attrgetter("topic")
Route = tuple[int, bool] | None  # (the node asked, whether only the leader answers); None: no cluster checks


@handles(FETCH, versions=(4, 12))
def fetch(ctx: RequestContext, body: FetchRequest) -> FetchResponse | Awaitable[FetchResponse]:
    # a follower's fetch (replica id 0 or more) needs CLUSTER_ACTION; a consumer's, READ on each topic
    if body.replica_id >= 0 and not ctx.authorize(Operation.CLUSTER_ACTION, ResourceType.CLUSTER):
        denied: AbstractSet[str] = {t.topic for t in body.topics}
    else:
        denied = ctx.denied(Operation.READ, ResourceType.TOPIC, body.topics, TOPIC_NAME)
    max_bytes = min(body.max_bytes, ctx.broker.config.fetch_max_bytes)
    min_bytes = min(body.min_bytes, max_bytes)
    # None: the one node leads everything, at epoch 0; else who answers, and whether followers may (v11+)
    route = (ctx.node_id, ctx.version < 11) if ctx.broker.cluster.routed else None
    response, size, error = _read(ctx.broker, body, max_bytes, route, denied)
    if size >= min_bytes or body.max_wait_ms <= 0 or error:
        return response
    return _long_poll(ctx.broker, body, max_bytes, min_bytes, route, denied,
                      time.monotonic() + body.max_wait_ms / 1000)


async def _long_poll(broker: Broker, body: FetchRequest, max_bytes: int, min_bytes: int, route: Route,
                     denied: AbstractSet[str], deadline: float) -> FetchResponse:
    keys = [log for t in body.topics for p in t.partitions if (log := broker.store.partition(t.topic, p.partition))]
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        await broker.arrivals.wait(keys, remaining)
        response, size, error = _read(broker, body, max_bytes, route, denied)
        if size >= min_bytes or error:
            return response
    return _read(broker, body, max_bytes, route, denied)[0]


def _read(broker: Broker, body: FetchRequest, budget: int, route: Route, denied: AbstractSet[str]
          ) -> tuple[FetchResponse, int, bool]:
    """(response, record bytes in it, whether any partition has an error)."""
    committed = body.isolation_level == IsolationLevel.READ_COMMITTED
    total = 0
    any_error = False
    topics = []
    for wanted in body.topics:
        partitions = []
        if wanted.topic in denied:  # answered as an unknown partition is (Kafka's "erroneous" partitions)
            any_error = True
            topics.append(R.FetchableTopicResponse(topic=wanted.topic, partitions=[
                _error(p.partition, ErrorCode.TOPIC_AUTHORIZATION_FAILED, committed) for p in wanted.partitions]))
            continue
        for p in wanted.partitions:
            log = broker.store.partition(wanted.topic, p.partition)
            if log is None:
                partitions.append(_error(p.partition, broker.missing_partition_error(wanted.topic), committed))
                any_error = True
                continue
            if route is not None:
                refused = broker.cluster.partition_error(route[0], wanted.topic, p.partition, p.current_leader_epoch,
                                                         route[1])
                if refused != ErrorCode.NONE:
                    partitions.append(_error(p.partition, refused, False))
                    any_error = True
                    continue
            limit = min(p.partition_max_bytes, max(budget - total, 0))
            result = log.read(p.fetch_offset, limit, isolation_committed=committed, min_one=total == 0)
            if result.error != ErrorCode.NONE:  # Kafka's offsets are -1 beside an error, too
                any_error = True
                partitions.append(_error(p.partition, result.error, False))
                continue
            size = sum(len(c) for c in result.chunks)
            total += size
            aborted = None
            if committed:
                aborted = [R.AbortedTransaction(producer_id=pid, first_offset=first) for pid, first in result.aborted]
            partitions.append(R.PartitionData(
                partition_index=p.partition, error_code=result.error, high_watermark=result.high_watermark,
                last_stable_offset=result.last_stable_offset, log_start_offset=result.log_start_offset,
                aborted_transactions=aborted, preferred_read_replica=-1,
                records=result.chunks if size else b""))
        topics.append(R.FetchableTopicResponse(topic=wanted.topic, partitions=partitions))
    return R(throttle_time_ms=0, error_code=0, session_id=0, responses=topics), total, any_error


def _error(partition: int, error: ErrorCode, committed: bool) -> R.PartitionData:
    """Kafka's offsets beside an error are -1. For an unknown partition a read_committed answer lists no aborted
    transactions ([]); beside an error of the log read Kafka leaves the list null."""
    return R.PartitionData(partition_index=partition, error_code=error, high_watermark=-1, last_stable_offset=-1,
                           log_start_offset=-1, aborted_transactions=[] if committed else None,
                           preferred_read_replica=-1, records=b"")
