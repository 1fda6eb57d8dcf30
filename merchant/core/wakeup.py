"""Waking the workers the moment a commit gives them work, in this process or in any other.

PostgreSQL: the transaction that makes work sends `NOTIFY merchant_wake`, which PostgreSQL
delivers when it commits (and drops when it rolls back) to every worker LISTENing on its own
connection.

SQLite (one machine): every worker binds a unix datagram socket in a folder beside the database
file (`merchant.db.wake/`); after a commit that made work, the committing process sends one
byte to each socket there. A socket whose worker is gone refuses it and is removed.

Either way the wake-up is a hint: a worker that misses one finds the work at its next poll.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import select
import socket
import tempfile
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from merchant.core.extensions import db

try:
    import psycopg
except ImportError:                    # only a shop on PostgreSQL needs it
    psycopg = None

log = logging.getLogger(__name__)

CHANNEL = "merchant_wake"
_PENDING = "merchant_wake_folder"      # Session.info key: ping this folder after the commit
_MAX_SOCKET_PATH = 100                 # sun_path holds 108 bytes on Linux, fewer elsewhere
_ids = itertools.count(1)


def after_commit() -> None:
    """Inside the caller's transaction: wake every worker once it commits (not if it fails)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"NOTIFY {CHANNEL}"))
        return
    folder = _socket_folder(db.engine.url)
    if folder:
        db.session.info[_PENDING] = folder


@sa.event.listens_for(Session, "after_commit")
def _ping_after_commit(session: Session) -> None:
    folder = session.info.pop(_PENDING, None)
    if folder:
        _ping(folder)


@sa.event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _socket_folder(url: sa.URL) -> str | None:
    """Where the workers of this SQLite database keep their sockets (None: in-memory)."""
    if not url.database or url.database == ":memory:":
        return None
    folder = os.path.abspath(url.database) + ".wake"
    if len(folder) + 24 > _MAX_SOCKET_PATH:
        # A socket path this long cannot be bound: a short folder named after the database.
        digest = hashlib.sha256(folder.encode()).hexdigest()[:16]
        folder = os.path.join(tempfile.gettempdir(), f"merchant-{os.getuid()}-{digest}.wake")
    return folder


def _ping(folder: str) -> None:
    try:
        names = [name for name in os.listdir(folder) if name.endswith(".sock")]
    except FileNotFoundError:
        return                         # no worker ever ran here
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for name in names:
            path = os.path.join(folder, name)
            try:
                sock.sendto(b"!", path)
            except BlockingIOError:
                pass                   # its queue is full: it has wake-ups waiting already
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)    # its worker is gone
            except OSError as exc:
                log.warning("could not wake the worker at %s: %s", path, exc)


class SocketWaiter:
    """A worker's datagram socket on SQLite."""

    def __init__(self, folder: str):
        os.makedirs(folder, mode=0o700, exist_ok=True)
        self.path = os.path.join(folder, f"{os.getpid()}-{next(_ids)}.sock")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)       # left by a dead process that had our pid
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)

    def wait(self, timeout: float) -> bool:
        """Until woken or `timeout` seconds pass. True if woken."""
        readable, _, _ = select.select([self.sock], [], [], timeout)
        # Everything queued so far is answered by the one pass that follows.
        with contextlib.suppress(BlockingIOError):
            while self.sock.recv(16):
                pass
        return bool(readable)

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class ListenWaiter:
    """A worker's LISTEN connection on PostgreSQL, reconnected when it drops."""

    def __init__(self, url: sa.URL):
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = None
        try:
            self._connect()
        except psycopg.Error as exc:
            log.warning("worker wake-ups: cannot LISTEN on PostgreSQL yet (%s); polling", exc)

    def _connect(self) -> None:
        self.conn = psycopg.connect(self.conninfo, autocommit=True)
        self.conn.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> bool:
        """Until woken or `timeout` seconds pass. True if woken (or reconnected: a wake-up may
        have been missed meanwhile)."""
        try:
            if self.conn is None:
                self._connect()
                return True
            if not any(True for _ in self.conn.notifies(timeout=timeout, stop_after=1)):
                return False
            for _ in self.conn.notifies(timeout=0):
                pass                   # the one pass that follows answers these too
            return True
        except psycopg.Error as exc:
            log.warning("worker wake-ups: PostgreSQL connection lost (%s); polling until it "
                        "is back", exc)
            self.close()
            time.sleep(timeout)
            return False

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class PollOnly:
    """An in-memory SQLite database: no other process can reach it, nothing to listen to."""

    def wait(self, timeout: float) -> bool:
        time.sleep(timeout)
        return False

    def close(self) -> None:
        pass


def waiter() -> SocketWaiter | ListenWaiter | PollOnly:
    """A worker's way of being woken, to create before its first pass (inside an app
    context) so that no wake-up is missed between that pass and its first wait."""
    url = db.engine.url
    if db.engine.dialect.name == "postgresql":
        return ListenWaiter(url)
    folder = _socket_folder(url)
    return SocketWaiter(folder) if folder else PollOnly()
