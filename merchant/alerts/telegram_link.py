"""Linking the owner's Telegram chat: a one-time code the panel shows as a t.me deep link;
the bot receives `/start <code>` from the owner's private chat and the shop keeps that chat.

How the shop hears the `/start`: by a webhook when the shop has a public HTTPS address
(`flask --app merchant alerts telegram-webhook` calls setWebhook with a secret token Telegram
sends back in X-Telegram-Bot-Api-Secret-Token; web/telegram_webhook.py checks it), or else by
the worker polling getUpdates, only while a code is waiting (a short poll per pass, so the
notification lane is never held). getUpdates does not work while a webhook is set.

Codes (CONTRACTS.md section 5): secrets.token_urlsafe(24), only their sha256 is stored, good
for LINK_CODE_MINUTES and once: the conditional UPDATE that marks one used decides.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from merchant.alerts import preferences, texts
from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import AlertLinkCode, AlertSettings, utcnow
from merchant.core.transactions import write_unit
from merchant.vendors import registry, telegram

log = logging.getLogger(__name__)

LINK_CODE_MINUTES = 10
LINKED, REFUSED, IGNORED = "linked", "refused", "ignored"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def bot() -> telegram.Bot | None:
    return telegram.bot(current_app.config, registry.http_session())


def new_code(actor: audit.Actor) -> tuple[str, str]:
    """A fresh code and its deep link (https://t.me/<bot>?start=<code>), audited.

    :raise telegram.TelegramError, telegram.Unreachable, telegram.AnswerLost: the bot's name
        could not be read (getMe, once: it is kept)."""
    username = _bot_username()
    code = secrets.token_urlsafe(24)
    now = utcnow()
    with write_unit():
        db.session.add(AlertLinkCode(code_hash=_hash(code), created_at=now,
                                     expires_at=now + dt.timedelta(minutes=LINK_CODE_MINUTES)))
        audit.record(actor, "alerts.telegram_code", "alerts", 1,
                     "Made a code to link a Telegram chat for alerts")
    return code, f"https://t.me/{username}?start={code}"


def _bot_username() -> str:
    row = preferences.row_for_update()
    if row.telegram_bot:
        name = row.telegram_bot
        db.session.commit()
        return name
    db.session.commit()
    found = bot()
    if found is None:
        raise telegram.TelegramError(401, "no MERCHANT_TELEGRAM_BOT_TOKEN is set")
    name = found.username()
    with write_unit():
        preferences.row_for_update().telegram_bot = name
    return name


def waiting(now: dt.datetime | None = None) -> bool:
    """Is a code waiting to be used (then the worker polls getUpdates)?"""
    now = now or utcnow()
    return db.session.scalar(sa.select(AlertLinkCode.code_hash).where(
        AlertLinkCode.used_at.is_(None), AlertLinkCode.expires_at > now).limit(1)) is not None


def handle_update(update: dict) -> str:
    """One Telegram update (from the webhook or getUpdates): LINKED when it was `/start` with
    a good code from a private chat, REFUSED for a wrong, used or expired code (the chat is
    told), IGNORED for anything else."""
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict):
        return IGNORED
    text = str(message.get("text") or "")
    chat, sender = message.get("chat") or {}, message.get("from") or {}
    if not text.startswith("/start") or chat.get("type") != "private" \
            or not isinstance(chat.get("id"), int):
        return IGNORED
    code = text.removeprefix("/start").strip()
    now = utcnow()
    with write_unit():
        used = db.session.execute(
            sa.update(AlertLinkCode)
            .where(AlertLinkCode.code_hash == _hash(code), AlertLinkCode.used_at.is_(None),
                   AlertLinkCode.expires_at > now)
            .values(used_at=now).execution_options(synchronize_session=False)).rowcount == 1
        if used:
            row = preferences.row_for_update()
            row.telegram_chat_id = chat["id"]
            row.telegram_user_id = sender.get("id") if isinstance(sender.get("id"), int) else None
            row.telegram_name = _name(chat, sender)
            row.updated_at = now
            audit.record(audit.Actor("telegram"), "alerts.telegram_linked", "alerts", 1,
                         f"Linked the Telegram chat of {row.telegram_name} for alerts")
    with texts.in_shop_language():
        reply = (_("This chat now gets the shop's alerts.") if used else
                 _("This code is wrong, used or expired. Make a new one on the Alerts page of "
                   "the panel."))
    _reply(chat["id"], reply)
    log.info("telegram: /start with %s code from chat %s", "a good" if used else "a bad",
             chat["id"])
    return LINKED if used else REFUSED


def _name(chat: dict, sender: dict) -> str:
    if chat.get("username"):
        return f"@{chat['username']}"[:120]
    names = (sender.get("first_name"), sender.get("last_name"))
    return " ".join(str(n) for n in names if n)[:120] or str(chat["id"])


def _reply(chat_id: int, text: str) -> None:
    """Best effort: the answer to a /start is a courtesy; the link does not depend on it."""
    found = bot()
    if found is None:
        return
    try:
        found.send_message(chat_id, text)
    except (telegram.TelegramError, telegram.Unreachable, telegram.AnswerLost) as exc:
        log.info("telegram: could not answer chat %s: %s", chat_id, exc)


def poll(now: dt.datetime | None = None) -> int:
    """While a code waits and no webhook is used: one short getUpdates; the updates handled.
    The offset is kept, so each update is read once."""
    if current_app.config.get("TELEGRAM_WEBHOOK") or not waiting(now):
        db.session.commit()
        return 0
    found = bot()
    if found is None:
        return 0
    row = db.session.get(AlertSettings, 1)
    offset = row.telegram_offset if row else 0
    db.session.commit()
    try:
        updates = found.updates(offset)
    except (telegram.TelegramError, telegram.Unreachable, telegram.AnswerLost) as exc:
        log.info("telegram: getUpdates failed: %s", exc)
        return 0
    handled = 0
    for update in sorted(updates, key=lambda u: u.get("update_id", 0)):
        update_id = update.get("update_id")
        if not isinstance(update_id, int) or update_id < offset:
            continue
        with write_unit():
            # Acknowledged first: an update that breaks the handler is not read again forever.
            db.session.execute(sa.update(AlertSettings).where(
                AlertSettings.id == 1, AlertSettings.telegram_offset <= update_id)
                .values(telegram_offset=update_id + 1))
        handle_update(update)
        handled += 1
    return handled


def webhook_secret() -> str:
    """The secret_token given to setWebhook (A-Za-z0-9_-, derived from SECRET_KEY)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"telegram-webhook", hashlib.sha256).hexdigest()


def webhook_secret_ok(given: str | None) -> bool:
    return hmac.compare_digest((given or "").encode(), webhook_secret().encode())


def set_webhook() -> str:
    """Point the bot's webhook at this shop; the URL set."""
    found = bot()
    if found is None:
        raise telegram.TelegramError(401, "no MERCHANT_TELEGRAM_BOT_TOKEN is set")
    url = str(current_app.config["PUBLIC_URL"]).rstrip("/") + "/telegram/webhook"
    found.set_webhook(url, webhook_secret())
    return url


def unlink(actor: audit.Actor) -> None:
    with write_unit():
        row = preferences.row_for_update()
        if row.telegram_chat_id is not None:
            audit.record(actor, "alerts.telegram_unlinked", "alerts", 1,
                         f"Unlinked the Telegram chat of {row.telegram_name} from alerts")
        row.telegram_chat_id = row.telegram_user_id = None
        row.telegram_name = ""
