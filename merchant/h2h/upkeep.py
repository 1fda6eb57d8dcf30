"""The API's housekeeping in the worker: sandbox orders moved on, old nonces and calls
forgotten (every few minutes; nothing here is urgent)."""
from __future__ import annotations

from merchant.core import clock
from merchant.h2h import access, calls, orders

FORGET_EVERY = 600.0            # seconds
_last_forgot: float | None = None


def run_due() -> int:
    """One pass: pending sandbox orders asked again; what settled is counted as work."""
    global _last_forgot
    done = orders.advance_pending_sandbox()
    now = clock.monotonic()
    if _last_forgot is None or now - _last_forgot >= FORGET_EVERY:
        _last_forgot = now
        access.forget_old_nonces()
        calls.forget_old()
    return done
