"""A real SMTP server (aiosmtpd) on 127.0.0.1, port 0, in a thread: it keeps what it accepts.

Optionally it requires STARTTLS and a sign-in. It can also answer RCPT TO with a given reply
(`rcpt_reply = "451 ..."`), hang up after taking a message instead of answering 250
(`drop_during_data`), and SIGKILL a process at a step (`kill(pid, at="RCPT" | "DATA")`): at
DATA the message is kept first, as a server that took it but whose 250 never reached the client.
"""
from __future__ import annotations

import email
import email.policy
import os
import signal
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


class _Port0Controller(Controller):
    """aiosmtpd's Controller binds a fixed port; this one lets the OS pick a free one."""

    def _create_server(self):
        async def create():
            server = await self.loop.create_server(self._factory_invoker, host=self.hostname,
                                                   port=0)
            self.port = server.sockets[0].getsockname()[1]
            return server
        return create()


class FakeSmtp:
    """`tls`: an ssl.SSLContext with the server's certificate, and STARTTLS is required;
    `login`: (user, password) it wants after that (AUTH PLAIN or LOGIN)."""

    def __init__(self, tls: ssl.SSLContext | None = None, login: tuple[str, str] | None = None):
        self.received: list[Received] = []
        self.rcpt_reply: str | None = None
        self.drop_during_data = False         # keep the message, then hang up instead of 250
        self.killed = threading.Event()
        self._victim: tuple[int, str] | None = None
        self._changed = threading.Condition()
        self.logins: list[str] = []
        options = {}
        if tls:
            options.update(tls_context=tls, require_starttls=True)
        if login:
            options.update(authenticator=self._authenticator(login), auth_required=True)
        self._controller = _Port0Controller(self, hostname="127.0.0.1", **options)

    def start(self) -> FakeSmtp:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return self._controller.port

    def kill(self, pid: int, at: str) -> None:
        """SIGKILL `pid` once, when a client reaches `at` (RCPT or DATA)."""
        self.killed.clear()
        self._victim = (pid, at)

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        """The messages once `count` have arrived. :raise AssertionError: not in time."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.received) >= count, timeout)
        assert arrived, f"{len(self.received)} messages arrived, expected {count}"
        return list(self.received)

    def _authenticator(self, login: tuple[str, str]):
        def check(server, session, envelope, mechanism, auth_data):
            given = (auth_data.login.decode(), auth_data.password.decode())
            if given == login:
                self.logins.append(given[0])
            return AuthResult(success=given == login, handled=False)
        return check

    def _maybe_kill(self, step: str) -> None:
        if self._victim and self._victim[1] == step:
            pid, self._victim = self._victim[0], None
            os.kill(pid, signal.SIGKILL)
            self.killed.set()

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self._maybe_kill("RCPT")
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._changed:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                                          envelope.original_content or envelope.content))
            self._changed.notify_all()
        self._maybe_kill("DATA")
        if self.drop_during_data:
            server.transport.close()
            return "421 closing"              # never reaches the client: the line is down
        return "250 Message accepted for delivery"
