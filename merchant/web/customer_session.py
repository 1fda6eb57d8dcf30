"""Which customer this browser signs in (merchant/customers/sessions.py keeps the sessions):
the session cookie carries only the server-side session's token."""
from __future__ import annotations

import datetime as dt

from flask import current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from merchant.core.models import Customer
from merchant.customers import sessions

SESSION_KEY = "customer"


def current_customer() -> Customer | None:
    """The signed-in customer, or None for a guest (read once per request)."""
    if "customer" not in g:
        g.customer = sessions.load(session.get(SESSION_KEY)) if SESSION_KEY in session else None
    return g.customer


def customer_or_sign_in(next_path: str | None = None) -> tuple[Customer | None, Response | None]:
    """(the signed-in customer, None), or (None, the way to the sign-in page), which comes
    back to `next_path` (this request's path unless given: a POST's path cannot be reopened)."""
    customer = current_customer()
    if customer is None:
        return None, redirect(url_for("account.sign_in", next=next_path or request.path),
                              code=303)
    return customer, None


def sign_in(customer: Customer) -> None:
    sessions.end(session.pop(SESSION_KEY, None))        # a sign-in over an older one
    lifetime = dt.timedelta(days=float(current_app.config["CUSTOMER_SESSION_DAYS"]))
    session[SESSION_KEY] = sessions.start(customer, lifetime)
    session.permanent = True
    g.customer = customer


def sign_out() -> None:
    sessions.end(session.pop(SESSION_KEY, None))
    g.customer = None
