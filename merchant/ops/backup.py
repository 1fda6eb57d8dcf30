"""`flask --app merchant backup PATH`: the database and the uploaded pictures, into one folder.

SQLite is copied with its online backup API, page by page from one read snapshot, so the copy
is consistent while the shop keeps selling. PostgreSQL is dumped with `pg_dump` (custom format,
for `pg_restore`). The pictures under <instance>/media are copied beside it: the database only
names them.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass

import sqlalchemy as sa

from merchant.core import media

SQLITE_FILE = "merchant.db"
POSTGRES_FILE = "merchant.pgdump"
MEDIA_DIR = "media"


class BackupError(Exception):
    """The backup could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    database: str        # the file written
    pictures: int        # files copied from the media folder


def backup(url: sa.URL, folder: str) -> Backup:
    """Write the database at `url` and the media folder into `folder` (new, or empty)."""
    if os.path.exists(folder) and (not os.path.isdir(folder) or os.listdir(folder)):
        raise BackupError(f"{folder} exists and is not an empty folder: choose a new path, "
                          "so no earlier backup is overwritten.")
    os.makedirs(folder, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        database = os.path.join(folder, SQLITE_FILE)
        copy_sqlite(url.database, database)
    elif url.get_backend_name() == "postgresql":
        database = os.path.join(folder, POSTGRES_FILE)
        dump_postgres(url, database)
    else:
        raise BackupError(f"merchant cannot back up a {url.get_backend_name()} database: "
                          "use that database's own backup tool.")
    return Backup(database, copy_media(media.folder(), os.path.join(folder, MEDIA_DIR)))


def copy_sqlite(source: str, target: str) -> None:
    if not source or not os.path.exists(source):
        raise BackupError(f"There is no SQLite database at {source!r}.")
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def dump_postgres(url: sa.URL, target: str) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump was not found: install the PostgreSQL client tools "
                          "(Debian: apt-get install postgresql-client, the server's major "
                          "version or newer) and run the backup again.")
    # libpq's own URL (no "+psycopg"); the password goes by environment, not the process list.
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ, **({"PGPASSWORD": url.password} if url.password else {}))
    done = subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={target}", libpq],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")


def copy_media(source: str, target: str) -> int:
    if not os.path.isdir(source):
        os.makedirs(target)
        return 0
    shutil.copytree(source, target)
    return sum(len(files) for _, _, files in os.walk(target))
