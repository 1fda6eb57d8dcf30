"""The call log: every request to the API with its key, answer and time taken, kept
H2H_CALL_LOG_DAYS for the reseller's and the owner's troubleshooting."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app

from merchant.core.extensions import db
from merchant.core.models import ApiCall, ApiKey, utcnow
from merchant.core.transactions import write_unit


def record(key: ApiKey | None, door: str, method: str, path: str, status: int, code: str,
           latency_ms: int, ip: str) -> None:
    with write_unit():
        db.session.add(ApiCall(key_id=key.id if key else None, door=door, method=method[:8],
                               path=path[:200], status=status, code=(code or "")[:40],
                               latency_ms=latency_ms, ip=(ip or "")[:45], at=utcnow()))


def of_keys(key_ids: list[int], limit: int = 100) -> list[ApiCall]:
    if not key_ids:
        return []
    return list(db.session.scalars(sa.select(ApiCall).where(ApiCall.key_id.in_(key_ids))
                                   .order_by(ApiCall.id.desc()).limit(limit)))


def latest(limit: int = 100) -> list[ApiCall]:
    return list(db.session.scalars(sa.select(ApiCall).order_by(ApiCall.id.desc()).limit(limit)))


def forget_old(now: dt.datetime | None = None) -> int:
    cutoff = (now or utcnow()) - dt.timedelta(days=int(current_app.config["H2H_CALL_LOG_DAYS"]))
    with write_unit():
        return db.session.execute(sa.delete(ApiCall).where(ApiCall.at < cutoff)).rowcount
