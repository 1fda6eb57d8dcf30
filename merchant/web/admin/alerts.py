"""Alerts (owner only): which alerts go where, the Telegram chat, the limits, and the latest
messages sent."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from merchant.alerts import kinds, preferences, telegram_link
from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import AlertEpisode, AlertMessage
from merchant.vendors import telegram
from merchant.web.admin import bp, owner_only, redirect_to
from merchant.web.admin.alerts_forms import AlertsForm, box_name, form_data

RECENT = 20


@bp.route("/alerts", methods=["GET", "POST"])
@owner_only
def alerts():
    form = AlertsForm(data=form_data(preferences.current()))
    if form.validate_on_submit():
        preferences.update(form.channels(), form.values(), audit.Actor.of(current_user))
        flash(_("Alerts saved."))
        return redirect_to(url_for("admin.alerts"))
    return _page(form), 422 if form.errors else 200


@bp.post("/alerts/telegram/link")
@owner_only
def alerts_telegram_link():
    """A one-time code and its t.me link, shown on this answer only."""
    try:
        code, link = telegram_link.new_code(audit.Actor.of(current_user))
    except (telegram.TelegramError, telegram.Unreachable, telegram.AnswerLost) as exc:
        flash(_("Telegram could not be reached to make the link (%(error)s). Check "
                "MERCHANT_TELEGRAM_BOT_TOKEN and try again.", error=str(exc)[:200]))
        return redirect_to(url_for("admin.alerts"))
    return _page(AlertsForm(data=form_data(preferences.current())), code=code, link=link)


@bp.post("/alerts/telegram/unlink")
@owner_only
def alerts_telegram_unlink():
    telegram_link.unlink(audit.Actor.of(current_user))
    flash(_("Telegram is no longer linked: alerts are not sent there."))
    return redirect_to(url_for("admin.alerts"))


def _page(form: AlertsForm, code: str | None = None, link: str | None = None):
    recent = db.session.execute(
        sa.select(AlertMessage, AlertEpisode.kind)
        .join(AlertEpisode, AlertEpisode.id == AlertMessage.episode_id)
        .order_by(AlertMessage.id.desc()).limit(RECENT)).all()
    return render_template(
        "admin/alerts.html", form=form, kinds=kinds.KINDS, channels=preferences.CHANNELS,
        box=lambda kind, channel: getattr(form, box_name(kind, channel)),
        prefs=preferences.current(), usable=preferences.usable(), code=code, link=link,
        minutes=telegram_link.LINK_CODE_MINUTES, recent=recent,
        webhook=bool(current_app.config.get("TELEGRAM_WEBHOOK")))
