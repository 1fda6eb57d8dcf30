"""The owner's admins page: who can sign in, with which role; add, change, deactivate, sign out."""
from __future__ import annotations

from flask import flash, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from merchant.core import audit
from merchant.staff import admins
from merchant.web.admin import ROLE_LABELS, bp, owner_only, redirect_to
from merchant.web.admin.users_forms import ActionForm, AddAdminForm, RoleForm


def _page(add_form: AddAdminForm | None = None, error: str | None = None, status: int = 200):
    return render_template("admin/users/list.html", admins=admins.all_admins(),
                           add_form=add_form or AddAdminForm(formdata=None), error=error,
                           role_form=RoleForm(formdata=None)), status


def _done(message: str):
    flash(message)
    return redirect_to(url_for("admin.users"))


@bp.get("/users")
@owner_only
def users():
    """Every admin: role, authenticator, last sign-in, active; and the form to add one."""
    return _page()


@bp.post("/users")
@owner_only
def add_user():
    """Add an admin with a temporary password the owner passes on."""
    form = AddAdminForm()
    if not form.validate_on_submit():
        return _page(add_form=form, status=422)
    try:
        admin = admins.create(form.email.data, form.password.data, form.role.data,
                              actor=audit.Actor.of(current_user), temporary=True)
    except admins.AdminError as exc:
        return _page(add_form=form, error=str(exc), status=422)
    return _done(_("Added %(email)s (%(role)s). Give them the temporary password; they choose "
                   "their own when they first sign in.", email=admin.email,
                   role=ROLE_LABELS[admin.role]))


def _act(change, *args, success: str):
    """Run one change on an admin after the CSRF check; a refusal is shown on the page."""
    if not ActionForm().validate_on_submit():
        return _page(error=_("This form was open too long. Reload the page and try again."),
                     status=400)
    try:
        admin = change(audit.Actor.of(current_user), *args)
    except admins.AdminError as exc:
        return _page(error=str(exc), status=409)
    return _done(str(success) % {"email": admin.email, "role": ROLE_LABELS[admin.role]})


@bp.post("/users/<int:admin_id>/role")
@owner_only
def set_role(admin_id):
    """Make an admin owner or staff."""
    form = RoleForm()
    if not form.validate_on_submit():
        return _page(error=_("Choose owner or staff."), status=422)
    return _act(admins.set_role, admin_id, form.role.data, success=_l("%(email)s is now %(role)s."))


@bp.post("/users/<int:admin_id>/deactivate")
@owner_only
def deactivate(admin_id):
    """Stop an admin from signing in, and end their sessions now."""
    return _act(admins.set_active, admin_id, False,
                success=_l("Deactivated %(email)s: they are signed out and cannot sign in."))


@bp.post("/users/<int:admin_id>/reactivate")
@owner_only
def reactivate(admin_id):
    """Let a deactivated admin sign in again."""
    return _act(admins.set_active, admin_id, True,
                success=_l("Reactivated %(email)s: they can sign in again."))


@bp.post("/users/<int:admin_id>/sign-out")
@owner_only
def sign_out_everywhere(admin_id):
    """End every session of an admin (a lost laptop, a shared computer)."""
    return _act(admins.sign_out_everywhere, admin_id,
                success=_l("Signed %(email)s out everywhere: each browser must sign in again."))


@bp.post("/users/<int:admin_id>/two-factor-off")
@owner_only
def reset_two_factor(admin_id):
    """Turn off another admin's authenticator app (they lost their phone)."""
    return _act(admins.reset_two_factor, admin_id,
                success=_l("Turned off %(email)s's authenticator app: they sign in with the "
                           "password and can set up a new app under My account."))
