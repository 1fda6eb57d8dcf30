"""Flask's session cookie read in front of Flask (status_poll, kept_pages).

Read as Flask's own session interface reads it (its signing serializer, its max age), but
each cookie's signature is checked once: an order page sends the same cookie with every poll,
every 2 s, and checking the HMAC and decoding the JSON again each time was a third of what an
unchanged poll cost. Only cookies whose signature held are remembered, so a forged one is
checked (and refused) every time, and a remembered one still expires when Flask's would.

A good signature is not a signed-in admin: the readers here take only a visitor's order refs
and CSRF token from it. The panel is always answered by Flask, whose user loader
(admins.load) also asks the database whether that browser's session was signed out.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from flask import Flask
from itsdangerous import BadSignature

MAX_REMEMBERED = 4096       # cookies; forgotten all at once when full


class SessionCookies:
    def __init__(self, app: Flask):
        self.name = app.config["SESSION_COOKIE_NAME"]
        self.max_age = int(app.permanent_session_lifetime.total_seconds())
        self._serializer = app.session_interface.get_signing_serializer(app)
        self._verified: dict[str, tuple[dict, int]] = {}      # cookie -> (session, signed at)
        self._lock = threading.Lock()

    def read(self, cookies: Mapping[str, str]) -> dict | None:
        """The session in `cookies`, or None (none sent, forged, expired, not a dict). The
        dict is shared between requests: read it, never change it."""
        value = cookies.get(self.name)
        if not value or self._serializer is None:
            return None
        known = self._verified.get(value)
        if known is None:
            try:
                session, signed = self._serializer.loads(value, max_age=self.max_age,
                                                         return_timestamp=True)
            except BadSignature:
                return None
            if not isinstance(session, dict):
                return None
            known = (session, int(signed.timestamp()))
            with self._lock:
                if len(self._verified) >= MAX_REMEMBERED:
                    self._verified.clear()
                self._verified[value] = known
        session, signed = known
        age = int(time.time()) - signed
        return session if 0 <= age <= self.max_age else None
