"""A signed care programme (PPS) goes out through the outbox like a fiche: to the GP, the
regional DCC and (when on) the shared record; sent by the worker to a real SMTP server on
loopback, shown on the coordinators' dashboard and on the programme's page, resent on demand."""

from __future__ import annotations

import email
import io
import json
import zipfile
from email import policy

import pytest
from lxml import etree
from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.delivery import worker
from rcp_app.delivery.models import Transmission
from rcp_app.delivery.pps_message import PPS_CLASS_CODE, PPS_FORMAT_CODE, PPS_TYPE_CODE
from rcp_app.directory.models import Rcp
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche
from rcp_app.pps import operations as pps_ops
from rcp_app.pps.models import CarePlan
from tests.delivery.support import DCC, GP_SPECIALTY
from tests.delivery.test_worker import deliver
from tests.fiches.support import signed_world
from tests.meetings_support import audits

GP_ADDRESS = "luc.bernard@medecin.mssante.fr"
DMP_ADDRESS = "dmp@depot.dmp.mssante.fr"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
TYPE_SCHEME = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
CLASS_SCHEME = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
FORMAT_SCHEME = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
PATIENT_BIRTH_NAME = "DUPONT"  # the factories' patient (tests/support/factories.py)
_GP = object()  # « a GP with this address » by default


@pytest.fixture
def dmp_on(app):
    saved = {k: app.config[k] for k in ("RCP_DELIVER_TO_DMP", "RCP_DMP_ADDRESS")}
    app.config.update(RCP_DELIVER_TO_DMP=True, RCP_DMP_ADDRESS=DMP_ADDRESS)
    yield
    app.config.update(saved)


def signed_pps(app, make, *, dcc: str | None = DCC, gp_address=GP_ADDRESS, with_gp=True):
    """A fiche signed for a case, then its care programme opened and validated (version 1) by
    the referring physician through the PPS operations. Returns (world, plan id)."""
    requester = make.professional(last_name="Durand", first_name="Paul", phone="01 23 45 67 89")
    gp_fields = {}
    if with_gp:
        gp = make.professional(
            last_name="Bernard",
            first_name="Luc",
            specialty_code=GP_SPECIALTY,
            mssante_address=gp_address,
        )
        gp_fields = {"gp_id": gp.id, "gp_unknown": False}
    world = signed_world(
        app, make, rcp_fields={"dcc_address": dcc}, requester_id=requester.id, **gp_fields
    )
    physician = make.user(role="physician", professional_id=requester.id)
    with app.app_context():
        fiche = db.session.scalar(select(Fiche).where(Fiche.case_id == world.case_id))
        user = db.session.get(User, physician.id)
        plan = pps_ops.open_plan(fiche, user)
        pps_ops.validate(plan, user)
        db.session.commit()
        world.physician_user_id = physician.id
        return world, plan.id


def amend_pps(app, world, plan_id: int) -> None:
    with app.app_context():
        user = db.session.get(User, world.physician_user_id)
        plan = db.session.get(CarePlan, plan_id)
        pps_ops.start_amendment(plan, user, plan.lock_version)
        pps_ops.validate(plan, user, reason="Date de l'intervention avancée.", motive="GEN-176")
        db.session.commit()


