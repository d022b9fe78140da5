"""/api/v1/webhooks: a client subscribes to events, lists and revokes its subscriptions.

The secret that signs the notifications is returned once, by the creation; the list never
shows it. A client sees and revokes only its own subscriptions (another's: 404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import current_app, jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from ...core.patient_data import no_patient_data
from ...extensions import db
from .. import webhooks
from ..guard import api_call, current_client
from ..models import EVENTS, WebhookSubscription
from ..spec import require_json, secured, spec
from ..views import bp
from .common import WRITE_ERRORS, Problem, not_found

Event = Literal[tuple(EVENTS)]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The length is checked by webhooks.check_url, whose French message names the limit.
    url: str = Field(
        description="Adresse https:// qui recevra les notifications (POST JSON signé)",
        json_schema_extra={"maxLength": webhooks.MAX_URL},
    )
    events: list[Event] = Field(
        min_length=1, max_length=len(EVENTS), description="Événements à notifier"
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[Event]
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="Clé HMAC-SHA256 des signatures (X-RCP-Signature) : affichée cette fois "
        "seulement, à conserver"
    )


class WebhookList(BaseModel):
    items: list[WebhookOut]


def represent(subscription: WebhookSubscription) -> dict:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "events": subscription.event_list,
        "created_at": subscription.created_at.isoformat(timespec="seconds") + "Z",
    }


@bp.post("/webhooks")
@no_patient_data
@api_call("webhooks")
@spec.validate(
    json=WebhookIn,
    resp=Response(HTTP_201=WebhookCreated, HTTP_400=Problem, **WRITE_ERRORS),
    tags=["Webhooks"],
    security=secured("webhooks"),
)
def webhook_create(json: WebhookIn):
    """S'abonner à des événements (la clé de signature n'est donnée qu'ici).

    Chaque événement est envoyé par POST à l'adresse donnée, signé (HMAC-SHA256) avec la clé
    renvoyée, et réessayé avec un délai croissant tant que le système ne répond pas 2xx.
    """
    require_json(json)
    created = webhooks.subscribe(current_client(), json.url, json.events)
    response = jsonify({**represent(created.subscription), "secret": created.secret})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/webhooks")
@no_patient_data
@api_call("webhooks")
@spec.validate(
    resp=Response(HTTP_200=WebhookList, HTTP_401=Problem, HTTP_403=Problem),
    tags=["Webhooks"],
    security=secured("webhooks"),
)
def webhook_list():
    """Les abonnements actifs de ce client (sans leur clé)."""
    rows = db.session.scalars(webhooks.active_subscriptions(current_client()))
    return jsonify(items=[represent(row) for row in rows])


@bp.delete("/webhooks/<int:subscription_id>")
@no_patient_data
@api_call("webhooks")
@spec.validate(
    resp=Response(HTTP_204=None, HTTP_401=Problem, HTTP_403=Problem, HTTP_404=Problem),
    tags=["Webhooks"],
    security=secured("webhooks"),
)
def webhook_delete(subscription_id: int):
    """Révoquer un abonnement (les notifications encore en attente ne partent plus)."""
    subscription = db.session.scalar(
        webhooks.active_subscriptions(current_client())
        .where(WebhookSubscription.id == subscription_id)
        .with_for_update()
    )
    if subscription is None:
        not_found("Abonnement inconnu (ou déjà révoqué).")
    webhooks.revoke(subscription)
    return current_app.response_class(status=204)
