"""Webhooks: the subscriptions of a hospital system, and its events queued in the outbox.

Subscribing and revoking are operations (audited, never committed: the request commits).
The receivers below turn the events the lower packages signal (a fiche signed, a case
scheduled, postponed or refused) into one outbox transmission per matching subscription, in
the event's own transaction: what is notified happened, and what happened is notified. The
delivery worker signs and POSTs them (rcp_app/delivery/webhook.py).

A notification names ids and API links only, never an identity: the client reads what it
needs with its token, under its scopes, and that reading is audited.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ..cases.models import Case
from ..core import audit, signals
from ..core.errors import Conflict, DomainError
from ..core.timeutil import utcnow
from ..delivery.outbox import enqueue_webhook
from ..extensions import db
from .models import EVENTS, ApiClient, WebhookSubscription

MAX_URL = 254  # transmissions.recipient_address
MAX_SUBSCRIPTIONS = 20
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")  # urlsplit lowercases it
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
API_ROOT = "/api/v1"
NOTICE_EVENTS = {
    "case_scheduled": "case.scheduled",
    "case_postponed": "case.postponed",
    "case_refused": "case.refused",
}


# --- subscriptions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscribed:
    subscription: WebhookSubscription
    secret: str  # shown once


def _refuse(message: str) -> NoReturn:
    raise DomainError(message, field="url")


def _host_is_valid(hostname: str) -> bool:
    """A DNS name (international ones through IDNA) or an IP address."""
    try:
        ipaddress.ip_address(hostname)
        return True
    except ValueError:
        pass
    try:
        ascii_name = hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return _HOST.fullmatch(ascii_name) is not None


def check_url(raw) -> str:
    """The URL as given, if a notification may be POSTed to it; French refusals otherwise."""
    url = raw if isinstance(raw, str) else ""
    if not url:
        _refuse("Indiquez l'adresse (URL) à laquelle envoyer les notifications.")
    if len(url) > MAX_URL:
        _refuse(f"L'adresse dépasse {MAX_URL} caractères.")
    if any(c.isspace() or not c.isprintable() for c in url):
        _refuse("L'adresse ne doit contenir ni espace ni caractère de contrôle.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:
        _refuse("Adresse invalide : vérifiez le nom d'hôte et le port.")
    if "@" in parts.netloc:
        _refuse(
            "L'adresse ne doit pas contenir d'identifiants (utilisateur:mot de passe@) : "
            "authentifiez les notifications par leur signature."
        )
    if not parts.hostname:
        _refuse("Adresse invalide : le nom d'hôte manque.")
    if not _host_is_valid(parts.hostname):
        _refuse(f"Adresse invalide : nom d'hôte incorrect « {parts.hostname} ».")
    if parts.fragment or url.endswith("#"):
        _refuse("L'adresse ne doit pas contenir de fragment (#).")
    scheme = parts.scheme.lower()
    if scheme == "https":
        return url
    local = parts.hostname in LOOPBACK and current_app.config["RCP_ENV"] != "production"
    if scheme == "http" and local:
        return url
    if scheme == "http":
        _refuse(
            "Adresse refusée : https:// est obligatoire (http:// n'est permis que vers la "
            "machine locale, hors production)."
        )
    _refuse("Adresse invalide : https:// attendu.")


def _check_events(events) -> list[str]:
    asked = list(dict.fromkeys(events or []))
    unknown = [event for event in asked if event not in EVENTS]
    if unknown:
        raise DomainError(f"Événement inconnu : {', '.join(map(str, unknown))}.", field="events")
    if not asked:
        raise DomainError("Choisissez au moins un événement.", field="events")
    return [event for event in EVENTS if event in asked]


def active_subscriptions(client: ApiClient):
    return (
        select(WebhookSubscription)
        .where(WebhookSubscription.client_id == client.id, WebhookSubscription.revoked_at.is_(None))
        .order_by(WebhookSubscription.id)
    )


def subscribe(client: ApiClient, url, events, now: datetime | None = None) -> Subscribed:
    url, events = check_url(url), _check_events(events)
    active = list(db.session.scalars(active_subscriptions(client)))
    if any(subscription.url == url for subscription in active):
        raise Conflict(
            "Un abonnement actif existe déjà pour cette adresse : révoquez-le avant d'en "
            "créer un autre.",
            field="url",
        )
    if len(active) >= MAX_SUBSCRIPTIONS:
        raise DomainError(
            f"{MAX_SUBSCRIPTIONS} abonnements actifs au plus par client : révoquez-en un."
        )
    secret = secrets.token_urlsafe(32)
    subscription = WebhookSubscription(
        client_id=client.id,
        url=url,
        events=" ".join(events),
        secret=secret,
        created_at=now or utcnow(),
    )
    db.session.add(subscription)
    db.session.flush()
    audit.record(
        "api.webhook_subscribed",
        "webhook_subscription",
        subscription.id,
        details={"client": client.client_id, "url": url, "events": events},
    )
    return Subscribed(subscription, secret)


def revoke(subscription: WebhookSubscription, now: datetime | None = None) -> None:
    """No new event is queued for it; those still queued fail without being sent."""
    subscription.revoked_at = now or utcnow()
    db.session.flush()
    audit.record(
        "api.webhook_revoked",
        "webhook_subscription",
        subscription.id,
        details={"client": subscription.client.client_id, "url": subscription.url},
    )


# --- events -> outbox -------------------------------------------------------------------------


def _subscribers(establishment_id: int, event: str) -> list[WebhookSubscription]:
    """Active subscriptions to ``event`` of the establishment's active clients that still hold
    the « webhooks » scope (an administrator may have withdrawn it)."""
    rows = db.session.scalars(
        select(WebhookSubscription)
        .join(ApiClient, ApiClient.id == WebhookSubscription.client_id)
        .where(
            ApiClient.establishment_id == establishment_id,
            ApiClient.revoked_at.is_(None),
            WebhookSubscription.revoked_at.is_(None),
            # A coarse filter in SQL; the exact test on the word list is below.
            WebhookSubscription.events.contains(event, autoescape=True),
        )
        .options(contains_eager(WebhookSubscription.client))
        .order_by(WebhookSubscription.id)
    )
    return [
        row
        for row in rows
        if event in row.events.split() and "webhooks" in row.client.scopes.split()
    ]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def _queue(event: str, kind: str, case: Case, occurred_at: datetime, data: dict, **fields):
    subscriptions = _subscribers(case.rcp.establishment_id, event)
    if not subscriptions:
        return
    event_id = str(uuid.uuid4())
    payload = json.dumps(
        {"id": event_id, "type": event, "occurred_at": _iso(occurred_at), "data": data},
        separators=(",", ":"),
    )
    rows = [
        enqueue_webhook(
            kind,
            subscription.id,
            subscription.url,
            payload,
            event_id,
            occurred_at,
            patient_id=case.patient_id,
            **fields,
        )
        for subscription in subscriptions
    ]
    db.session.flush()
    audit.record(
        "delivery.enqueue_webhook",
        "case",
        case.id,
        patient_id=case.patient_id,
        details={
            "event": event,
            "event_id": event_id,
            "transmissions": [[row.id, row.subscription_id] for row in rows],
        },
    )


def _case_links(case: Case, session_id: int | None) -> dict:
    links = {
        "case": f"{API_ROOT}/cases/{case.id}",
        "patient": f"{API_ROOT}/patients/{case.patient_id}",
    }
    if session_id is not None:
        links["session"] = f"{API_ROOT}/sessions/{session_id}"
    return links


@signals.fiche_signed.connect
def _fiche_signed(version, *, case, rcp, now) -> None:
    event = "fiche.signed" if version.version == 1 else "fiche.amended"
    fiche = version.fiche
    base = f"{API_ROOT}/fiches/{fiche.id}"
    data = {
        "case_id": case.id,
        "patient_id": case.patient_id,
        "session_id": fiche.session_id,
        "fiche_id": fiche.id,
        "version": version.version,
        "links": {
            **_case_links(case, fiche.session_id),
            "fiche": base,
            "pdf": f"{base}/versions/{version.version}/pdf",
            "cda": f"{base}/versions/{version.version}/cda",
            "fhir": f"{base}/versions/{version.version}/fhir",
        },
    }
    _queue(event, "fiche", case, now, data, fiche_version=version)


@signals.notification_recorded.connect
def _notification_recorded(notification, *, recipient, patient_id) -> None:
    event = NOTICE_EVENTS.get(notification.kind)
    if event is None or notification.case_id is None:
        return  # an agenda published concerns no case: no webhook event
    case = db.session.get(Case, notification.case_id)
    data = {
        "case_id": case.id,
        "patient_id": case.patient_id,
        "session_id": notification.session_id,
        "links": _case_links(case, notification.session_id),
    }
    _queue(event, notification.kind, case, notification.created_at, data, notification=notification)
