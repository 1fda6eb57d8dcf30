"""Sign in (password, then the authenticator code when the admin has one), sign out, and the
one-time setup link that creates the shop's first owner."""
from __future__ import annotations

import datetime as dt
import math
import time
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_user

from merchant.core.extensions import db, limiter, login_manager
from merchant.core.models import AdminUser
from merchant.staff import admins, two_factor
from merchant.web.admin import OPEN_ENDPOINTS, SESSION_TOKEN, bp, sign_out
from merchant.web.admin.auth_forms import CodeForm, LoginForm, RecoveryForm, SetupForm

PENDING_SECONDS = 300      # between a right password and the authenticator code


@login_manager.user_loader
def load_admin(user_id: str):
    return admins.load(user_id, session.get(SESSION_TOKEN))


def _login_limit():
    return current_app.config["RATELIMIT_ADMIN_LOGIN"]


def _login_email_key():
    """Attempts per admin email, wherever they come from (guessing one account's password)."""
    raw = request.form.get("email") or ""
    try:
        email = admins.normalize_email(raw)     # the spelling authenticate() looks up
    except admins.AdminError:
        email = raw.strip().lower()
    return "admin-login:" + email


def _pending_admin_key():
    """Code attempts per admin waiting at the second step, from any number of addresses."""
    return "admin-code:" + str((session.get("admin_pending") or {}).get("id", ""))


def _safe_next(target: str | None) -> str:
    """Only a path inside the panel: never an open redirect to another site."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin"):
        return url_for("admin.home")
    return target


def _finish_login(admin: AdminUser, next_url: str | None):
    session.pop("admin_pending", None)
    admins.end_session(session.pop(SESSION_TOKEN, None))    # a sign-in over an older one
    lifetime = dt.timedelta(hours=float(current_app.config["ADMIN_SESSION_HOURS"]))
    session[SESSION_TOKEN] = admins.start_session(admin, lifetime)
    login_user(admin)
    session["admin_since"] = session["admin_seen"] = time.time()
    admins.signed_in(admin)
    return redirect(_safe_next(next_url), code=303)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_email_key)
def login():
    """Email and password; then the authenticator code, when the admin has turned it on."""
    if not admins.any_admin():
        return render_template("admin/no_admin.html")
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        admin = admins.authenticate(form.email.data, form.password.data)
        if admin is None:
            error = _("That email and password do not match an admin of this shop.")
        elif admin.totp_secret:
            session["admin_pending"] = {"id": admin.id, "epoch": admin.session_epoch,
                                        "at": time.time(), "next": request.args.get("next")}
            return redirect(url_for("admin.login_code"), code=303)
        else:
            return _finish_login(admin, request.args.get("next"))
    if request.args.get("expired"):
        flash(_("Your session ended. Sign in again."))
    status = 422 if error or form.errors else 200
    return render_template("admin/login.html", form=form, error=error), status


def _pending_admin() -> AdminUser | None:
    """The admin whose right password was typed in this browser in the last 5 minutes."""
    pending = session.get("admin_pending") or {}
    admin = db.session.get(AdminUser, pending.get("id", 0)) if pending else None
    if (admin is None or not admin.active or admin.session_epoch != pending.get("epoch")
            or time.time() - pending.get("at", 0) > PENDING_SECONDS):
        session.pop("admin_pending", None)
        return None
    return admin


def _back_to_password():
    flash(_("Sign in again: the code step waits 5 minutes at most."))
    return redirect(url_for("admin.login"), code=303)


def _code_page(form=None, recovery_form=None, error=None, recovery_error=None):
    form = form or CodeForm(formdata=None)
    recovery_form = recovery_form or RecoveryForm(formdata=None)
    refused = error or recovery_error or form.errors or recovery_form.errors
    return render_template("admin/login_code.html", form=form, recovery_form=recovery_form,
                           error=error, recovery_error=recovery_error), 422 if refused else 200


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_admin_key)
def login_code():
    """The second step: the 6-digit code from the admin's authenticator app."""
    admin = _pending_admin()
    if admin is None:
        return _back_to_password()
    form = CodeForm()
    if not form.validate_on_submit():
        return _code_page(form)
    if two_factor.check(admin, form.code.data):
        return _finish_login(admin, session["admin_pending"].get("next"))
    return _code_page(form, error=_("That code is not right, or it was used already. Type the "
                                    "newest code your app shows."))


@bp.post("/login/recovery")
@limiter.limit(_login_limit)
@limiter.limit(_login_limit, key_func=_pending_admin_key)
def login_recovery():
    """The second step with a recovery code instead (the phone is lost); each works once."""
    admin = _pending_admin()
    if admin is None:
        return _back_to_password()
    form = RecoveryForm()
    if not form.validate_on_submit():
        return _code_page(recovery_form=form)
    if two_factor.use_recovery_code(admin, form.recovery.data):
        return _finish_login(admin, session["admin_pending"].get("next"))
    return _code_page(recovery_form=form, recovery_error=_(
        "That recovery code is not right, or it was used already. Each code works once."))


@bp.post("/logout")
def logout():
    sign_out()
    flash(_("You are signed out."))
    return redirect(url_for("admin.login"), code=303)


@bp.route("/setup/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def setup(token):
    """The one-time link `make run` prints while the shop has no admin: creates the owner."""
    if not admins.setup_token_valid(token):
        return render_template("admin/setup_used.html"), 404
    form = SetupForm()
    error = None
    if form.validate_on_submit():
        try:
            admin = admins.claim_setup(token, form.email.data, form.password.data)
        except admins.AdminError as exc:
            error = str(exc)
        else:
            flash(_("Welcome! Your shop is yours. Start with the payment methods and the "
                    "catalog."))
            return _finish_login(admin, url_for("admin.home"))
    status = 422 if error or form.errors else 200
    return render_template("admin/setup.html", form=form, error=error), status


def _minutes_to_wait() -> int:
    """Whole minutes until the limit this request broke lets it through again (at least 1)."""
    limit = limiter.current_limit
    if limit is None:
        return 1
    # The store counts in whole seconds, so reset_at can be up to a second past the window:
    # never say more than the window itself ("16 minutes" for a 15-minute limit).
    seconds = min(limit.reset_at - time.time(), limit.limit.get_expiry())
    return max(1, math.ceil(seconds / 60))


@bp.errorhandler(429)
def too_many_attempts(error):
    """Sign-in rate limit: say so on the sign-in page, and for how long; other limited forms
    get a plain page."""
    minutes = _minutes_to_wait()
    if request.endpoint not in OPEN_ENDPOINTS:
        return render_template("admin/users/too_many.html", minutes=minutes), 429
    message = ngettext("Too many sign-in attempts. Try again in %(num)d minute.",
                       "Too many sign-in attempts. Try again in %(num)d minutes.", minutes)
    return render_template("admin/login.html", form=LoginForm(), error=message), 429
