"""Callbacks from payment gateways: verified, recorded and answered in the vendor's format."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from merchant.core.extensions import csrf, limiter
from merchant.orders import payment_events
from merchant.vendors.payments import ADAPTERS
from merchant.web.guards import callback_body

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)
limiter.limit(lambda: current_app.config["RATELIMIT_WEBHOOK"])(bp)


@bp.post("/<gateway>")
def payment_callback(gateway):
    """A gateway's payment notification: answered in the vendor's format, or a JSON error."""
    if gateway not in ADAPTERS or gateway not in payment_events.enabled_gateways():
        return jsonify(error="this shop takes no payments through that gateway"), 404
    try:
        reply = payment_events.receive_callback(gateway, callback_body(), request.headers)
    except payment_events.CallbackRejected as exc:
        return jsonify(error=str(exc)), exc.status
    return Response(reply.body, reply.status, content_type=reply.content_type)