def pps_rows(app) -> dict[str, Transmission]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(Transmission).where(Transmission.kind == "pps").order_by(Transmission.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
    return {row.recipient_role: row for row in rows}


def test_validating_queues_the_gp_and_the_dcc(app, make):
    world, plan_id = signed_pps(app, make)
    rows = pps_rows(app)
    assert set(rows) == {"gp", "dcc"}  # not the requester nor the correspondents: they wrote it
    assert rows["dcc"].recipient_address == DCC and rows["dcc"].professional_id is None
    assert rows["gp"].recipient_address == GP_ADDRESS
    assert all(r.status == "pending" and r.care_plan_version_id for r in rows.values())
    assert all(r.patient_id == world.patient_id for r in rows.values())
    ids = {r.message_id for r in rows.values()}
    assert len(ids) == 2 and all(i.startswith("<p.") and len(i) < 66 for i in ids)
    enqueued = [a for a in audits(app, "delivery.enqueue") if a.object_type == "care_plan"]
    assert [(a.object_id, a.patient_id) for a in enqueued] == [(str(plan_id), world.patient_id)]
    details = json.loads(enqueued[0].details)
    assert details["version"] == 1 and len(details["transmissions"]) == 2


def test_the_programme_page_lists_its_transmissions(app, make):
    _world, plan_id = signed_pps(app, make)
    with app.app_context():
        shown = pps_ops.transmissions_of(db.session.get(CarePlan, plan_id))
        assert {(t.recipient_role, t.care_plan_version.version) for t in shown} == {
            ("gp", 1),
            ("dcc", 1),
        }


def test_unknown_gp_gets_no_row_and_missing_addresses_fail_at_once(app, make):
    signed_pps(app, make, with_gp=False)
    assert set(pps_rows(app)) == {"dcc"}


def test_gp_without_address_and_no_dcc_are_failed_rows(app, make):
    signed_pps(app, make, dcc=None, gp_address=None)
    rows = pps_rows(app)
    assert rows["gp"].status == "failed" and "MSSanté" in rows["gp"].last_error
    assert rows["dcc"].status == "failed" and "DCC" in rows["dcc"].last_error


def test_shared_record_channel_when_enabled(app, make, dmp_on):
    signed_pps(app, make)
    rows = pps_rows(app)
    assert set(rows) == {"gp", "dcc", "patient_record"}
    assert rows["patient_record"].channel == "dmp"
    assert rows["patient_record"].recipient_address == DMP_ADDRESS


def _received(smtp_server, message_id: str):
    raw = next(m.data for m in smtp_server.messages if message_id.encode() in m.data)
    return email.message_from_bytes(raw, policy=policy.default)


def _metadata(message) -> etree._Element:
    archive = next(p for p in message.iter_attachments() if p.get_filename() == "IHE_XDM.ZIP")
    with zipfile.ZipFile(io.BytesIO(archive.get_content())) as opened:
        return etree.fromstring(opened.read("IHE_XDM/SUBSET01/METADATA.XML"))


def _code(metadata, scheme: str) -> tuple[str, str, str]:
    node = metadata.find(f".//{{{RIM}}}Classification[@classificationScheme='{scheme}']")
    coding = node.find(f"{{{RIM}}}Slot[@name='codingScheme']/{{{RIM}}}ValueList/{{{RIM}}}Value")
    name = node.find(f"{{{RIM}}}Name/{{{RIM}}}LocalizedString").get("value")
    return node.get("nodeRepresentation"), coding.text, name


def test_the_worker_sends_the_programme_with_its_archive(app, make, smtp_server, dmp_on):
    signed_pps(app, make)
    report = deliver(app)
    rows = pps_rows(app)
    assert report.failed == 0 and {r.status for r in rows.values()} == {"sent"}
    for row in rows.values():
        assert smtp_server.count(row.message_id) == 1
    message = _received(smtp_server, rows["gp"].message_id)
    subject = message["Subject"]
    assert subject.startswith("Programme personnalisé de soins — RCP") and "(version 1)" in subject
    assert PATIENT_BIRTH_NAME not in subject.upper()
    assert message["X-MSS-CODECDA"] == "18776-5"
    assert message["X-MSS-INS"] in ("O", "N")
    assert message["Disposition-Notification-To"]
    body = message.get_body(("plain",)).get_content()
    assert "programme personnalisé de soins" in body and "Dr Paul DURAND" in body
    assert PATIENT_BIRTH_NAME not in body.upper().replace("DURAND", "")
    assert "CANCER-PPS" in body and "code de vérification" not in body
    names = sorted(p.get_filename() for p in message.iter_attachments())
    assert (
        names[0] == "IHE_XDM.ZIP" and names[1].startswith("pps-") and names[1].endswith("-v1.pdf")
    )
    pdf = next(p for p in message.iter_attachments() if p.get_filename().endswith(".pdf"))
    assert pdf.get_content().startswith(b"%PDF")
    metadata = _metadata(message)
    assert _code(metadata, TYPE_SCHEME) == PPS_TYPE_CODE
    assert _code(metadata, CLASS_SCHEME) == PPS_CLASS_CODE
    assert _code(metadata, FORMAT_SCHEME) == PPS_FORMAT_CODE
    sent = [a for a in audits(app, "delivery.sent") if '"kind": "pps"' in a.details]
    assert len(sent) == 3


def test_amendment_replaces_the_previous_entry(app, make, smtp_server):
    world, plan_id = signed_pps(app, make)
    deliver(app)
    first = _metadata(_received(smtp_server, pps_rows(app)["gp"].message_id))
    first_entry = first.find(f".//{{{RIM}}}ExtrinsicObject").get("id")
    smtp_server.reset()
    amend_pps(app, world, plan_id)
    with app.app_context():
        versions = db.session.scalars(
            select(Transmission.care_plan_version_id).where(
                Transmission.kind == "pps", Transmission.status == "pending"
            )
        ).all()
    assert len(versions) == 2 and len(set(versions)) == 1  # version 2, GP and DCC
    deliver(app)
    second = _metadata(_received(smtp_server, pps_rows(app)["gp"].message_id))
    replaces = second.find(
        f".//{{{RIM}}}Association[@associationType='urn:ihe:iti:2007:AssociationType:RPLC']"
    )
    assert replaces is not None and replaces.get("targetObject") == first_entry


def test_resend_rereads_the_dcc_address_of_the_rcp(app, make, smtp_server):
    world, _plan_id = signed_pps(app, make, dcc=None)
    assert pps_rows(app)["dcc"].status == "failed"
    with app.app_context():
        db.session.get(Rcp, world.rcp_id).dcc_address = "nouveau.dcc@rcp-idf.mssante.fr"
        db.session.commit()
        worker.resend(db.session.get(Transmission, pps_rows(app)["dcc"].id))
        db.session.commit()
    row = pps_rows(app)["dcc"]
    assert row.status == "pending" and row.recipient_address == "nouveau.dcc@rcp-idf.mssante.fr"
    deliver(app)
    assert pps_rows(app)["dcc"].status == "sent" and smtp_server.count(row.message_id) == 1
    assert audits(app, "delivery.resend")


def test_dashboard_lists_the_programme_and_resends_it(app, make, login, client):
    _world, plan_id = signed_pps(app, make, gp_address=None)
    login("coordinator")
    page = client.get("/diffusion?etat=all").get_data(as_text=True)
    assert "Programme personnalisé de soins signé" in page
    assert f'href="/pps/{plan_id}"' in page
    failed = client.get("/diffusion?etat=failed").get_data(as_text=True)
    assert f'href="/pps/{plan_id}"' in failed  # the GP without address
    with app.app_context():
        rcp_id = db.session.scalar(select(Rcp.id))
    filtered = client.get(f"/diffusion?etat=all&rcp={rcp_id}").get_data(as_text=True)
    assert f'href="/pps/{plan_id}"' in filtered
    dcc = pps_rows(app)["dcc"]
    response = client.post(f"/diffusion/{dcc.id}/renvoyer", data={})
    assert response.status_code == 302
    assert any(
        f'"message_id": "{dcc.message_id}"' in a.details for a in audits(app, "delivery.resend")
    )


def test_a_coordinator_of_another_rcp_does_not_see_it(app, make, client):
    _world, plan_id = signed_pps(app, make)
    from rcp_app.access.models import CoordinatorScope
    from tests.support.factories import PASSWORD

    other = make.user(role="coordinator")
    elsewhere = make.establishment(name="Clinique d'ailleurs")
    with app.app_context():
        db.session.add(CoordinatorScope(user_id=other.id, establishment_id=elsewhere.id))
        db.session.commit()
    client.post("/connexion", data={"username": other.username, "password": PASSWORD})
    page = client.get("/diffusion?etat=all").get_data(as_text=True)
    assert f'href="/pps/{plan_id}"' not in page
    dcc = pps_rows(app)["dcc"]
    assert client.post(f"/diffusion/{dcc.id}/renvoyer", data={}).status_code == 403
