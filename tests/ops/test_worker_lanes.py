"""Deliveries never wait behind receipts: a mail server that accepts and never answers holds
the receipts' lane, while paid orders are delivered as fast as ever."""
from __future__ import annotations

import contextlib
import socket
import threading
import time

from conftest import buy, get_order, make_app, order_ref, sandbox_pay

from merchant.ops import worker

SMTP_TIMEOUT = 6        # each receipt hangs this long before giving up
FAST = 2.0              # seconds from paid to delivered, with room for a busy test machine


@contextlib.contextmanager
def hanging_mail_server():
    """A TCP server on 127.0.0.1 that accepts every connection and never says a word. Yields
    (port, the list of accepted connections)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept():
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        done.set()
        thread.join(5)
        listener.close()
        for connection in accepted:
            connection.close()


def paid_to_delivered(client, app) -> float:
    ref = order_ref(buy(client, app, email="buyer@example.com"))
    started = time.monotonic()
    assert sandbox_pay(client, app, ref).status_code in (200, 303)
    while get_order(app, ref).status != "delivered":
        assert time.monotonic() - started < 30, get_order(app, ref).status
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_hanging_mail_server_does_not_delay_deliveries(tmp_path):
    with hanging_mail_server() as (port, accepted):
        app = make_app(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none",
                       SMTP_FROM="Shop <receipts@shop.test>", SMTP_TIMEOUT=SMTP_TIMEOUT)
        client = app.test_client()
        thread, stop = worker.start_thread(app)
        try:
            times = [paid_to_delivered(client, app) for _ in range(3)]
            assert accepted, "the receipts never reached the mail server"
        finally:
            stop.set()
    thread.join(SMTP_TIMEOUT + 10)
    assert not thread.is_alive()
    # Each delivery came while an earlier order's receipt hung on the mail server.
    assert max(times) < FAST, times
