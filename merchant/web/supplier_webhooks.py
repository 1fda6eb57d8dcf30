"""Callbacks from suppliers: POST /webhooks/supplier/<name>, CSRF-exempt, signature-checked."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from merchant.core.extensions import csrf, limiter
from merchant.orders import supplier_events
from merchant.vendors.suppliers import ADAPTERS
from merchant.web.guards import callback_body

bp = Blueprint("supplier_webhooks", __name__, url_prefix="/webhooks/supplier")
csrf.exempt(bp)
limiter.limit(lambda: current_app.config["RATELIMIT_WEBHOOK"])(bp)


@bp.post("/<name>")
def supplier_callback(name):
    """A supplier's delivery update."""
    if name not in ADAPTERS:
        abort(404)
    try:
        outcome = supplier_events.receive_callback(name, callback_body(), request.headers)
    except supplier_events.CallbackRejected as exc:
        return jsonify(error=str(exc)), exc.status
    return jsonify(ok=True, outcome=outcome)
