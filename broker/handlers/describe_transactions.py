"""DescribeTransactions: state, producer, timeout and partitions of transactional ids."""

from __future__ import annotations

from collections import defaultdict

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import TRANSACTION
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.describe_transactions import (
    DESCRIBE_TRANSACTIONS,
    DescribeTransactionsRequest,
    DescribeTransactionsResponse,
)

R = DescribeTransactionsResponse


@handles(DESCRIBE_TRANSACTIONS, versions=(0, 0))
def describe_transactions(ctx: RequestContext, body: DescribeTransactionsRequest) -> DescribeTransactionsResponse:
    return R(throttle_time_ms=0, transaction_states=[_described(ctx, tid) for tid in body.transactional_ids])


def _described(ctx: RequestContext, transactional_id: str) -> R.TransactionState:
    """The transaction as the principal may see it: DESCRIBE on its id, and on each topic it lists."""
    if not ctx.authorize(Operation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, transactional_id):
        return R.TransactionState(error_code=ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                                  transactional_id=transactional_id)
    state = _describe(ctx, transactional_id)
    hidden = ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, [t.topic for t in state.topics], None)
    state.topics = [t for t in state.topics if t.topic not in hidden]
    return state


def _describe(ctx: RequestContext, transactional_id: str) -> R.TransactionState:
    refused = ctx.coordinator_error(TRANSACTION, transactional_id)
    txn = None if refused else ctx.broker.transactions.describe(transactional_id)
    if txn is None:
        return R.TransactionState(error_code=refused or ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
                                  transactional_id=transactional_id, transaction_state="", producer_id=-1,
                                  producer_epoch=-1, transaction_start_time_ms=-1)
    by_topic = defaultdict(list)
    for topic, partition in sorted(txn.partitions):
        by_topic[topic].append(partition)
    return R.TransactionState(error_code=0, transactional_id=transactional_id,
                              transaction_state=txn.state.wire_name, transaction_timeout_ms=txn.timeout_ms,
                              transaction_start_time_ms=txn.start_ms, producer_id=txn.producer_id,
                              producer_epoch=txn.producer_epoch,
                              topics=[R.TopicData(topic=t, partitions=p) for t, p in by_topic.items()])
