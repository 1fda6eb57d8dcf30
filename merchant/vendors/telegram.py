"""The Telegram Bot API (core.telegram.org/bots/api), the few methods owner alerts use.

Every call is POST <api>/bot<token>/<method> with a JSON body; every answer is
{"ok": true, "result": ...} or {"ok": false, "error_code": N, "description": "...",
"parameters": {"retry_after": s}} (429: flood control, wait that long). Like Fonnte, Telegram
has no idempotency key: a request whose answer was lost may have sent the message (AnswerLost).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

DEFAULT_API_URL = "https://api.telegram.org"


class TelegramError(Exception):
    """Telegram answered `ok: false`. `retry_after`: seconds to wait (429), else None."""

    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(f"{code} {description}".strip())
        self.code = code
        self.retry_after = retry_after

    @property
    def permanent(self) -> bool:
        """A request that will never work as it is (a chat that is gone, a bot blocked by the
        user, a wrong token): 4xx other than 429."""
        return 400 <= self.code < 500 and self.code != 429


class Unreachable(Exception):
    """Telegram could not be reached: nothing was sent."""


class AnswerLost(Exception):
    """The request may have reached Telegram, but no answer came back."""


@dataclass(frozen=True)
class Bot:
    token: str
    api_url: str
    timeout: float
    session: requests.Session

    def call(self, method: str, http_timeout: float | None = None, **params: Any) -> Any:
        """Call `method`; its `result`.

        :raise TelegramError: Telegram said no.
        :raise Unreachable: nothing was sent.
        :raise AnswerLost: it may have been done.
        """
        url = f"{self.api_url.rstrip('/')}/bot{self.token}/{method}"
        try:
            response = self.session.post(url, json=params,
                                         timeout=http_timeout or self.timeout)
        except (requests.ConnectTimeout, requests.ConnectionError) as exc:
            if isinstance(exc, requests.ConnectTimeout) or _never_connected(exc):
                raise Unreachable(type(exc).__name__) from exc
            raise AnswerLost(type(exc).__name__) from exc
        except requests.RequestException as exc:
            raise AnswerLost(type(exc).__name__) from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            if response.status_code >= 500:
                raise Unreachable(f"HTTP {response.status_code}")   # a proxy's error page
            raise AnswerLost(f"HTTP {response.status_code} without Telegram's answer")
        if not answer["ok"]:
            parameters = answer.get("parameters") or {}
            retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
            raise TelegramError(int(answer.get("error_code") or response.status_code),
                                str(answer.get("description") or ""),
                                int(retry_after) if isinstance(retry_after, int) else None)
        return answer.get("result")

    def send_message(self, chat_id: int, text: str) -> int:
        """sendMessage, plain text (no parse mode: nothing to escape); the message's id."""
        result = self.call("sendMessage", chat_id=chat_id, text=text[:4096],
                           link_preview_options={"is_disabled": True})
        return int(result.get("message_id", 0)) if isinstance(result, dict) else 0

    def username(self) -> str:
        """getMe: the bot's @username, for its t.me link."""
        result = self.call("getMe")
        return str(result.get("username") or "") if isinstance(result, dict) else ""

    def updates(self, offset: int, timeout: int = 0) -> list[dict]:
        """getUpdates from `offset` (acknowledging earlier ones); only messages."""
        result = self.call("getUpdates", http_timeout=self.timeout + timeout, timeout=timeout,
                           offset=offset,
                           limit=100, allowed_updates=["message"])
        return [u for u in result or [] if isinstance(u, dict)]

    def set_webhook(self, url: str, secret_token: str) -> None:
        self.call("setWebhook", url=url, secret_token=secret_token,
                  allowed_updates=["message"], drop_pending_updates=False)

    def delete_webhook(self) -> None:
        self.call("deleteWebhook")


def _never_connected(exc: requests.ConnectionError) -> bool:
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)


def bot(config, session: requests.Session) -> Bot | None:
    """The bot, or None when no MERCHANT_TELEGRAM_BOT_TOKEN is set."""
    token = config.get("TELEGRAM_BOT_TOKEN")
    if not token:
        return None
    return Bot(token=str(token), api_url=str(config.get("TELEGRAM_API_URL") or DEFAULT_API_URL),
               timeout=float(config.get("TELEGRAM_TIMEOUT") or 10), session=session)
