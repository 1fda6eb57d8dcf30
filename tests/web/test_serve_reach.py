"""`make run` on a VPS the owner reaches from a phone: HOST=0.0.0.0 listens on every address,
and the setup link it prints is on MERCHANT_PUBLIC_URL when that is set."""
from __future__ import annotations

import re
import socket
import sys

import pytest
import requests
from conftest import create_admin

from merchant import cli
from tests import processes


def this_machines_address() -> str:
    """An address of this machine other than loopback (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            pytest.skip("this machine has no address besides loopback")
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("this machine has no address besides loopback")
    return address


def serve(app, tmp_path, **env) -> tuple[processes.Process, int]:
    port = processes.free_port()
    environment = processes.environment(app)
    environment.update(env)
    server = processes.Process([sys.executable, "-m", "flask", "--app", "merchant", "serve",
                                "--port", str(port)], environment, tmp_path / "serve.log")
    processes.eventually(lambda: "/admin/setup/" in server.output(), 30, "the setup link")
    return server, port


@pytest.mark.process
def test_host_0_0_0_0_serves_other_addresses_and_the_link_is_on_the_public_url(app, tmp_path):
    address = this_machines_address()
    server, port = serve(app, tmp_path, HOST="0.0.0.0")      # PUBLIC_URL is http://shop.test
    try:
        processes.eventually(lambda: processes.answers(port, address), 30,
                             "an answer on that address")
        printed = server.output()
        assert f"on http://0.0.0.0:{port}" in printed
        path = re.search(r"http://shop\.test(/admin/setup/\S+)", printed).group(1)
        from_phone = requests.get(f"http://{address}:{port}{path}", timeout=10)
        assert from_phone.status_code == 200 and 'name="password"' in from_phone.text
    finally:
        server.stop()


def test_without_a_public_url_the_link_says_which_address_to_use(app, capsys):
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"      # the default: not set
    with app.app_context():
        assert cli._print_setup_link(cli.setup_base("0.0.0.0", 8080))
    printed = capsys.readouterr().out
    assert "http://0.0.0.0:8080/admin/setup/" in printed
    assert "this machine's address in place of 0.0.0.0" in printed
    create_admin(app)
    with app.app_context():
        assert cli.setup_base("127.0.0.1", 8080) == "http://127.0.0.1:8080"
        app.config["PUBLIC_URL"] = "https://shop.example.com/"
        assert cli.setup_base("0.0.0.0", 8080) == "https://shop.example.com"
