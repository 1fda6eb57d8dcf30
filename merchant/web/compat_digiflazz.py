"""The Digiflazz-compatible door of the H2H API: Digiflazz's three buyer calls, JSON in and out
(merchant/h2h/digiflazz.py decides; this only reads the body, answers and logs the call)."""
from __future__ import annotations

import time
from collections.abc import Callable

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException, TooManyRequests

from merchant.core.extensions import csrf, limiter
from merchant.h2h import calls, digiflazz
from merchant.web.api import refused_limit

bp = Blueprint("compat_digiflazz", __name__, url_prefix="/compat/digiflazz/v1")
csrf.exempt(bp)
# Digiflazz's rc for an unknown username, a wrong sign and an address not allowed.
REFUSED_FOR_WHO = frozenset({"41", "42", "45"})


def refused_for_who(response) -> bool:
    """Like the API's: refusals for the key or the sign count against the caller's address."""
    return g.get("door_rc") in REFUSED_FOR_WHO


limiter.limit(refused_limit, deduct_when=refused_for_who)(bp)


def _answer(command: Callable[[dict, str], digiflazz.Answer]):
    started = time.monotonic()
    address = request.remote_addr or ""
    body = request.get_json(force=True, silent=True)
    if isinstance(body, dict):
        answer = command(body, address)
    else:
        refused = digiflazz.Refused("40", "the body must be a JSON object")
        answer = digiflazz.Answer(400, {"data": {"rc": refused.rc, "message": refused.message}},
                                  refused.rc)
    g.door_rc = answer.rc
    calls.record(answer.key, digiflazz.DOOR, request.method, request.path, answer.status,
                 answer.rc, int((time.monotonic() - started) * 1000), address)
    response = jsonify(answer.body)
    response.status_code = answer.status
    if answer.retry_after:
        response.headers["Retry-After"] = str(answer.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/price-list")
def price_list():
    """Digiflazz's price list, at the key's prices."""
    return _answer(digiflazz.price_list)


@bp.post("/cek-saldo")
def cek_saldo():
    """Digiflazz's balance check: the account's saldo (a sandbox key's play saldo)."""
    return _answer(digiflazz.cek_saldo)


@bp.post("/transaction")
def transaction():
    """Digiflazz's top-up: a new ref_id orders, the same ref_id again is its status."""
    return _answer(digiflazz.transaction)


@bp.errorhandler(TooManyRequests)
def too_many_refused(exc: TooManyRequests):
    """Too many calls refused for their username or sign from this address."""
    return jsonify(data={"rc": "83", "message": f"{digiflazz.MESSAGES['83']}: too many "
                                                "refused calls from this address"}), 429


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """A body too big or unreadable: Digiflazz's payload error, not an HTML page."""
    return jsonify(data={"rc": "40", "message": f"{digiflazz.MESSAGES['40']}: "
                                                f"{exc.description}"}), exc.code or 400
