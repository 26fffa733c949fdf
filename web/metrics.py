"""/metrics: the platform's own state in Prometheus text — which policy and catalog are
in force, and how their reloads fare; how many requests the rate limits refused, and
whether they are counted in Redis; how each department's source answers (read times,
failures by kind, retries, its circuit); how the /graphql requests ended, by outcome and
error code, and the decisions made for their fields; how long audit records wait for
their commit, and how many a commit takes — for the operators' monitoring (Art. 13).

Read from the policy source and the throttle at every scrape, so there is no second
copy of their state to keep in step. Never a data value nor who asked: versions are
digests, the rest counts and times, refusals are counted by the limit that refused
them, never by caller or address, a source's reads by source name only, requests and
decisions by closed sets of outcomes and codes only (`web.traffic`).
Served like /readyz, without a key: it is for the monitoring inside the network, and
tells nothing a caller could use to reach data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from audit.stats import AuditStats
from connectors import GuardedConnector
from errors import SourceFailure
from freshness import FreshnessWatch
from platform_setup import Platform
from policies import Outcome
from throttle import Counting, Limit, Throttle
from web.exchange import STRUCTURE
from web.traffic import Traffic


async def metrics(request: Request) -> Response:
    platform: Platform = request.app.state.platform
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_PolicyCollector(platform))
    registry.register(_ThrottleCollector(request.app.state.throttle))
    registry.register(_FreshnessCollector(platform.freshness))
    registry.register(_SourceCollector(platform.sources))
    registry.register(_TrafficCollector(request.app.state.traffic))
    registry.register(_AuditCollector(platform.audit.stats))
    ProcessCollector(registry=registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _PolicyCollector(Collector):
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def collect(self) -> Iterator[Metric]:
        source = self.platform.policy_source
        in_force = source.current
        yield InfoMetricFamily(
            "gov_share_policy_version",
            "The policy and catalog versions in force (digests).",
            value={"policy_version": in_force.version, "catalog_version": in_force.catalog.version},
        )
        yield GaugeMetricFamily(
            "gov_share_policy_reload_ok",
            "1 while the rule files, catalog and grants in force are the current ones; 0 while "
            "a reload fails and the last good policy stays in force (see /readyz).",
            value=0 if source.problem else 1,
        )
        yield CounterMetricFamily(
            "gov_share_policy_reload_failures",
            "Reloads of the rule files, catalog or grants that failed.",
            value=source.failures,
        )
        yield GaugeMetricFamily(
            "gov_share_policy_last_reload_success_timestamp_seconds",
            "When a reload last succeeded: the policy in force was current then.",
            value=source.succeeded_at,
        )
        yield GaugeMetricFamily(
            "gov_share_policy_in_force_since_timestamp_seconds",
            "When the policy and catalog in force were put in force.",
            value=in_force.since.timestamp(),
        )
        announcements = self.platform.announcements
        if announcements is not None:
            yield GaugeMetricFamily(
                "gov_share_policy_announcements_up",
                "1 while this server hears grant changes announced on Redis; 0 while it "
                "follows them by polling only.",
                value=1 if announcements.listening else 0,
            )


class _ThrottleCollector(Collector):
    def __init__(self, throttle: Throttle) -> None:
        self.throttle = throttle

    def collect(self) -> Iterator[Metric]:
        refused = CounterMetricFamily(
            "gov_share_rate_limited_requests",
            "Requests refused RATE_LIMITED, by the limit that refused them: a system's rate, "
            "its department's, or a client address's failed authentications.",
            labels=["limit"],
        )
        for limit in Limit:
            refused.add_metric([limit.value], self.throttle.refusals[limit])
        yield refused
        counting = self.throttle.counting
        if counting is not Counting.LOCAL:
            yield GaugeMetricFamily(
                "gov_share_rate_limits_shared",
                "1 while rate limits are counted in Redis, one budget for every server; 0 "
                "while Redis does not answer and this server counts alone (see /readyz).",
                value=1 if counting is Counting.SHARED else 0,
            )


class _FreshnessCollector(Collector):
    """By resource id (catalog metadata, never a value): the age of its last update as the
    last background check found it, and whether that is older than its cycle allows."""

    def __init__(self, watch: FreshnessWatch) -> None:
        self.watch = watch

    def collect(self) -> Iterator[Metric]:
        age = GaugeMetricFamily(
            "gov_share_resource_last_update_age_seconds",
            "How long before the last freshness check the resource was last updated, as its "
            "source tells it; absent while unknown.",
            labels=["resource"],
        )
        stale = GaugeMetricFamily(
            "gov_share_resource_stale",
            "1 while the resource's last update is older than its declared update cycle "
            "allows (Art. 10).",
            labels=["resource"],
        )
        for resource, found in sorted(self.watch.current.items()):
            if found.age_seconds is not None:
                age.add_metric([resource], found.age_seconds)
            stale.add_metric([resource], 1 if found.stale else 0)
        yield age
        yield stale


class _SourceCollector(Collector):
    def __init__(self, sources: Mapping[str, GuardedConnector]) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        latency = HistogramMetricFamily(
            "gov_share_source_read_seconds",
            "How long reads of a source took, retries included, whether they answered "
            "or failed (reads its open circuit refused are not timed).",
            labels=["source"],
        )
        failures = CounterMetricFamily(
            "gov_share_source_failures",
            "Reads of a source that answered SOURCE_UNAVAILABLE, by how they failed: "
            "timeout, transient (lost connection, busy gateway; after its retries), error "
            "(the source refused or failed the read), circuit_open (failed fast, not asked).",
            labels=["source", "failure"],
        )
        calls = CounterMetricFamily(
            "gov_share_source_calls",
            "Calls made to a source: reads and their retries.",
            labels=["source"],
        )
        retries = CounterMetricFamily(
            "gov_share_source_retries",
            "Reads of a source tried again after a transient failure, within its budget.",
            labels=["source"],
        )
        circuit = GaugeMetricFamily(
            "gov_share_source_circuit_state",
            "A source's circuit: 0 closed (read), 1 half-open (one probe read), 2 open (its "
            "reads fail fast, the source is not asked).",
            labels=["source"],
        )
        for name, source in sorted(self.sources.items()):
            stats = source.stats
            latency.add_metric([name], list(stats.latency.buckets()), stats.latency.sum)
            for failure in SourceFailure:
                failures.add_metric([name, failure.value], stats.failures[failure])
            calls.add_metric([name], stats.calls)
            retries.add_metric([name], stats.retries)
            circuit.add_metric([name], source.circuit.state.value)
        yield from (latency, failures, calls, retries, circuit)


class _TrafficCollector(Collector):
    def __init__(self, traffic: Traffic) -> None:
        self.traffic = traffic

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "gov_share_requests",
            "/graphql requests answered, by how they ended: served, partial, failed, "
            "invalid, or the refusal (unauthenticated, rate_limited, audit_unavailable, ...).",
            labels=["outcome"],
        )
        for outcome, count in sorted(self.traffic.requests.items()):
            requests.add_metric([outcome], count)
        errors = CounterMetricFamily(
            "gov_share_request_errors",
            "/graphql requests by how they ended and an error code they carried "
            "(extensions.code), each code once per request.",
            labels=["outcome", "code"],
        )
        for (outcome, code), count in sorted(self.traffic.errors.items()):
            errors.add_metric([outcome, code], count)
        decisions = CounterMetricFamily(
            "gov_share_field_decisions",
            "Fields selected by the requests answered, by what was decided for each: clear, "
            f"masked, verified, denied; {STRUCTURE} for a field nothing decides.",
            labels=["decision"],
        )
        for decision in (*Outcome, None):
            label = decision.value if decision is not None else STRUCTURE
            decisions.add_metric([label], self.traffic.decisions[decision])
        yield from (requests, errors, decisions)


class _AuditCollector(Collector):
    def __init__(self, stats: AuditStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        lag = HistogramMetricFamily(
            "gov_share_audit_write_lag_seconds",
            "From an audit record's making to its commit: how long its caller waits for "
            "the audit log.",
        )
        lag.add_metric([], list(self.stats.lag.buckets()), self.stats.lag.sum)
        batches = HistogramMetricFamily(
            "gov_share_audit_batch_records",
            "Audit records committed together, in one transaction.",
        )
        batches.add_metric([], list(self.stats.batches.buckets()), self.stats.batches.sum)
        yield from (lag, batches)
