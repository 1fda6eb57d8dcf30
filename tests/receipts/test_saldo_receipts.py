"""The receipt of an order whose money went back to saldo says so, and is the only one sent."""
from __future__ import annotations

from conftest import make_app, order_ref, work
from fakes.smtp import FakeSmtp
from shoppers import buy_with_saldo, new_customer, paid_deposit, signed_in


def test_a_failed_saldo_order_gets_one_email_saying_the_money_is_in_the_saldo(tmp_path):
    smtp = FakeSmtp().start()
    try:
        app = make_app(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
                       SMTP_SECURITY="none", SMTP_FROM="Shop <receipts@shop.test>")
        client = signed_in(app, new_customer(app))
        paid_deposit(client, "20.000")
        ref = order_ref(buy_with_saldo(client, app, username="mail_fail"))
        work(app, passes=3)
        [received] = smtp.wait_for(1)
        work(app, passes=2)
        assert len(smtp.received) == 1      # no "delayed" receipt before the refund's
        body = received.message.get_body(("plain",)).get_content().replace("\xa0", " ")
        assert ref in body
        assert "We returned Rp 15.000 to your saldo. You can spend it right away." in body
    finally:
        smtp.stop()
