"""Webhook transmissions: an HTTPS POST of the stored JSON body, signed with HMAC-SHA256.

The signature covers ``f"{timestamp}.{body}"`` with the subscription's secret, the timestamp
being that of the attempt: a receiver checks both and refuses an old request replayed. The
X-RCP-Delivery header is the transmission's Message-ID, the same at every attempt, so that a
receiver can drop a duplicate (delivery is at least once, as for the e-mails).

The subscription is read by table name: delivery sits below the API package (which owns
``WebhookSubscription``) and must not import it. Outcomes are ``SendResult``s, as for SMTP:
2xx is sent; any other answer, a timeout or a network error is temporary (the worker's backoff
and maximum of attempts apply); a revoked subscription is permanent (nothing is sent).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import requests
from sqlalchemy import select

from ..extensions import db
from .smtp import SendResult

# Connect, read (seconds): a slow receiver must not hold the worker's batch.
TIMEOUT = (5, 10)
SIGNATURE_VERSION = "v1"
USER_AGENT = "RCP-Webhooks/1"
REVOKED = "Abonnement révoqué par le système de l'établissement : notification non envoyée."


@dataclass(frozen=True)
class Delivery:
    """Everything a POST needs, read in a transaction, then sent with none open."""

    url: str
    secret: str
    body: bytes
    event: str
    delivery_id: str
    revoked: bool


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def delivery_id(message_id: str) -> str:
    return message_id.strip("<>")


def load(transmission) -> Delivery | None:
    """The POST of ``transmission``; None when its subscription no longer exists."""
    table = db.metadata.tables["webhook_subscriptions"]
    row = db.session.execute(
        select(table.c.url, table.c.secret, table.c.revoked_at).where(
            table.c.id == transmission.subscription_id
        )
    ).first()
    if row is None:
        return None
    return Delivery(
        url=row.url,
        secret=row.secret,
        body=transmission.payload.encode("utf-8"),
        event=json.loads(transmission.payload).get("type", ""),
        delivery_id=delivery_id(transmission.message_id),
        revoked=row.revoked_at is not None,
    )


def revoked(subscription_id: int) -> bool:
    table = db.metadata.tables["webhook_subscriptions"]
    revoked_at = db.session.execute(
        select(table.c.revoked_at).where(table.c.id == subscription_id)
    ).scalar_one_or_none()
    return revoked_at is not None


def headers(delivery: Delivery, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-RCP-Event": delivery.event,
        "X-RCP-Delivery": delivery.delivery_id,
        "X-RCP-Timestamp": str(timestamp),
        "X-RCP-Signature": signature(delivery.secret, timestamp, delivery.body),
    }


class WebhookSender:
    """One HTTP session per batch (connections kept alive between POSTs to the same host)."""

    def __init__(self) -> None:
        self._session: requests.Session | None = None

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def send(self, delivery: Delivery | None) -> SendResult:
        if delivery is None or delivery.revoked:
            return SendResult("permanent", REVOKED, None, "validation")
        if self._session is None:
            self._session = requests.Session()
        # Unix seconds of this attempt (a retry is signed anew), never a simulated clock.
        timestamp = int(time.time())
        try:
            response = self._session.post(
                delivery.url,
                data=delivery.body,
                headers=headers(delivery, timestamp),
                timeout=TIMEOUT,
                allow_redirects=False,
                stream=True,  # the answer's body is not read: only its status matters
            )
        except requests.RequestException as error:
            return SendResult("temporary", _network_detail(error, delivery.url), None, "connect")
        with response:
            return _result(response, delivery.url)


def _result(response: requests.Response, url: str) -> SendResult:
    code = response.status_code
    answer = f"{code} {response.reason or ''}".strip()
    if 200 <= code < 300:
        return SendResult("sent", f"Notification acceptée par {url} : HTTP {answer}", code, "data")
    if 300 <= code < 400:
        detail = (
            f"Le système destinataire répond par une redirection (HTTP {answer}), qui n'est pas "
            "suivie : l'adresse de l'abonnement doit être corrigée (nouvel abonnement)."
        )
    elif code in (408, 429) or code >= 500:
        detail = f"Refus temporaire du système destinataire {url} : HTTP {answer}."
    else:
        detail = f"Refus du système destinataire {url} : HTTP {answer}."
    return SendResult("temporary", detail, code, "data")


def _network_detail(error: requests.RequestException, url: str) -> str:
    if isinstance(error, requests.exceptions.SSLError):
        return f"Échec de la négociation TLS avec {url} : certificat du serveur à vérifier."
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return f"Délai de connexion dépassé ({TIMEOUT[0]} s) vers {url}."
    if isinstance(error, requests.exceptions.ReadTimeout):
        return (
            f"Pas de réponse de {url} en {TIMEOUT[1]} s ; la notification a pu être reçue "
            "malgré tout (doublon possible au prochain essai, même X-RCP-Delivery)."
        )
    if isinstance(error, requests.exceptions.ConnectionError):
        return f"Connexion impossible à {url} : serveur arrêté, injoignable ou port incorrect."
    return f"Erreur HTTP avec {url} : {type(error).__name__}."
