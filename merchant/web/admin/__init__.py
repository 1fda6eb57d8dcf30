"""The operator panel at /admin: one blueprint, a module per area.

Every route needs a signed-in admin (checked once, in require_admin); areas other than orders
and the Needs-attention list are the owner's alone (@owner_only). Sessions end after
ADMIN_IDLE_MINUTES without a request and ADMIN_SESSION_HOURS after sign-in.
"""
from __future__ import annotations

import functools
import logging
import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from werkzeug.exceptions import RequestEntityTooLarge

from merchant.core import media
from merchant.staff import admins
from merchant.staff.admins import MIN_PASSWORD
from merchant.version import __version__
from merchant.web.htmx import is_htmx

bp = Blueprint("admin", __name__, url_prefix="/admin")
log = logging.getLogger(__name__)

SESSION_TOKEN = "admin_session"     # the session key holding this browser's server-side token
OPEN_ENDPOINTS = frozenset({"admin.login", "admin.login_code", "admin.login_recovery",
                            "admin.setup"})
# All an admin with a temporary password may do until they chose their own.
PASSWORD_ENDPOINTS = frozenset({"admin.password", "admin.change_password", "admin.logout"})
# The menu, in order: (endpoint, label, owner only). Areas not registered are left out.
MENU = [
    ("admin.home", _l("Needs attention"), False),
    ("admin.orders", _l("Orders"), False),
    ("admin.products", _l("Catalog"), True),
    ("admin.methods", _l("Payment methods"), True),
    ("admin.promos", _l("Promo codes"), True),
    ("admin.customers", _l("Customers"), False),
    ("admin.levels", _l("Price levels"), True),
    ("admin.flash_sales", _l("Flash sales"), True),
    ("admin.reviews", _l("Reviews"), True),
    ("admin.dashboard", _l("Dashboard"), True),
    ("admin.api", _l("API"), True),
    ("admin.settings", _l("Settings"), True),
    ("admin.alerts", _l("Alerts"), True),
    ("admin.users", _l("Admins"), True),
    ("admin.audit", _l("Audit log"), True),
    ("admin.account", _l("My account"), False),
]
ROLE_LABELS = {"owner": _l("owner"), "staff": _l("staff")}


def redirect_to(url: str):
    """A redirect that htmx follows too (HX-Redirect on a 200, never a 3xx to a fragment)."""
    if is_htmx():
        return "", 200, {"HX-Redirect": url}
    return redirect(url, code=303)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A body over the panel's limit is refused unread, so none of its fields can come back:
    the form it came from again, saying why, rather than the shop's error page."""
    log.info("refused %s %s: body over %s bytes", request.method, request.path[:200],
             request.max_content_length)
    flash(_("Nothing was saved: what you sent was too large. Choose a smaller file (pictures "
            "up to %(size)s) and send the form again.", size=media.size_limit()))
    rule = request.url_rule
    return redirect_to(request.path if rule and "GET" in (rule.methods or ())
                       else url_for("admin.home"))


def sign_out() -> None:
    """End this browser's session, in its cookie and on the server (a copied cookie dies too)."""
    admins.end_session(session.pop(SESSION_TOKEN, None))
    logout_user()
    session.pop("admin_since", None)
    session.pop("admin_seen", None)


@bp.before_request
def require_admin():
    """Signed in, session still fresh; otherwise to the sign-in page."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect_to(url_for("admin.login", next=request.full_path.rstrip("?")))
    now = time.time()
    idle = float(current_app.config["ADMIN_IDLE_MINUTES"]) * 60
    absolute = float(current_app.config["ADMIN_SESSION_HOURS"]) * 3600
    since, seen = session.get("admin_since", 0), session.get("admin_seen", 0)
    if now - seen > idle or now - since > absolute:
        sign_out()
        return redirect_to(url_for("admin.login", expired=1))
    session["admin_seen"] = now
    if current_user.must_change_password and request.endpoint not in PASSWORD_ENDPOINTS:
        return redirect_to(url_for("admin.password"))
    return None


@bp.after_request
def no_store(response):
    """Admin pages hold customers' details: never kept by a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def owner_only(view):
    """Only the shop's owner may use this view; staff get a plain 403 page."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_owner:
            return render_template("admin/forbidden.html"), 403
        return view(*args, **kwargs)
    wrapper.owner_only = True       # lets the tests find every owner-only view
    return wrapper


@bp.app_context_processor
def admin_menu():
    def menu():
        if not current_user.is_authenticated or current_user.must_change_password:
            return []
        return [(endpoint, label) for endpoint, label, owner in MENU
                if endpoint in current_app.view_functions and (current_user.is_owner or not owner)]
    return {"admin_menu": menu, "min_password": MIN_PASSWORD, "role_labels": ROLE_LABELS,
            "merchant_version": __version__}


# The areas register their routes on bp when imported.
from merchant.web.admin import (  # noqa: E402,F401
    account,
    alerts,
    archive,
    audit_log,
    auth,
    catalog,
    customers,
    dashboard,
    demo_catalog,
    export,
    flash_sales,
    home,
    methods,
    orders,
    promos,
    receipts,
    reseller_api,
    reviews,
    saldo,
    settings,
    users,
)
