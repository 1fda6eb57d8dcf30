"""/healthz: is the database reachable, and how old is the freshest worker heartbeat.
/metrics: the shop's figures for Prometheus, behind MERCHANT_METRICS_TOKEN."""
from __future__ import annotations

import hmac

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError

from merchant.core.extensions import db
from merchant.ops import metrics, worker

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


@bp.get("/metrics")
def prometheus():
    """404 unless METRICS_TOKEN is set; then 401 without `Authorization: Bearer <token>`."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
    if not hmac.compare_digest(sent, str(token).encode()):
        return Response("A metrics token is needed.\n", 401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(metrics.exposition(), mimetype=None, content_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
