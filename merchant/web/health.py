"""/healthz: is the database reachable, and how old is the freshest worker heartbeat."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from .. import worker
from ..extensions import db

bp = Blueprint("health", __name__)



@bp.get("/healthz")
def healthz():
    """200 when the database answers and a worker beat recently; 503 otherwise."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        age = worker.last_beat()
    except SQLAlchemyError as exc:
        return jsonify(database="unreachable", error=str(exc.__class__.__name__)), 503
    healthy = age is not None and age < worker.STALE_AFTER
    return jsonify(database="ok", worker_heartbeat_age=None if age is None else round(age, 1),
                   status="ok" if healthy else "worker not running"), 200 if healthy else 503
