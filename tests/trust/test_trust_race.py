"""Ten taps at once over real HTTP: one review per order and one open report per order, held
by the database's unique constraints (SQLite file or PostgreSQL, whichever the suite runs on)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from conftest import delivered_order, get_order
from werkzeug.serving import make_server

from merchant.core.extensions import db
from merchant.core.models import Claim, Review

TAPS = 10


@pytest.fixture
def shop_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


def taps(url: str, forms: list[dict]) -> list[int]:
    barrier = threading.Barrier(len(forms))

    def tap(form: dict) -> int:
        with requests.Session() as session:
            barrier.wait()
            return session.post(url, data=form, allow_redirects=False, timeout=60).status_code

    with ThreadPoolExecutor(len(forms)) as pool:
        return list(pool.map(tap, forms))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_ten_reviews_at_once_store_one(app, client, shop_url):
    ref = delivered_order(client, app)
    token = get_order(app, ref).view_token
    answers = taps(f"{shop_url}/o/{ref}/review",
                   [{"t": token, "rating": str(1 + n % 5), "comment": f"tap {n}"}
                    for n in range(TAPS)])
    assert sorted(answers) == [303] + [422] * (TAPS - 1)
    assert count(app, Review) == 1


def test_ten_reports_at_once_open_one(app, client, shop_url):
    ref = delivered_order(client, app)
    token = get_order(app, ref).view_token
    answers = taps(f"{shop_url}/o/{ref}/claim",
                   [{"t": token, "kind": "other", "message": f"tap {n}"} for n in range(TAPS)])
    assert sorted(answers) == [303] + [422] * (TAPS - 1)
    assert count(app, Claim) == 1
