"""The guards: what every request must be before a view sees it, and what every answer carries.

- Ids in the address are bounded integers (an `int` route converter capped at the column size).
- The path, the query, the form fields and the headers hold no control characters (one
  `before_request` guard, so views and services never meet a NUL).
- Bodies are capped before they are read: MAX_CONTENT_LENGTH, bigger for the panel (picture
  uploads), smaller for callbacks.
- (The client address is the proxy's X-Forwarded-For only for MERCHANT_PROXY_COUNT proxies:
  web/edge/__init__.py.)
- HSTS over https; `Cache-Control: no-store` on pages with personal data.
"""
from __future__ import annotations

from urllib.parse import unquote_plus, urlsplit

from flask import Flask, Request, abort, current_app, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from merchant.core.validation import MAX_ID, has_control

# Routes whose pages show an order's or the panel's personal data: never stored by a cache.
PRIVATE_BLUEPRINTS = frozenset({"orders", "admin"})
HSTS = "max-age=31536000"
UPLOAD_FORM_ROOM = 64 * 1024   # the panel's other form fields beside a picture
# A picture up to this many times UPLOAD_MAX_BYTES is still read (werkzeug spools it to a
# temporary file), so the form comes back with everything typed and a message on the picture:
# a 10 MB phone photo is common. Only a bigger body is refused unread.
UPLOAD_OVERSIZE_READ = 8


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` that matches only ids a database column can hold (else the route is a 404)."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class GuardedRequest(Request):
    """A request whose body limit depends on where it goes, known before the body is read."""

    @property
    def max_content_length(self) -> int | None:
        config = current_app.config
        if self.path.startswith("/webhooks/"):
            return int(config["WEBHOOK_MAX_BYTES"])
        if self.path.startswith("/admin/"):
            # Room for a picture the panel then refuses with its own message when too big.
            return max(int(config["MAX_CONTENT_LENGTH"]),
                       int(config["UPLOAD_MAX_BYTES"]) * UPLOAD_OVERSIZE_READ + UPLOAD_FORM_ROOM)
        return config["MAX_CONTENT_LENGTH"]

    @max_content_length.setter
    def max_content_length(self, value) -> None:   # Flask's per-request override, unused
        raise AttributeError("the body limit is set per route in GuardedRequest")


def is_machine_endpoint() -> bool:
    """Callbacks from vendors: JSON answers, bodies read raw by their adapters."""
    return request.path.startswith("/webhooks/")


def callback_body() -> bytes:
    """A callback's raw body, 413 when it reaches the limit: a chunked body has no length to
    refuse up front, and werkzeug stops reading it at the limit rather than failing."""
    data = request.get_data(cache=True)
    if len(data) >= int(current_app.config["WEBHOOK_MAX_BYTES"]):
        abort(413)
    return data


def _refuse():
    abort(400, _("This request contains characters that cannot be used here (control "
                 "characters such as NUL). Remove them and try again."))


def refuse_control_characters():
    """400 for a control character anywhere the app reads text (before any view runs).

    The path, the decoded query and the headers are each searched as one string: every
    request pays this, so it reads the WSGI environ once instead of parsing the query into
    arguments and the headers into objects."""
    environ = request.environ
    raw_query = environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
    query = unquote_plus(raw_query, errors="replace")
    headers = " ".join(value for key, value in environ.items()
                       if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"))
    if has_control(request.path) or has_control(query) or has_control(headers.replace("\t", "")):
        _refuse()
    if request.method in ("POST", "PUT", "PATCH") and not is_machine_endpoint():
        if any(has_control(key) or has_control(value, line_breaks=True)
               for key, value in request.form.items(multi=True)):
            _refuse()


def _https_shop() -> bool:
    return urlsplit(str(current_app.config.get("PUBLIC_URL") or "")).scheme == "https"


# What every answer carries unless its view set its own.
EVERY_ANSWER = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     "frame-ancestors 'none'; form-action 'self' https:"),
)


_EVERY_ANSWER_LOWER = tuple((key.lower(), key, value) for key, value in EVERY_ANSWER)


def security_headers(response):
    headers = response.headers
    present = {key.lower() for key, _ in headers}     # one pass, not one per header
    for lowered, key, value in _EVERY_ANSWER_LOWER:
        if lowered not in present:
            headers.add(key, value)
    if "strict-transport-security" not in present and (request.is_secure or _https_shop()):
        headers.add("Strict-Transport-Security", HSTS)
    if request.blueprint in PRIVATE_BLUEPRINTS or request.path.startswith("/admin/"):
        headers["Cache-Control"] = "no-store"
    if response.status_code == 429 and "retry-after" not in present:
        headers.add("Retry-After", "60")    # every limit counts per minute
    return response


def install(app: Flask) -> None:
    """Wire the guards into the app; before any blueprint is registered (the converter)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.request_class = GuardedRequest
    # First of all before_request functions: CSRF and the rate limits read the form too.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_control_characters)
    app.after_request(security_headers)
