"""The shop's own pages: terms, refund and privacy policies, contact, and the stylesheet
with its accent colour."""
from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template, request
from flask_babel import gettext as _

from merchant.core import shop_settings

bp = Blueprint("pages", __name__)

# base.html links /theme.css?v=<colour>, so a new colour is a new URL: caching long is safe.
THEME_MAX_AGE = 7 * 24 * 3600


@bp.get("/terms")
def terms():
    """The shop's terms, as the owner wrote them. :raise 404: none written yet."""
    return _policy(_("Terms of service"), shop_settings.current().terms)


@bp.get("/refund-policy")
def refund_policy():
    """The shop's refund policy. :raise 404: none written yet."""
    return _policy(_("Refund policy"), shop_settings.current().refund_policy)


@bp.get("/privacy")
def privacy():
    """The shop's privacy policy. :raise 404: none written yet."""
    return _policy(_("Privacy policy"), shop_settings.current().privacy_policy)


@bp.get("/contact")
def contact():
    """Who sells (name and registration numbers) and how to reach them."""
    return render_template("pages/contact.html")


def _policy(title: str, text: str):
    if not text:
        abort(404)
    return render_template("pages/policy.html", title=title, text=text)


@bp.get("/theme.css")
def theme():
    """The accent colour as CSS variables (the CSP forbids inline styles)."""
    settings = shop_settings.current()
    color = settings.accent_color or shop_settings.DEFAULT_ACCENT
    css = f":root {{ --brand: {color}; --brand-ink: {settings.accent_ink}; }}\n"
    response = make_response(css)
    response.mimetype = "text/css"
    response.cache_control.public = True
    response.cache_control.max_age = THEME_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)
