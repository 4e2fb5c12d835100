"""Prometheus metrics (`--metrics-port`): what they are, and how each is gathered.

Two kinds, so that serving requests pays for as little as possible:
- Counters of the requests answered (`RequestStats`) are plain ints, keyed by
  API and version, added to by the request observer (`broker.observers`).
- Everything that describes state (connections, transactions, partitions,
  groups and their lag) is read from the broker when Prometheus scrapes, by
  `BrokerCollector`, which also exports the request counters.
Imported only when metrics are on. Each metric is described in the README.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from typing import TYPE_CHECKING, Iterator

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from kafkette.broker.groups.consumer_group import ConsumerGroupState
from kafkette.broker.groups.registry import CLASSIC, CONSUMER, group_type
from kafkette.broker.groups.state import GroupState
from kafkette.broker.http_server import Handler
from kafkette.broker.observers import Exchange, error_name
from kafkette.broker.transactions.states import TxnState

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

# upper bounds of the request latency histogram's buckets, in seconds
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                   1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ApiStats:
    """The requests of one API and version answered so far."""

    __slots__ = ("requests", "errors", "bytes_in", "bytes_out", "seconds", "buckets")

    def __init__(self) -> None:
        self.requests = 0
        self.errors: dict[int, int] = {}  # error code -> responses carrying it
        self.bytes_in = 0
        self.bytes_out = 0
        self.seconds = 0.0
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # per bucket, not cumulative; the last is +Inf


class RequestStats:
    """The request observer of the metrics: a few additions per request."""

    def __init__(self) -> None:
        self.by_request: dict[tuple[str, int], ApiStats] = {}  # (API name, version) ->

    def observe(self, exchange: Exchange) -> None:
        ctx = exchange.ctx
        key = (ctx.api.name, ctx.header.api_version)
        stats = self.by_request.get(key)
        if stats is None:
            stats = self.by_request[key] = ApiStats()
        stats.requests += 1
        stats.bytes_in += exchange.bytes_in
        stats.bytes_out += exchange.bytes_out
        stats.seconds += exchange.seconds
        stats.buckets[bisect_left(LATENCY_BUCKETS, exchange.seconds)] += 1
        if exchange.error:
            stats.errors[exchange.error] = stats.errors.get(exchange.error, 0) + 1


class BrokerCollector(Collector):
    """Every kafkette_* metric, computed when scraped."""

    def __init__(self, broker: Broker, requests: RequestStats) -> None:
        self.broker = broker
        self.requests = requests

    def collect(self) -> Iterator[Metric]:
        yield from self._requests()
        yield GaugeMetricFamily("kafkette_active_connections", "Client connections open now.",
                                value=len(self.broker.connections))
        yield from self._transactions()
        high_watermarks: dict[tuple[str, int], int] = {}
        yield from self._partitions(high_watermarks)
        yield from self._groups(high_watermarks)

    def _requests(self) -> Iterator[Metric]:
        requests = CounterMetricFamily("kafkette_requests", "Requests answered, by API and version.",
                                       labels=("request", "version"))
        errors = CounterMetricFamily("kafkette_request_errors", "Responses carrying an error code (the "
                                     "top-level one, else the first partition's), by API, version and error.",
                                     labels=("request", "version", "error"))
        bytes_in = CounterMetricFamily("kafkette_bytes_in", "Request bytes received, by API.", labels=("request",))
        bytes_out = CounterMetricFamily("kafkette_bytes_out", "Response bytes sent, by API.", labels=("request",))
        latency = HistogramMetricFamily("kafkette_request_latency_seconds", "Time from the broker reading a request "
                                        "to its response being written, by API.", labels=("request",))
        per_api: dict[str, list[ApiStats]] = {}
        for (api, version), stats in sorted(self.requests.by_request.items()):
            per_api.setdefault(api, []).append(stats)
            requests.add_metric((api, str(version)), stats.requests)
            for code, count in sorted(stats.errors.items()):
                errors.add_metric((api, str(version), error_name(code)), count)
        for api, versions in per_api.items():
            bytes_in.add_metric((api,), sum(s.bytes_in for s in versions))
            bytes_out.add_metric((api,), sum(s.bytes_out for s in versions))
            counts = [sum(column) for column in zip(*(s.buckets for s in versions))]
            cumulative, buckets = 0, []
            for bound, count in zip((*map(str, LATENCY_BUCKETS), "+Inf"), counts):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric((api,), buckets, sum(s.seconds for s in versions))
        yield from (requests, errors, bytes_in, bytes_out, latency)

    def _transactions(self) -> Iterator[Metric]:
        coordinator = self.broker.transactions
        by_state = GaugeMetricFamily("kafkette_transactions", "Transactional ids by the state of their "
                                     "transaction.", labels=("state",))
        states = Counter(txn.state for txn in coordinator.all())
        for state in TxnState:
            by_state.add_metric((state.wire_name,), states[state])
        yield by_state
        counts = coordinator.counts
        for name, value, text in (
                ("committed", counts.committed, "Transactions committed."),
                ("aborted", counts.aborted, "Transactions aborted, for any reason (the timed-out and fenced "
                                            "ones included)."),
                ("timed_out", counts.timed_out, "Transactions aborted by the broker: open longer than their "
                                                "transaction.timeout.ms."),
                ("fenced", counts.fenced, "Open transactions aborted because a new producer with the same "
                                          "transactional.id started (the old one is fenced).")):
            yield CounterMetricFamily(f"kafkette_transactions_{name}", text, value=value)

    def _partitions(self, high_watermarks: dict[tuple[str, int], int]) -> Iterator[Metric]:
        labels = ("topic", "partition")
        hwm = GaugeMetricFamily("kafkette_partition_high_watermark", "Offset after the last record appended.",
                                labels=labels)
        lso = GaugeMetricFamily("kafkette_partition_last_stable_offset", "Offset up to which read_committed "
                                "consumers may read: the first one of the oldest open transaction.", labels=labels)
        lso_lag = GaugeMetricFamily("kafkette_partition_lso_lag", "High watermark minus last stable offset: "
                                    "offsets that open transactions hold back from read_committed consumers.",
                                    labels=labels)
        start = GaugeMetricFamily("kafkette_partition_log_start_offset", "First offset still in the log.",
                                  labels=labels)
        store = self.broker.store
        for topic in store.topics():
            for index in range(topic.partition_count):
                partition = store.partition(topic.name, index)
                if partition is None:
                    continue
                key = (topic.name, str(index))
                high, stable = partition.high_watermark, partition.last_stable_offset
                high_watermarks[topic.name, index] = high
                hwm.add_metric(key, high)
                lso.add_metric(key, stable)
                lso_lag.add_metric(key, high - stable)
                start.add_metric(key, partition.log_start_offset)
        yield from (hwm, lso, lso_lag, start)

    def _groups(self, high_watermarks: dict[tuple[str, int], int]) -> Iterator[Metric]:
        groups = self.broker.groups.registry.all()
        by_state = GaugeMetricFamily("kafkette_groups", "Consumer groups by type (classic or consumer "
                                     "protocol) and state.", labels=("type", "state"))
        counted = Counter((group_type(g), g.state.value) for g in groups)
        for kind, states in ((CLASSIC, GroupState), (CONSUMER, ConsumerGroupState)):
            for state in states:
                by_state.add_metric((kind, state.value), counted[kind, state.value])
        members = GaugeMetricFamily("kafkette_group_members", "Members of a group.", labels=("group",))
        committed = GaugeMetricFamily("kafkette_group_committed_offset", "A group's committed offset.",
                                      labels=("group", "topic", "partition"))
        lag = GaugeMetricFamily("kafkette_group_lag", "High watermark minus the group's committed offset "
                                "(0 if the committed offset is past it).", labels=("group", "topic", "partition"))
        for group in sorted(groups, key=lambda g: g.group_id):
            members.add_metric((group.group_id,), len(group.members))
            for (topic, partition), offset in sorted(group.offsets.committed.items()):
                key = (group.group_id, topic, str(partition))
                committed.add_metric(key, offset.offset)
                high = high_watermarks.get((topic, partition))
                if high is not None:
                    lag.add_metric(key, max(high - offset.offset, 0))
        yield from (by_state, members, committed, lag)


def metrics_registry(broker: Broker, requests: RequestStats) -> CollectorRegistry:
    """The broker's metrics, and the process's own (memory, CPU, open files) that Prometheus users expect."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BrokerCollector(broker, requests))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def metrics_route(registry: CollectorRegistry) -> Handler:
    """The `/metrics` route: the registry in Prometheus' text format."""

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics
