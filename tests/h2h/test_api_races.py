"""The same ref_id sent by many connections at once is one order, one debit."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa
from resellers import headers, make_reseller, ml_order

from merchant.core.extensions import db
from merchant.core.models import ApiOrder, Order
from merchant.customers import ledger
from tests.conftest import served


def test_one_ref_id_sent_at_once_by_ten_connections_is_one_order(app, client):
    dewi = make_reseller(app, saldo=100_000)
    body = json.dumps(ml_order(client, dewi, ref_id="SAME-1")).encode()
    with served(app) as url:
        def send(_):
            sent = headers(dewi, "POST", "/api/v1/orders", body)
            answer = requests.post(f"{url}/api/v1/orders", data=body, timeout=30,
                                   headers=sent | {"Content-Type": "application/json"})
            return answer.status_code, answer.json()
        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(send, range(10)))
    assert sorted(status for status, _ in answers).count(201) == 1
    assert {status for status, _ in answers} <= {200, 201}
    assert len({body["order"]["order_id"] for _, body in answers}) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiOrder)) == 1
        assert ledger.balance(dewi.customer_id, "IDR").amount == 100_000 - 22_000
        assert ledger.ledger_sum() == 0
