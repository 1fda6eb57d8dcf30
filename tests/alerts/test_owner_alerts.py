"""Owner alerts against a fake Telegram Bot API: one message per episode, the daily summary once
a day (also with two workers), retries that honour Telegram's retry_after, and an alert that
never holds up a delivery."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from conftest import bare_app, buy, failed_order, get_order, make_app, order_ref, sandbox_pay, work
from fakes.telegram import TOKEN, FakeTelegram

from merchant.alerts import (
    DEPOSIT_LOW,
    PACKAGE_UNAVAILABLE,
    clear_alert,
    daily,
    preferences,
    raise_alert,
    spikes,
)
from merchant.core.extensions import db
from merchant.core.models import AlertMessage, AlertSettings, WorkerBeat

CHAT = 5550001


@pytest.fixture
def telegram(vendor_server):
    return FakeTelegram(vendor_server)


def alert_config(telegram: FakeTelegram) -> dict:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": telegram.api_url,
            "TELEGRAM_TIMEOUT": 5, "ALERT_CHECK_SECONDS": 0}


@pytest.fixture
def app(tmp_path, telegram):
    return make_app(tmp_path, **alert_config(telegram))


def link_chat(app, chat_id: int = CHAT, **values) -> None:
    """As if the owner had linked Telegram (test_alert_linking.py walks the real way)."""
    with app.app_context():
        row = preferences.row_for_update()
        row.telegram_chat_id, row.telegram_name = chat_id, "@toko_owner"
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


def messages(app) -> list[AlertMessage]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(AlertMessage).order_by(AlertMessage.id)))
        db.session.expunge_all()
        return rows


def in_app(app, call, *args, **kwargs):
    with app.app_context():
        return call(*args, **kwargs)


def deposit_low(app, balance=50_000):
    return in_app(app, raise_alert, DEPOSIT_LOW, "digiflazz", supplier="digiflazz",
                  balance=balance, pending_cost=120_000, threshold=None)


def test_one_deposit_low_message_per_episode(app, telegram, clock):
    link_chat(app)
    assert deposit_low(app) is True
    assert deposit_low(app) is False            # still low: the episode is open
    work(app)
    work(app)
    assert len(telegram.sent) == 1
    text = telegram.sent[0].text
    assert telegram.sent[0].chat_id == CHAT
    assert "Deposit at digiflazz cannot cover the paid orders waiting" in text
    assert "Rp 50.000 left, Rp 120.000 needed" in text
    assert "http://shop.test/admin/dashboard" in text

    assert in_app(app, clear_alert, DEPOSIT_LOW, "digiflazz", balance=900_000) is True
    assert in_app(app, clear_alert, DEPOSIT_LOW, "digiflazz", balance=900_000) is False
    work(app)
    assert telegram.texts()[1].startswith("Deposit at digiflazz is enough again: Rp 900.000.")

    assert deposit_low(app, balance=10_000) is True   # a new episode: told again, once
    assert deposit_low(app) is False
    work(app)
    assert len(telegram.sent) == 3
    assert "Rp 10.000 left" in telegram.texts()[2]


def test_messages_are_in_the_shops_language(tmp_path, telegram, clock):
    app = make_app(tmp_path, DEFAULT_LOCALE="id", **alert_config(telegram))
    link_chat(app)
    in_app(app, raise_alert, PACKAGE_UNAVAILABLE, "7", package_id=7, product="Mobile Legends",
           package="86 Diamonds", reason="stok habis")
    work(app)
    text = telegram.texts()[0]
    assert "Mobile Legends 86 Diamonds" in text
    assert "http://shop.test/admin/catalog/packages/7/edit" in text
    assert "unavailable" not in text           # Bahasa Indonesia, not English


def test_deposit_low_from_the_balance_watch(tmp_path, vendor_server, telegram, clock):
    from fakes.digiflazz import FakeDigiflazz

    from merchant.supply import deposits
    fake = FakeDigiflazz(vendor_server, deposit=40_000)
    app = make_app(tmp_path, **alert_config(telegram), **fake.settings())
    link_chat(app, deposit_threshold=100_000)
    in_app(app, deposits.check, "digiflazz")
    in_app(app, deposits.check, "digiflazz")         # still low: no second alert
    work(app)
    assert len(telegram.sent) == 1
    assert "Deposit at digiflazz is low: Rp 40.000 left (your alert is at Rp 100.000)" \
        in telegram.texts()[0]
    fake.deposit = 250_000
    in_app(app, deposits.check, "digiflazz")
    work(app)
    assert telegram.texts()[1].startswith("Deposit at digiflazz is enough again: Rp 250.000.")


def test_telegram_429_is_honoured(app, telegram, clock):
    link_chat(app)
    telegram.script = [("429", 7)]
    deposit_low(app)
    work(app)
    assert telegram.sent == [] and telegram.calls.count("sendMessage") == 1
    [message] = messages(app)
    assert message.state == "pending" and "429" in message.error
    clock.advance(5)
    work(app)
    assert telegram.calls.count("sendMessage") == 1     # not before retry_after
    clock.advance(3)
    work(app)
    assert len(telegram.sent) == 1 and messages(app)[0].state == "sent"


def test_a_blocked_bot_gives_up_at_once(app, telegram, clock):
    link_chat(app)
    telegram.script = ["403"]
    deposit_low(app)
    work(app)
    clock.advance(7200)
    work(app)
    [message] = messages(app)
    assert message.state == "failed" and "blocked" in message.error
    assert telegram.calls.count("sendMessage") == 1


def test_a_lost_answer_is_sent_once_more_then_left_in_doubt(app, telegram, clock):
    link_chat(app)
    telegram.script = ["drop", "drop"]
    deposit_low(app)
    work(app, passes=3)
    clock.advance(7200)
    work(app)
    assert len(telegram.sent) == 2                 # one resend after a lost answer, no more
    [message] = messages(app)
    assert message.state == "in_doubt" and message.lost_answers == 2


def test_two_processes_raising_at_once_open_one_episode(app, tmp_path, telegram, clock):
    link_chat(app)
    other = bare_app(tmp_path, **alert_config(telegram))
    start = threading.Barrier(2)
    opened = []

    def raise_in(one):
        start.wait()
        opened.append(deposit_low(one))
    threads = [threading.Thread(target=raise_in, args=(a,)) for a in (app, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(opened) == [False, True]
    work(app)
    work(other)
    assert len(telegram.sent) == 1


def test_telegram_down_never_blocks_a_delivery(app, client, telegram, clock):
    link_chat(app)
    telegram.down = True
    deposit_low(app)
    ref = order_ref(buy(client, app, username="happy_gamer"))
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "delivered"
    [message] = messages(app)
    assert message.state == "pending" and telegram.sent == []
    telegram.down = False
    clock.advance(app.config["ALERT_RETRY_BASE_SECONDS"])
    work(app)
    assert len(telegram.sent) == 1 and messages(app)[0].state == "sent"


def test_a_delivery_failed_for_good_is_told_once(app, client, telegram, clock):
    link_chat(app)
    ref = failed_order(client, app)
    work(app)
    work(app)
    [text] = [t for t in telegram.texts() if ref in t]
    assert f"Order {ref}" in text and "failed for good at sandbox" in text
    assert f"http://shop.test/admin/orders/{ref}" in text


def test_a_spike_of_supplier_failures_is_one_alert_until_it_calms(app, telegram, clock):
    link_chat(app, spike_failures=3, spike_minutes=10)
    for n in range(5):
        in_app(app, spikes.failed, "digiflazz", f"ORDER{n}#0", final=n % 2 == 0)
    in_app(app, spikes.failed, "digiflazz", "ORDER4#0", final=True)    # the same one again
    work(app)
    spike = [t for t in telegram.texts() if "failed attempts" in t]
    assert spike == [spike[0]] and spike[0].startswith(
        "3 failed attempts at digiflazz in the last 10 minutes.")      # told when it tipped
    clock.advance(11 * 60)
    work(app)
    assert telegram.texts()[-1].startswith("Failures at digiflazz are back to normal.")


def test_failed_deliveries_feed_the_spike(app, client, telegram, clock):
    link_chat(app, spike_failures=2, spike_minutes=10)
    failed_order(client, app, username="first_fail")
    failed_order(client, app, username="second_fail")
    work(app)
    assert sum("failed attempts at sandbox" in t for t in telegram.texts()) == 1


def summary_setup(app, hour=21) -> None:
    link_chat(app, summary_hour=hour)


def at_local(clock, hour: int, minute: int = 0, day: dt.date = dt.date(2026, 12, 7)) -> None:
    """Move the fake clock forward to `hour`:`minute` Jakarta time (UTC+7) on `day`."""
    target = dt.datetime.combine(day, dt.time(hour, minute)) - dt.timedelta(hours=7)
    clock.advance((target - clock.now()).total_seconds())


@pytest.fixture
def early_clock(clock):
    """The fake clock put back to 2026-12-07 06:00 Jakarta, before any summary hour."""
    clock._now = dt.datetime(2026, 12, 6, 23, 0)
    return clock


def test_the_daily_summary_once_a_day(app, client, telegram, early_clock):
    clock = early_clock
    summary_setup(app)
    ref = order_ref(buy(client, app, username="happy_gamer"))
    sandbox_pay(client, app, ref)
    work(app)                                        # delivered at 06:00; before 21.00
    assert not [t for t in telegram.texts() if t.startswith("Summary")]
    at_local(clock, 21, 0)
    work(app)
    work(app)
    [summary] = [t for t in telegram.texts() if t.startswith("Summary")]
    assert "Summary of Monday, 7 December 2026" in summary
    assert "Orders paid: 1" in summary and "Delivered: 1" in summary
    assert "Revenue: Rp" in summary and "Margin: Rp" in summary
    assert "Failed deliveries: 0" in summary
    at_local(clock, 23, 59)
    work(app)
    at_local(clock, 20, 59, day=dt.date(2026, 12, 8))
    work(app)
    assert sum(t.startswith("Summary") for t in telegram.texts()) == 1
    at_local(clock, 21, 1, day=dt.date(2026, 12, 8))
    work(app)
    summaries = [t for t in telegram.texts() if t.startswith("Summary")]
    assert len(summaries) == 2 and "Orders paid: 0" in summaries[1]


def test_the_daily_summary_once_with_two_workers(app, tmp_path, telegram, early_clock):
    summary_setup(app)
    other = bare_app(tmp_path, **alert_config(telegram))     # a second process, same database
    at_local(early_clock, 21, 5)
    start = threading.Barrier(2)

    def worker(one):
        start.wait()
        work(one, passes=3)
    threads = [threading.Thread(target=worker, args=(a,)) for a in (app, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(t.startswith("Summary") for t in telegram.texts()) == 1
    with app.app_context():
        assert db.session.get(AlertSettings, 1).summary_day == dt.date(2026, 12, 7)
        # The claim: a later attempt for the same day finds no row to move.
        assert daily.send(dt.date(2026, 12, 7), orders=9) is False


def test_the_stopped_worker_is_noticed_by_the_cron_check(app, telegram, clock):
    from merchant.ops import owner_alerts
    link_chat(app)
    with app.app_context():
        db.session.add(WorkerBeat(name="host:1", beat_at=clock.now()))
        db.session.commit()
    clock.advance(app.config["ALERT_WORKER_STOPPED_SECONDS"] + 60)
    result = app.test_cli_runner().invoke(args=["alerts", "check"])
    assert result.exit_code == 0, result.output
    [text] = telegram.texts()                     # sent by the command: no worker runs
    assert text.startswith("The worker has not run for 6 minutes")
    with app.app_context():
        db.session.get(WorkerBeat, "host:1").beat_at = clock.now()
        db.session.commit()
        owner_alerts.check_and_send()
    assert telegram.texts()[1].startswith("The worker runs again")
