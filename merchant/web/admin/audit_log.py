"""The audit log page: every admin action, newest first, filtered by who, what and which thing."""
from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from merchant.core import audit
from merchant.core.validation import bounded_id
from merchant.staff import admins
from merchant.web.admin import bp, owner_only
from merchant.web.admin.users_forms import AuditFilterForm

PAGE_SIZE = 50
# Where each kind of target is shown in the panel: (endpoint, its URL parameter).
TARGET_PAGES = {
    "order": ("admin.order", "ref"),
    "product": ("admin.products_show", "product_id"),
    "package": ("admin.products_package_edit", "package_id"),
    "payment_method": ("admin.methods_edit", "method_id"),
    "settings": ("admin.settings", None),
    "admin": ("admin.users", None),
    "review": ("admin.reviews", None),
}


def target_url(entry) -> str | None:
    """The panel page of the entry's target, when there is one."""
    endpoint, param = TARGET_PAGES.get(entry.target_type, (None, None))
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **({param: entry.target_id} if param else {}))
    except (BuildError, ValueError):    # an id the route does not take (a slug, not a number)
        return None


@bp.get("/audit", endpoint="audit")
@owner_only
def audit_log():
    """Newest first, 50 a page; `before` continues below an entry id (keyset pagination)."""
    form = AuditFilterForm(request.args)
    form.actor.choices = ([SelectChoice("", _("Anyone"))]
                          + [SelectChoice(a.email) for a in admins.all_admins()]
                          + [SelectChoice(audit.CLI.name, _("the command line"))])
    form.target_type.choices = ([SelectChoice("", _("Anything"))]
                                + [SelectChoice(t) for t in audit.target_types()])
    for field in (form.actor, form.target_type):
        # A link from elsewhere may name a target or admin with no entries yet: filter anyway.
        if field.data and field.data not in {choice.value for choice in field.choices}:
            field.choices.append(SelectChoice(field.data))
    filters = {}
    if form.validate():
        filters = {name: (form[name].data or "").strip() or None
                   for name in ("actor", "action", "target_type", "target_id")}
    before = bounded_id(request.args.get("before"))
    entries, next_before = audit.search(**filters, before_id=before, limit=PAGE_SIZE)
    query = {k: v for k, v in filters.items() if v}
    return render_template("admin/users/audit.html", form=form, entries=entries,
                           next_before=next_before, first_page=before is None, query=query,
                           target_url=target_url, field_label=audit.field_label)
