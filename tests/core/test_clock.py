"""The domain clock: a test moves it, and the shop's deadlines follow without anyone waiting."""
from __future__ import annotations

import datetime as dt

import pytest
from conftest import buy, get_order, history, order_ref, work

from merchant.core import clock as domain_clock
from merchant.core.models import utcnow


def test_a_fake_clock_stands_still_until_advanced_and_is_put_back_after():
    real = domain_clock.now()
    fake = domain_clock.FakeClock(dt.datetime(2030, 1, 2, 3, 4, 5))
    with domain_clock.installed(fake):
        assert utcnow() == domain_clock.now() == dt.datetime(2030, 1, 2, 3, 4, 5)
        started = domain_clock.monotonic()
        fake.advance(90)
        assert utcnow() == dt.datetime(2030, 1, 2, 3, 5, 35)
        assert domain_clock.monotonic() - started == pytest.approx(90)
        assert domain_clock.timestamp() == dt.datetime(2030, 1, 2, 3, 5, 35,
                                                       tzinfo=dt.UTC).timestamp()
    assert abs(domain_clock.now() - real) < dt.timedelta(minutes=1)


def test_the_system_clock_is_naive_utc():
    now = domain_clock.now()
    assert now.tzinfo is None
    assert abs(now - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(seconds=5)


def test_an_unpaid_order_expires_when_the_clock_passes_its_deadline(client, app, clock):
    ref = order_ref(buy(client, app))
    order = get_order(app, ref)
    assert order.created_at == clock.now()
    assert order.payment_expires_at == clock.now() + dt.timedelta(minutes=30)
    clock.advance(29 * 60)       # quiet for a while: asked about, still payable
    work(app)
    assert get_order(app, ref).status == "awaiting_payment"
    clock.advance(61)
    work(app)
    assert get_order(app, ref).status == "expired"
    assert history(app, ref)[-1][3] == "Payment window closed without payment"
