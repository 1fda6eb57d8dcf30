"""/metrics in Prometheus text format, read from the database at each scrape.

The figures come from the tables every process writes (orders, webhook_events, worker_beats),
not from in-process counters, so any web process answers for the whole shop: the workers and
the other web processes included. A few aggregate queries per scrape:
- merchant_orders{status}: orders by status (one GROUP BY);
- merchant_delivery_seconds: histogram of paid -> delivered over every delivered order;
- merchant_webhooks_total{provider,outcome}: callbacks accepted, by what they did;
- merchant_worker_heartbeat_age_seconds: since the freshest worker heartbeat.
"""
from __future__ import annotations

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from merchant import orders
from merchant.core.extensions import db
from merchant.core.models import Order, WebhookEvent
from merchant.ops import worker

# Seconds from payment to delivery: the sandbox and most suppliers answer within seconds, a
# pending supplier within minutes, a manual delivery within hours.
LATENCY_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)


class ShopCollector:
    def collect(self):
        yield self._orders()
        yield self._latency()
        yield self._webhooks()
        age = worker.last_beat()
        if age is not None:
            yield GaugeMetricFamily("merchant_worker_heartbeat_age_seconds",
                                    "Seconds since the freshest worker heartbeat.", value=age)

    def _orders(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily("merchant_orders", "Orders by status.", labels=["status"])
        counts = dict.fromkeys(orders.LABELS, 0)
        counts.update(db.session.execute(
            sa.select(Order.status, sa.func.count()).group_by(Order.status)).tuples().all())
        for status, count in sorted(counts.items()):
            family.add_metric([status], count)
        return family

    def _latency(self) -> HistogramMetricFamily:
        seconds = _seconds_between(Order.paid_at, Order.delivered_at)
        delivered = sa.and_(Order.paid_at.is_not(None), Order.delivered_at.is_not(None))
        row = db.session.execute(sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(seconds), 0),
            *[sa.func.coalesce(sa.func.sum(sa.case((seconds <= le, 1), else_=0)), 0)
              for le in LATENCY_BUCKETS],
        ).where(delivered)).one()
        count, total, *cumulative = row
        buckets = [(str(float(le)), int(n)) for le, n in zip(LATENCY_BUCKETS, cumulative,
                                                                strict=True)]
        return HistogramMetricFamily(
            "merchant_delivery_seconds", "Seconds from payment to delivery, delivered orders.",
            buckets=[*buckets, ("+Inf", int(count))], sum_value=float(total))

    def _webhooks(self) -> CounterMetricFamily:
        family = CounterMetricFamily("merchant_webhooks", "Callbacks accepted (signed, not "
                                     "replays), by provider and what they did.",
                                     labels=["provider", "outcome"])
        for provider, outcome, count in db.session.execute(
                sa.select(WebhookEvent.provider, WebhookEvent.outcome, sa.func.count())
                .group_by(WebhookEvent.provider, WebhookEvent.outcome)):
            family.add_metric([provider, outcome_kind(outcome)], count)
        return family


def outcome_kind(outcome: str) -> str:
    """"paid ignored: order is delivered" -> "paid ignored": few label values, whatever the
    order's status was."""
    return (outcome or "none").partition(":")[0].strip()


def _seconds_between(start, end):
    if db.engine.dialect.name == "postgresql":
        return sa.func.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ShopCollector())
    return generate_latest(registry)
