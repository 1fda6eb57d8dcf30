"""Many deliveries of one payment, racing two workers: one supplier call, one delivery."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from conftest import buy, get_order, history, order_ref, work
from werkzeug.serving import make_server

from merchant.ops import worker
from merchant.vendors.payments.sandbox import SandboxGateway
from merchant.vendors.suppliers import sandbox as sandbox_supplier


def test_twenty_concurrent_paid_callbacks_and_two_workers_deliver_once(client, app):
    ref = order_ref(buy(client, app))
    order = get_order(app, ref)
    gateway = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": app.config["SANDBOX_WEBHOOK_SECRET"]})
    # Ten replays of one delivery and ten distinct deliveries of the same payment.
    same = gateway.callback(ref, order.gateway_ref, "paid", order.total, order.currency)
    callbacks = [same] * 10 + [
        gateway.callback(ref, order.gateway_ref, "paid", order.total, order.currency)
        for _ in range(10)]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/webhooks/sandbox"
    stop = threading.Event()
    workers = [threading.Thread(target=worker.run, args=(app, stop, f"w{i}")) for i in range(2)]
    for thread in workers:
        thread.start()
    try:
        barrier = threading.Barrier(len(callbacks))

        def deliver(callback):
            body, headers = callback
            barrier.wait()
            return requests.post(url, data=body, headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(len(callbacks)) as pool:
            codes = list(pool.map(deliver, callbacks))
    finally:
        stop.set()
        for thread in workers:
            thread.join(10)
        server.shutdown()
    work(app)     # a last pass, for an order neither racing worker had claimed yet

    assert codes == [200] * 20
    assert get_order(app, ref).status == "delivered"
    assert sandbox_supplier.LEDGER.purchases[ref] == 1
    moves = [to for _, to, *_ in history(app, ref) if to]
    assert moves == ["awaiting_payment", "paid", "fulfilling", "delivered"]
