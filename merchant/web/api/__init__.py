"""/api/v1: the H2H API for resellers (merchant/h2h/ holds what it does).

Every call but the documentation passes merchant/h2h/access.authenticate before its view runs
(a signed request, from an allowed address, under the key's rate), and every call, refused or
not, goes into the call log with its answer and time. Bodies are validated by spectree against
the models in schemas.py, which also make the OpenAPI document.
"""
from __future__ import annotations

import time

from flask import Blueprint, current_app, g, jsonify, request
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from werkzeug.exceptions import TooManyRequests

from merchant.core.extensions import csrf, limiter
from merchant.h2h import access, calls
from merchant.h2h.errors import ApiError
from merchant.version import __version__

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def refused_limit() -> str:
    return current_app.config["RATELIMIT_API_REFUSED"]


def refused_for_who(response) -> bool:
    """A call refused for its key or signature counts against its address: someone guessing
    keys or secrets is stopped before the database is asked again."""
    return response.status_code in (401, 403)


limiter.limit(refused_limit, deduct_when=refused_for_who)(bp)

UNSIGNED = frozenset({"api.openapi", "api.docs"})
HEADERS = ("X-Key-Id", "X-Timestamp", "X-Nonce", "X-Signature")


def _invalid(req, resp, error, instance, *rest) -> None:
    """spectree's hook: a body or query that does not fit its model is our INVALID_REQUEST."""
    if error is None:
        return
    fields = {".".join(str(part) for part in item["loc"]) or "body": item["msg"]
              for item in error.errors()}
    raise ApiError("INVALID_REQUEST", "The request does not fit the documented model: "
                                      + "; ".join(f"{k}: {v}" for k, v in fields.items()),
                   fields=fields)


spec = SpecTree(
    "flask", title="merchant H2H API", version=__version__, annotations=True, mode="strict",
    validation_error_status=422, before=_invalid,
    description="Order top-ups from your own site, bot or script, paid from your saldo. Every "
                "request is signed: see /api/v1/docs.",
    security_schemes=[SecurityScheme(name=name.replace("-", ""), data=SecuritySchemeData(
        type="apiKey", field_in="header", name=name)) for name in HEADERS],
    security={name.replace("-", ""): [] for name in HEADERS},
)


@bp.before_request
def authenticate():
    g.api_started = time.perf_counter()
    g.api_key = None
    if request.endpoint in UNSIGNED:
        return None
    signed = access.SignedRequest(
        key_id=request.headers.get("X-Key-Id", ""),
        timestamp=request.headers.get("X-Timestamp", ""),
        nonce=request.headers.get("X-Nonce", ""),
        signature=request.headers.get("X-Signature", ""),
        method=request.method, path=request.full_path.rstrip("?"),
        body=request.get_data(cache=True), address=request.remote_addr or "")
    g.api_key = access.authenticate(signed)
    return None


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    g.api_code = error.code
    response = jsonify(error.body())
    response.status_code = error.status
    if error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.errorhandler(TooManyRequests)
def too_many_refused(error):
    return api_error(ApiError("RATE_LIMITED", "Too many refused calls from this address: fix "
                                              "the key or the signing, then try again in a "
                                              "minute.", retry_after=60))


@bp.after_request
def log_call(response):
    if request.endpoint not in UNSIGNED:
        started = g.get("api_started") or time.perf_counter()
        calls.record(g.get("api_key"), "v1", request.method, request.path,
                     response.status_code, g.get("api_code", ""),
                     int((time.perf_counter() - started) * 1000), request.remote_addr or "")
    response.headers["Cache-Control"] = "no-store"
    return response


from merchant.web.api import docs, v1  # noqa: E402,F401  (the views register on bp)
