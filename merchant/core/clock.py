"""The time as the domain code reads it: the system's, or one a test (or the app) installs.

`now()` is naive UTC, as the database stores it; `monotonic()` measures intervals. A test
installs a FakeClock and moves it with advance(), so nothing waits on the wall clock.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...
    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """Starts at the real time and stands still until advanced; safe to read from threads."""

    def __init__(self, start: dt.datetime | None = None):
        self._lock = threading.Lock()
        self._now = start or SystemClock().now()
        self._monotonic = time.monotonic()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)
            self._monotonic += seconds


_current: Clock = SystemClock()


def now() -> dt.datetime:
    return _current.now()


def monotonic() -> float:
    return _current.monotonic()


def timestamp() -> float:
    """Seconds since the epoch, for libraries that count in those (itsdangerous)."""
    return now().replace(tzinfo=dt.UTC).timestamp()


def install(clock: Clock) -> Clock:
    """Make `clock` the one every thread of this process reads; returns the previous one."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def installed(clock: Clock) -> Iterator[Clock]:
    previous = install(clock)
    try:
        yield clock
    finally:
        install(previous)
