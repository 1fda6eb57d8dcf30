"""Fonnte, the WhatsApp gateway (docs.fonnte.com): its send API, for receipts and owner alerts.

Fonnte has no idempotency key: a request whose answer was lost may have sent the message, and
callers decide what to do about it (AnswerLost).
"""
from __future__ import annotations

from dataclasses import dataclass

import requests
from urllib3.exceptions import NewConnectionError


class Refused(Exception):
    """Fonnte answered `status: false`: the message was not sent. Carries Fonnte's reason."""


class AnswerLost(Exception):
    """The request may have reached Fonnte, but no answer came back."""


@dataclass(frozen=True)
class Fonnte:
    """Fonnte's send API: POST form fields with the device token in Authorization."""
    token: str
    url: str
    timeout: float
    session: requests.Session

    def send(self, target: str, message: str) -> str:
        """Send one text message; Fonnte's message id (or "").

        :raise Refused: Fonnte said it did not send it.
        :raise AnswerLost: the request may have been sent, the answer never came.
        :raise requests.ConnectionError: Fonnte could not be reached (nothing was sent).
        """
        try:
            response = self.session.post(
                self.url, headers={"Authorization": self.token},
                # The number is already international ("62812..."): countryCode 0 tells Fonnte
                # not to rewrite a leading zero.
                data={"target": target, "message": message, "countryCode": "0"},
                timeout=self.timeout)
        except (requests.ConnectTimeout, requests.ConnectionError) as exc:
            if isinstance(exc, requests.ConnectTimeout) or never_connected(exc):
                raise
            raise AnswerLost(type(exc).__name__) from exc
        except requests.RequestException as exc:
            raise AnswerLost(type(exc).__name__) from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not isinstance(answer.get("status"), bool):
            raise AnswerLost(f"HTTP {response.status_code} without Fonnte's answer")
        if not answer["status"]:
            raise Refused(str(answer.get("reason") or "no reason given"))
        ids = answer.get("id")
        return str(ids[0] if isinstance(ids, list) and ids else ids or "")


def never_connected(exc: requests.ConnectionError) -> bool:
    """A connection refused or a name that does not resolve: no byte of the request left."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)


def gateway(config, session: requests.Session) -> Fonnte | None:
    """The Fonnte client, or None when WhatsApp is off (no MERCHANT_FONNTE_TOKEN)."""
    token = config.get("FONNTE_TOKEN")
    if not token:
        return None
    return Fonnte(token=token, url=config["FONNTE_URL"],
                  timeout=float(config.get("FONNTE_TIMEOUT") or 10),
                  session=session)
