"""Short write transactions, the unit every service writes in."""
from __future__ import annotations

import contextlib

from merchant.core.extensions import db


@contextlib.contextmanager
def write_unit():
    """One short write transaction.

    Ends the caller's read transaction first, so that the unit's first statement is a write:
    SQLite then takes its write lock at once and waits (busy_timeout) for other writers instead
    of failing with a stale snapshot.
    """
    db.session.commit()
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
