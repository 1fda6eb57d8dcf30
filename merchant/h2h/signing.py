"""How a request to the API and a callback from it are signed (HMAC-SHA256, hex).

A request: X-Signature = HMAC(secret, METHOD \\n PATH?QUERY \\n TIMESTAMP \\n NONCE \\n
sha256_hex(body)). The timestamp bounds it to the replay window and the nonce makes it
single-use inside the window (merchant/h2h/access.py keeps the nonces).

A callback: X-Signature: t=<unix seconds>,v1=HMAC(secret, "<t>." + body), Stripe's scheme, so a
receiver checks both that we sent it and when.
"""
from __future__ import annotations

import hashlib
import hmac


def request_string(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce,
                      hashlib.sha256(body).hexdigest()]).encode()


def sign_request(secret: str, method: str, path: str, timestamp: str, nonce: str,
                 body: bytes) -> str:
    return hmac.new(secret.encode(), request_string(method, path, timestamp, nonce, body),
                    hashlib.sha256).hexdigest()


def request_valid(secret: str, signature: str, method: str, path: str, timestamp: str,
                  nonce: str, body: bytes) -> bool:
    expected = sign_request(secret, method, path, timestamp, nonce, body)
    return hmac.compare_digest(expected, signature.strip().lower())


def callback_signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def callback_valid(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does with a callback (the docs' example, and the tests')."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(callback_signature(secret, timestamp, body), header)
