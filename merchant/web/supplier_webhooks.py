"""Callbacks from suppliers: POST /webhooks/supplier/<name>, CSRF-exempt, signature-checked."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from .. import supplier_events
from ..extensions import csrf
from ..suppliers import ADAPTERS

bp = Blueprint("supplier_webhooks", __name__, url_prefix="/webhooks/supplier")
csrf.exempt(bp)


@bp.post("/<name>")
def supplier_callback(name):
    """A supplier's delivery update."""
    if name not in ADAPTERS:
        abort(404)
    try:
        outcome = supplier_events.receive_callback(name, request.get_data(), request.headers)
    except supplier_events.CallbackRejected as exc:
        return jsonify(error=str(exc)), exc.status
    return jsonify(ok=True, outcome=outcome)
