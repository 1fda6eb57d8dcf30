"""Flask's signed-cookie sessions, with the cookie's signer built once per secret key and each
cookie verified once.

Flask builds a new URLSafeTimedSerializer for every request that opens the session, which is
every request (the order page's status poll every 2 s among them), and verifies the cookie's
signature each time: the same cookie, sent again every 2 s by the same open page. Here one
serializer per set of keys serves every request, and it remembers the cookies it verified
(a bounded number, the newest kept): the same cookie string is the same signed value, so its
payload is handed out again (a copy) without the HMAC, the base64 and the zlib. The age limit
still holds: a remembered cookie older than the session's lifetime is refused like any other.

Only documented extension points are used: a SessionInterface subclass
(app.session_interface) overriding get_signing_serializer, and an itsdangerous serializer
subclass overriding loads.
"""
from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import SignatureExpired, URLSafeTimedSerializer

REMEMBERED = 4096           # cookies; each a few hundred bytes


class RememberingSerializer(URLSafeTimedSerializer):
    """loads() verifies a cookie string once and remembers its payload and signing time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._seen: OrderedDict[str, tuple[object, float]] = OrderedDict()
        self._lock = threading.Lock()

    def loads(self, s, max_age=None, return_timestamp=False, salt=None):
        if return_timestamp or salt is not None or not isinstance(s, str):
            return super().loads(s, max_age=max_age, return_timestamp=return_timestamp,
                                 salt=salt)
        with self._lock:
            hit = self._seen.get(s)
            if hit is not None:
                self._seen.move_to_end(s)
        if hit is not None:
            value, signed_at = hit
            age = int(time.time()) - signed_at
            if max_age is not None and age > max_age:
                raise SignatureExpired(f"Signature age {age} > {max_age} seconds")
            return copy.deepcopy(value)
        value, signed_at = super().loads(s, max_age=max_age, return_timestamp=True)
        with self._lock:
            self._seen[s] = (copy.deepcopy(value), int(signed_at.timestamp()))
            if len(self._seen) > REMEMBERED:
                self._seen.popitem(last=False)
        return value


class SigningOnce(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}
        self._lock = threading.Lock()

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # Keyed by the keys themselves: a rotated SECRET_KEY gets a new signer at once.
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = self._build(app)
            with self._lock:
                self._serializers[keys] = serializer
        return serializer

    def _build(self, app: Flask) -> RememberingSerializer | None:
        """Flask's own serializer (its keys, salt and signer settings), remembering."""
        made = super().get_signing_serializer(app)
        if made is None:
            return None
        return RememberingSerializer(made.secret_keys, salt=self.salt,
                                     serializer=self.serializer,
                                     signer_kwargs={"key_derivation": self.key_derivation,
                                                    "digest_method": self.digest_method})


def install(app: Flask) -> None:
    app.session_interface = SigningOnce()
