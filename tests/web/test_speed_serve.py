"""`make run` serves the shop with the production server (waitress), the worker inside."""
from __future__ import annotations

import contextlib
import http.client
import sys
import threading

import processes
import pytest
import requests
from conftest import buy, make_app, order_ref, sandbox_pay

from merchant.web.edge import server


@pytest.mark.process
def test_serve_runs_the_production_server_with_the_worker(tmp_path):
    app = make_app(tmp_path)
    port = processes.free_port()
    server = processes.Process([sys.executable, "-m", "flask", "--app", "merchant", "serve"],
                               dict(processes.environment(app, LOG_FORMAT="text"),
                                    PORT=str(port)), tmp_path / "serve.log")
    try:
        processes.eventually(lambda: "Serving on http" in server.output(), 60,
                             "waitress has bound")
        catalog = requests.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert catalog.status_code == 200
        assert "Mobile Legends" in catalog.text
        assert catalog.headers["Server"] == "merchant"      # waitress, not Werkzeug
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
        assert health.json()["database"] == "ok"
    finally:
        server.stop()
    output = server.output()
    assert "/admin/setup/" in output              # the one-time owner link
    assert "development server" not in output.lower()
    assert "Werkzeug" not in output


def test_the_status_poll_through_the_production_server(app, client):
    """Unchanged: an empty answer, poll after poll on one kept connection (a 204 would make
    waitress close it each time, merchant/web/edge/server.py); changed: the new block."""
    ref = order_ref(buy(client, app))
    cookie = f"session={client.get_cookie('session').value}"
    served = server.server(app, "127.0.0.1", 0, threads=2)

    def serve():
        with contextlib.suppress(OSError):     # its sockets closed under it on the way out
            served.run()

    thread = threading.Thread(target=serve)
    thread.start()
    connection = http.client.HTTPConnection("127.0.0.1", served.effective_port, timeout=30)
    url = f"/o/{ref}/status?since=awaiting_payment"
    headers = {"Cookie": cookie, "HX-Request": "true"}
    try:
        answers, sockets = [], set()
        for _ in range(3):
            connection.request("GET", url, headers=headers)
            sockets.add(connection.sock)          # http.client reconnects after a close
            answer = connection.getresponse()
            answers.append((answer.status, answer.read(), answer.getheader("HX-Reswap"),
                            answer.getheader("Server")))
        assert answers == [(200, b"", "none", "merchant")] * 3
        assert len(sockets) == 1 and connection.sock is not None
        sandbox_pay(client, app, ref)
        connection.request("GET", url, headers=headers)
        changed = connection.getresponse()
        assert changed.status == 200 and b"Payment received" in changed.read()
    finally:
        connection.close()
        served.close()
        thread.join(10)
