"""Flask's signed-cookie sessions, with the cookie's signer built once per secret key.

Flask builds a new URLSafeTimedSerializer for every request that opens the session, which is
every request (the order page's status poll every 2 s among them). The serializer holds only
the keys and the signing settings, so one per set of keys serves every request. Only Flask's
documented extension point is used: a SessionInterface subclass (app.session_interface)
overriding get_signing_serializer.
"""
from __future__ import annotations

import threading

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SigningOnce(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}
        self._lock = threading.Lock()

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # Keyed by the keys themselves: a rotated SECRET_KEY gets a new signer at once.
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            with self._lock:
                self._serializers[keys] = serializer
        return serializer


def install(app: Flask) -> None:
    app.session_interface = SigningOnce()
