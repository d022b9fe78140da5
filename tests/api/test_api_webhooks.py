"""Webhooks: subscriptions, events queued in the outbox, signed POSTs to a real local server,
verified with the snippet the documentation gives."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from rcp_app.agenda import operations as agenda
from rcp_app.auth.models import User
from rcp_app.core.audit import AuditEntry
from rcp_app.core.errors import Conflict
from rcp_app.core.timeutil import utcnow
from rcp_app.delivery import webhook, worker
from rcp_app.delivery.models import Transmission
from rcp_app.delivery.webhook import REVOKED
from rcp_app.directory.models import Establishment, Rcp
from rcp_app.extensions import db
from rcp_app.fiches import operations as fiche_ops
from rcp_app.fiches.models import Fiche
from rcp_app.meetings.models import AgendaItem, MeetingSession, Notification
from rcp_app.patients.models import Patient
from tests.delivery.conftest import _smtp_server, smtp_server  # noqa: F401 (fixtures)
from tests.fiches.support import CHEMOTHERAPY, READY, build_world
from tests.meetings_support import audits, get, pool_case, simple_rcp

ALL_EVENTS = ["case.scheduled", "case.postponed", "case.refused", "fiche.signed", "fiche.amended"]
MARKER = "<!-- webhook-verification -->"
# The snippet is read where the documentation lives: the project's README once pasted there.
DOCUMENTS = (Path(__file__).resolve().parents[2] / "README.md",)
# The e-mails of the same events go to the delivery tests' SMTP server.
pytestmark = pytest.mark.usefixtures("smtp_server")


def documented_verify():
    """The ``verify`` function of the documentation, executed as a reader would copy it."""
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        found = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)```", text, re.S)
        if found:
            namespace: dict = {}
            exec(compile(found.group(1), str(path), "exec"), namespace)  # noqa: S102
            return namespace["verify"]
    raise AssertionError(f"No verification snippet ({MARKER}) in {DOCUMENTS}.")


# --- a real HTTP receiver on loopback ---------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: object  # email.message.Message: case-insensitive, as a web framework's
    body: bytes


class Receiver:
    """Records every POST; answers the queued statuses first, then 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: deque[int] = deque()
        self.delay = 0.0  # seconds before answering
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(Received(self.path, self.headers, body))
                time.sleep(receiver.delay)
                self.send_response(receiver.statuses.popleft() if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/rcp/evenements") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


# --- helpers ----------------------------------------------------------------------------------


def establishment_of(app, rcp_id: int) -> Establishment:
    with app.app_context():
        return get(app, Establishment, db.session.get(Rcp, rcp_id).establishment_id)


def subscribe(caller, url: str, events=ALL_EVENTS) -> dict:
    response = caller.post("/api/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def sign(app, world) -> None:
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        fiche_ops.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()


def amend(app, world) -> None:
    with app.app_context():
        fiche = db.session.scalar(select(Fiche).where(Fiche.case_id == world.case_id))
        corrected = {**READY, "proposal_code": CHEMOTHERAPY, "proposal_details": "Chimiothérapie"}
        user = db.session.get(User, world.validator_user_id)
        fiche_ops.amend(fiche, user, corrected, "Erreur de saisie de la proposition", 1)
        db.session.commit()


def deliver(app, now=None):
    with app.app_context():
        return worker.deliver_batch(50, "worker-test", now=now)


def webhook_rows(app) -> list[Transmission]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(Transmission)
                .where(Transmission.channel == "webhook")
                .order_by(Transmission.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.fixture
def world(app, make):
    return build_world(app, make)


# --- fiches -----------------------------------------------------------------------------------


def test_a_signed_fiche_is_posted_signed_and_verifiable(app, api, world, receiver):
    caller = api(scopes=("webhooks",), establishment=establishment_of(app, world.rcp_id))
    created = subscribe(caller, receiver.url(), ["fiche.signed", "case.scheduled"])
    secret = created["secret"]
    assert len(secret) >= 40 and created["events"] == ["case.scheduled", "fiche.signed"]

    sign(app, world)
    [row] = webhook_rows(app)
    assert (row.kind, row.recipient_role, row.status) == ("fiche", "api_client", "pending")
    assert row.recipient_address == receiver.url() and row.patient_id == world.patient_id
    assert row.subscription_id == created["id"] and row.fiche_version_id is not None

    report = deliver(app)
    assert report.failed == 0 and report.retried == 0
    [sent] = webhook_rows(app)
    assert sent.status == "sent" and sent.attempts == 1
    [received] = receiver.received
    assert received.path == "/rcp/evenements"
    assert received.body == row.payload.encode()
    event = json.loads(received.body)
    assert event["type"] == "fiche.signed" and re.fullmatch(r"[0-9a-f-]{36}", event["id"])
    data = event["data"]
    fiche_id = data["fiche_id"]
    assert (data["case_id"], data["patient_id"], data["session_id"], data["version"]) == (
        world.case_id,
        world.patient_id,
        world.session_id,
        1,
    )
    assert data["links"] == {
        "case": f"/api/v1/cases/{world.case_id}",
        "patient": f"/api/v1/patients/{world.patient_id}",
        "session": f"/api/v1/sessions/{world.session_id}",
        "fiche": f"/api/v1/fiches/{fiche_id}",
        "pdf": f"/api/v1/fiches/{fiche_id}/versions/1/pdf",
        "cda": f"/api/v1/fiches/{fiche_id}/versions/1/cda",
        "fhir": f"/api/v1/fiches/{fiche_id}/versions/1/fhir",
    }
    patient = get(app, Patient, world.patient_id)
    assert patient.birth_name not in received.body.decode()  # ids only, no identity

    headers = received.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-RCP-Event"] == "fiche.signed"
    assert headers["X-RCP-Delivery"] == row.message_id.strip("<>")
    timestamp = int(headers["X-RCP-Timestamp"])
    assert headers["X-RCP-Signature"].startswith("v1=")

    verify = documented_verify()
    assert verify(secret, headers, received.body)
    assert not verify(secret, headers, received.body.replace(b'"version":1', b'"version":2'))
    assert not verify("une-autre-cle", headers, received.body)
    assert not verify(secret, headers, received.body, now=timestamp + 301)  # replayed later
    [entry] = [e for e in audits(app, "delivery.sent") if e.object_id == str(row.id)]
    assert "HTTP 200" in entry.details_dict()["answer"]


def test_an_amendment_is_fiche_amended(app, api, world, receiver):
    caller = api(scopes=("webhooks",), establishment=establishment_of(app, world.rcp_id))
    secret = subscribe(caller, receiver.url(), ["fiche.amended"])["secret"]
    sign(app, world)
    assert webhook_rows(app) == []  # version 1 is « signed », not subscribed to
    amend(app, world)
    [row] = webhook_rows(app)
    deliver(app)
    [received] = receiver.received
    assert received.headers["X-RCP-Event"] == "fiche.amended"
    assert json.loads(received.body)["data"]["version"] == 2
    assert documented_verify()(secret, received.headers, received.body)


def test_an_error_answer_is_retried_with_backoff_then_sent(app, api, world, receiver):
    caller = api(scopes=("webhooks",), establishment=establishment_of(app, world.rcp_id))
    secret = subscribe(caller, receiver.url())["secret"]
    sign(app, world)
    receiver.statuses.append(500)
    deliver(app)
    [row] = webhook_rows(app)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "500" in row.last_error and row.next_attempt_at > row.created_at
    assert deliver(app).claimed == 0  # backing off: not due yet
    assert len(receiver.received) == 1

    deliver(app, now=utcnow() + timedelta(hours=1))
    [row] = webhook_rows(app)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    first, second = receiver.received
    assert first.body == second.body
    assert first.headers["X-RCP-Delivery"] == second.headers["X-RCP-Delivery"]
    verify = documented_verify()
    assert verify(secret, first.headers, first.body) and verify(secret, second.headers, second.body)


def test_giving_up_after_the_maximum_of_attempts(app, api, world, receiver):
    caller = api(scopes=("webhooks",), establishment=establishment_of(app, world.rcp_id))
    subscribe(caller, receiver.url(), ["fiche.signed"])
    sign(app, world)
    receiver.statuses.extend([302, 503])
    app.config["RCP_DELIVERY_MAX_ATTEMPTS"] = 2
    try:
        deliver(app)
        [row] = webhook_rows(app)
        assert row.status == "pending" and "redirection" in row.last_error  # not followed
        deliver(app, now=utcnow() + timedelta(days=1))
    finally:
        app.config["RCP_DELIVERY_MAX_ATTEMPTS"] = 8
    [row] = webhook_rows(app)
    assert row.status == "failed" and row.last_error.startswith("Abandon après 2 tentatives")
    assert "503" in row.last_error and len(receiver.received) == 2


def test_a_revoked_subscription_gets_nothing(app, api, world, receiver):
    caller = api(scopes=("webhooks",), establishment=establishment_of(app, world.rcp_id))
    early = subscribe(caller, receiver.url("/avant"))
    late = subscribe(caller, receiver.url("/apres"))
    assert caller.delete(f"/api/v1/webhooks/{early['id']}").status_code == 204
    sign(app, world)
    [row] = webhook_rows(app)  # none for the subscription revoked before the event
    assert row.subscription_id == late["id"]

    assert caller.delete(f"/api/v1/webhooks/{late['id']}").status_code == 204
    deliver(app)
    [row] = webhook_rows(app)
    assert row.status == "failed" and row.last_error == REVOKED
    assert receiver.received == []
    assert caller.get("/api/v1/webhooks").get_json() == {"items": []}
    with app.app_context(), pytest.raises(Conflict, match="révoqué"):
        worker.resend(db.session.get(Transmission, row.id))  # the coordinator's button


def test_another_establishments_client_receives_nothing(app, api, make, world, receiver):
    elsewhere = api(scopes=("webhooks",), establishment=make.establishment())
    subscribe(elsewhere, receiver.url())
    withdrawn = api(scopes=("webhooks",), establishment=establishment_of(app, world.rcp_id))
    subscribe(withdrawn, receiver.url("/sans-portee"))
    with app.app_context():  # an administrator withdrew the scope: its subscriptions stop
        from rcp_app.api.models import ApiClient

        db.session.get(ApiClient, withdrawn.client_pk).scopes = "cases:read"
        db.session.commit()
    sign(app, world)
    assert webhook_rows(app) == []
    deliver(app)
    assert receiver.received == []


def test_no_answer_or_no_server_is_retried(app, api, world, receiver, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/rcp"
    caller = api(scopes=("webhooks",), establishment=establishment_of(app, world.rcp_id))
    slow, down = subscribe(caller, receiver.url(), ["fiche.signed"]), subscribe(caller, closed)
    monkeypatch.setattr(webhook, "TIMEOUT", (5, 0.2))
    receiver.delay = 1.0
    sign(app, world)
    deliver(app)
    rows = {row.subscription_id: row for row in webhook_rows(app)}
    assert {row.status for row in rows.values()} == {"pending"}
    assert "Pas de réponse" in rows[slow["id"]].last_error
    assert "Connexion impossible" in rows[down["id"]].last_error


# --- agenda events ----------------------------------------------------------------------------


def test_case_scheduled_and_refused_are_posted(app, api, make, receiver):
    establishment = make.establishment()
    rcp = simple_rcp(app, make, establishment_id=establishment.id)
    session = make.session(rcp.id)
    scheduled, refused = pool_case(make, rcp.id, session.id), pool_case(make, rcp.id, session.id)
    caller = api(scopes=("webhooks",), establishment=establishment)
    secret = subscribe(caller, receiver.url(), ["case.scheduled", "case.refused"])["secret"]
    receiver.statuses.append(503)  # the webhook fails; the e-mail of the notice does not
    with app.app_context():
        agenda.assign(db.session.get(MeetingSession, session.id), scheduled.id)
        agenda.refuse(db.session.get(MeetingSession, session.id), refused.id, "Dossier incomplet")
        db.session.commit()
    rows = webhook_rows(app)
    assert [row.kind for row in rows] == ["case_scheduled", "case_refused"]
    assert all(row.notification_id is not None for row in rows)

    deliver(app)
    with app.app_context():
        notice = db.session.get(Notification, rows[0].notification_id)
        assert notice.status == "sent"  # its own e-mail's state, not the failed webhook's
    deliver(app, now=utcnow() + timedelta(hours=1))
    assert {row.status for row in webhook_rows(app)} == {"sent"}
    events = {r.headers["X-RCP-Event"]: r for r in receiver.received}
    assert set(events) == {"case.scheduled", "case.refused"}
    body = json.loads(events["case.refused"].body)
    assert body["data"] == {
        "case_id": refused.id,
        "patient_id": refused.patient_id,
        "session_id": session.id,
        "links": {
            "case": f"/api/v1/cases/{refused.id}",
            "patient": f"/api/v1/patients/{refused.patient_id}",
            "session": f"/api/v1/sessions/{session.id}",
        },
    }
    assert "incomplet" not in events["case.refused"].body.decode()  # no free text
    verify = documented_verify()
    assert all(verify(secret, r.headers, r.body) for r in receiver.received)


# --- the subscription endpoints ---------------------------------------------------------------


def test_list_shows_own_active_subscriptions_without_secret(app, api, make):
    establishment = make.establishment()
    caller = api(scopes=("webhooks",), establishment=establishment)
    neighbour = api(scopes=("webhooks",), establishment=establishment)
    mine = subscribe(caller, "https://dpi.hopital.test/rcp", ["fiche.signed"])
    theirs = subscribe(neighbour, "https://autre.hopital.test/rcp", ["case.refused"])
    listed = caller.get("/api/v1/webhooks").get_json()["items"]
    assert listed == [{key: mine[key] for key in ("id", "url", "events", "created_at")}]
    assert caller.delete(f"/api/v1/webhooks/{theirs['id']}").status_code == 404
    assert caller.delete(f"/api/v1/webhooks/{mine['id']}").status_code == 204
    assert caller.delete(f"/api/v1/webhooks/{mine['id']}").status_code == 404
    [subscribed] = [
        e for e in audits(app, "api.webhook_subscribed") if e.object_id == str(mine["id"])
    ]
    assert subscribed.details_dict()["url"] == "https://dpi.hopital.test/rcp"
    [revoked] = audits(app, "api.webhook_revoked")
    assert revoked.object_id == str(mine["id"])
    with app.app_context():
        details = db.session.scalars(select(AuditEntry.details)).all()
    assert not any(mine["secret"] in text or theirs["secret"] in text for text in details)


def test_same_url_twice_is_a_conflict_and_scope_is_required(api):
    caller = api(scopes=("webhooks",))
    subscribe(caller, "https://dpi.hopital.test/rcp", ["fiche.signed"])
    again = caller.post(
        "/api/v1/webhooks", json={"url": "https://dpi.hopital.test/rcp", "events": ALL_EVENTS}
    )
    assert again.status_code == 409 and "existe déjà" in again.get_json()["detail"]
    other = api(scopes=("cases:read",))
    refused = other.post(
        "/api/v1/webhooks", json={"url": "https://x.test/", "events": ["fiche.signed"]}
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("url", "events", "field", "message"),
    [
        ("http://dpi.hopital.test/rcp", ["fiche.signed"], "url", "https:// est obligatoire"),
        ("ftp://dpi.hopital.test/rcp", ["fiche.signed"], "url", "https:// attendu"),
        ("https://dpi:motdepasse@hopital.test/", ["fiche.signed"], "url", "identifiants"),
        ("https://" + "a" * 250 + ".fr", ["fiche.signed"], "url", "254 caractères"),
        ("https://dpi.hopital .test/", ["fiche.signed"], "url", "espace"),
        ("https:///rcp", ["fiche.signed"], "url", "nom d'hôte manque"),
        ("https://dpi<hopital>.test/", ["fiche.signed"], "url", "nom d'hôte incorrect"),
        ("https://dpi.hopital.test:99999/", ["fiche.signed"], "url", "port"),
        ("https://dpi.hopital.test/#x", ["fiche.signed"], "url", "fragment"),
        ("", ["fiche.signed"], "url", "Indiquez l'adresse"),
        ("https://dpi.hopital.test/", ["case.deleted"], "events[0]", "Valeur inconnue"),
        ("https://dpi.hopital.test/", [], "events", "Pas assez d'éléments"),
    ],
)
def test_bad_subscriptions_are_refused_in_french(api, url, events, field, message):
    caller = api(scopes=("webhooks",))
    response = caller.post("/api/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert any(e["field"] == field and message in e["message"] for e in errors), errors
    assert caller.get("/api/v1/webhooks").get_json() == {"items": []}


def test_plain_http_to_loopback_only_outside_production(app, api):
    caller = api(scopes=("webhooks",))
    assert subscribe(caller, "http://localhost:8080/rcp", ["fiche.signed"])["id"]
    assert subscribe(caller, "http://[::1]:8080/rcp", ["fiche.signed"])["id"]
    assert subscribe(caller, "https://dpi.hôpital-valmont.fr/rcp", ["fiche.signed"])["id"]
    saved, app.config["RCP_ENV"] = app.config["RCP_ENV"], "production"
    try:
        response = caller.post(
            "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/rcp", "events": ["fiche.signed"]}
        )
    finally:
        app.config["RCP_ENV"] = saved
    assert response.status_code == 422
    assert "https:// est obligatoire" in response.get_json()["errors"][0]["message"]
