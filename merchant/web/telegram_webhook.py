"""POST /telegram/webhook: the bot's updates when the shop uses a webhook (see
alerts/telegram_link.py). CSRF-exempt; Telegram proves itself with the secret token it was given
in setWebhook, sent back in X-Telegram-Bot-Api-Secret-Token (403 otherwise, nothing done)."""
from __future__ import annotations

import json
import logging

from flask import Blueprint, abort, current_app, jsonify, request

from merchant.alerts import telegram_link
from merchant.core.extensions import csrf, limiter
from merchant.web.guards import callback_body

bp = Blueprint("telegram_webhook", __name__)
csrf.exempt(bp)
limiter.limit(lambda: current_app.config["RATELIMIT_WEBHOOK"])(bp)
log = logging.getLogger(__name__)


@bp.post("/telegram/webhook")
def telegram_update():
    if not current_app.config.get("TELEGRAM_BOT_TOKEN"):
        abort(404)
    if not telegram_link.webhook_secret_ok(request.headers.get("X-Telegram-Bot-Api-Secret-Token")):
        log.warning("telegram webhook: refused a request without the secret token")
        abort(403)
    try:
        update = json.loads(callback_body())
    except ValueError:
        return jsonify(error="the body is not JSON"), 400
    outcome = telegram_link.handle_update(update if isinstance(update, dict) else {})
    return jsonify(ok=True, outcome=outcome)
