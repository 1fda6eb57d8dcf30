"""My account, for every admin: change the password, turn the authenticator app on or off.

While an admin sets up the authenticator, the new secret waits in their session (signed, and
shown to them anyway as the QR code) until a code from the app proves it was scanned.
"""
from __future__ import annotations

from flask import current_app, flash, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from merchant.core import audit, shop_settings
from merchant.core.extensions import limiter
from merchant.staff import admins, two_factor
from merchant.web import qr
from merchant.web.admin import bp, redirect_to, sign_out
from merchant.web.admin.auth_forms import CodeForm
from merchant.web.admin.users_forms import ActionForm, PasswordForm

PENDING_SECRET = "admin_totp_pending"


def _attempt_limit():
    return current_app.config["RATELIMIT_ADMIN_LOGIN"]


def _admin_key():
    """Password and code guesses per admin: a borrowed session cannot try passwords at will."""
    return f"admin-account:{getattr(current_user, 'id', '')}"


def _anonymous():
    return not current_user.is_authenticated     # require_admin sends them to sign in


def _me():
    """The signed-in admin itself (login_user must not be handed the current_user proxy)."""
    return current_user._get_current_object()


def _pending_secret() -> str | None:
    """The secret being set up, if this admin (not another one in the same browser) started it."""
    pending = session.get(PENDING_SECRET) or {}
    if pending.get("id") != current_user.id or current_user.totp_secret:
        return None
    return pending.get("secret")


def _grouped(secret: str) -> str:
    """The key in groups of four, easier to copy by hand: ABCD EFGH ..."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _page(password_form=None, code_form=None, error=None, code_error=None, status=200,
          recovery_codes=None):
    secret = _pending_secret()
    enrol = None
    if secret:
        uri = two_factor.uri(secret, current_user.email, shop_settings.current().shop_name)
        enrol = {"secret": _grouped(secret), "uri": uri, "qr": qr.svg(uri, scale=4)}
    codes_left = two_factor.recovery_codes_left(current_user) if current_user.totp_secret \
        else None
    return render_template("admin/users/account.html",
                           password_form=password_form or PasswordForm(formdata=None),
                           code_form=code_form or CodeForm(formdata=None),
                           start_form=ActionForm(formdata=None), enrol=enrol,
                           recovery_codes=recovery_codes, codes_left=codes_left,
                           error=error, code_error=code_error), status


@bp.get("/account")
def account():
    """Your password and your authenticator app."""
    return _page()


def _password_page(form=None, error=None, status=200):
    return render_template("admin/users/password.html",
                           password_form=form or PasswordForm(formdata=None),
                           error=error), status


def _password_refused(form, error=None):
    """Back to the form the admin used: the password page alone while theirs is temporary."""
    if current_user.must_change_password:
        return _password_page(form, error, 422)
    return _page(password_form=form, error=error, status=422)


@bp.get("/account/password")
def password():
    """The password form alone: where an admin with a temporary password is sent."""
    return _password_page()


@bp.post("/account/password")
@limiter.limit(_attempt_limit, key_func=_admin_key, exempt_when=_anonymous)
def change_password():
    """Change your password: your other sessions end, this one stays signed in."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return _password_refused(form)
    try:
        admin = admins.change_password(_me(), form.current.data, form.new.data)
    except admins.AdminError as exc:
        return _password_refused(form, str(exc))
    login_user(admin)       # this session carries the new epoch; the others no longer match
    flash(_("Password changed. Your other sessions were signed out."))
    return redirect_to(url_for("admin.account"))


@bp.post("/account/two-factor/new")
def start_two_factor():
    """A fresh secret to scan; the app is on only once a code from it is confirmed."""
    if not ActionForm().validate_on_submit():
        return _page(code_error=_("This page was open too long. Press the button again."),
                     status=400)
    if not current_user.totp_secret:
        session[PENDING_SECRET] = {"id": current_user.id, "secret": two_factor.new_secret()}
    return redirect_to(url_for("admin.account") + "#two-factor")


@bp.post("/account/two-factor/on")
@limiter.limit(_attempt_limit, key_func=_admin_key, exempt_when=_anonymous)
def enable_two_factor():
    """Confirm the code from the newly scanned app, turn it on, show the recovery codes."""
    form = CodeForm()
    secret = _pending_secret()
    if not secret:
        flash(_("Start again: press “Set up an authenticator app”."))
        return redirect_to(url_for("admin.account"))
    if not form.validate_on_submit():
        return _page(code_form=form, status=422)
    try:
        codes = two_factor.enable(_me(), secret, form.code.data)
    except two_factor.TwoFactorError as exc:
        return _page(code_form=form, code_error=str(exc), status=422)
    session.pop(PENDING_SECRET, None)
    flash(_("Authenticator app turned on: signing in now asks for its code."))
    return _page(recovery_codes=codes)      # shown this once, never again


@bp.post("/account/two-factor/off")
@limiter.limit(_attempt_limit, key_func=_admin_key, exempt_when=_anonymous)
def disable_two_factor():
    """Turn your authenticator app off, proven with a code from it."""
    form = CodeForm()
    if not form.validate_on_submit():
        return _page(code_form=form, status=422)
    try:
        two_factor.disable(_me(), form.code.data)
    except two_factor.TwoFactorError as exc:
        return _page(code_form=form, code_error=str(exc), status=422)
    flash(_("Authenticator app turned off: signing in asks for the password only."))
    return redirect_to(url_for("admin.account"))


@bp.post("/account/sign-out-everywhere")
def sign_out_everywhere_me():
    """End all your sessions, this one too (a lost phone, a stolen cookie)."""
    if not ActionForm().validate_on_submit():
        return _page(error=_("This page was open too long. Press the button again."),
                     status=400)
    admins.sign_out_everywhere(audit.Actor.of(current_user), current_user.id)
    sign_out()
    flash(_("You are signed out in every browser. Sign in again here."))
    return redirect_to(url_for("admin.login"))
