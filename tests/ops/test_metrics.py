"""/metrics: the shop's figures in Prometheus text format, for whoever holds the token."""
from __future__ import annotations

import pytest
from conftest import buy, failed_order, get_order, make_app, order_ref, sandbox_pay, work
from prometheus_client.parser import text_string_to_metric_families

from merchant.vendors.payments.sandbox import SandboxGateway

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, METRICS_TOKEN=TOKEN)


def scrape(client) -> dict:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def samples(family, name=None) -> dict:
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples
            if name is None or s.name == name}


def test_without_a_token_configured_there_is_no_metrics_page(tmp_path):
    assert make_app(tmp_path).test_client().get("/metrics").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer é"])
def test_the_wrong_token_or_none_is_refused(client, header):
    response = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "merchant_orders" not in response.text


def test_orders_by_status_latency_and_webhook_outcomes(client, app, clock):
    before = scrape(client)
    assert samples(before["merchant_orders"])[(("status", "delivered"),)] == 0
    assert samples(before["merchant_delivery_seconds"], "merchant_delivery_seconds_count") == \
        {(): 0}

    quick, slow = (order_ref(buy(client, app)) for _ in range(2))
    sandbox_pay(client, app, quick)
    clock.advance(3)
    work(app)                                 # delivered 3 s after it was paid
    sandbox_pay(client, app, slow)
    clock.advance(40)
    work(app)                                 # 40 s
    failed_order(client, app)
    order_ref(buy(client, app))               # still awaiting payment
    order = get_order(app, quick)             # a second, distinct "paid" callback: ignored
    body, headers = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": app.config[
        "SANDBOX_WEBHOOK_SECRET"]}).callback(quick, order.gateway_ref, "paid", order.total,
                                             order.currency)
    assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200

    figures = scrape(client)
    by_status = samples(figures["merchant_orders"])
    assert by_status[(("status", "delivered"),)] == 2
    assert by_status[(("status", "fulfillment_failed"),)] == 1
    assert by_status[(("status", "awaiting_payment"),)] == 1
    assert by_status[(("status", "refunded"),)] == 0

    latency = figures["merchant_delivery_seconds"]
    buckets = {dict(s.labels)["le"]: s.value for s in latency.samples
               if s.name == "merchant_delivery_seconds_bucket"}
    assert (buckets["2.0"], buckets["5.0"], buckets["30.0"], buckets["60.0"]) == (0, 1, 1, 2)
    assert buckets["+Inf"] == 2
    assert samples(latency, "merchant_delivery_seconds_sum")[()] == pytest.approx(43, abs=0.01)

    webhooks = samples(figures["merchant_webhooks"], "merchant_webhooks_total")
    assert webhooks[(("outcome", "paid"), ("provider", "sandbox"))] == 3
    assert webhooks[(("outcome", "paid ignored"), ("provider", "sandbox"))] == 1
