"""A world of care teams for tests/test_care_team_access.py: one patient P and every way of
being linked to them, plus users outside.

Built in two steps so that a list can be read before and after P exists: ``base_world`` (RCPs
X and Y, their people, session S of X, patient P2 and its case C2 in Y on session SY), then
``add_patient`` (P, its case C in X scheduled on S, the agenda line, an attachment, a
validated decision with its fiche sent to the GP, a stored message, an expired exceptional
access by another physician).

Relationships to P (issue 13, A):

- R referring physician of C; Q correspondent named on C; M usual participant of X; V
  validation delegate of X; K coordinating physician of X; A recorded present at S (not a
  member); CX coordinator of X; CE coordinator of X's establishment;
- outside: O physician member of Y only; CY coordinator of Y; G the GP of C (fiches only);
  D the data-protection officer; admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from rcp_app.core import audit
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from tests.support.factories import GP_SPECIALTY, Factories, stored_fiche_version

PATIENT_NAME = "VERMANDOIS"
PATIENT_FIRST_NAME = "Apolline"
# Texts only P's case holds: a page showing one of them shows P's clinical data.
CLINICAL_MARKERS = ("tumorectomie de Quimper", "suivie à Landerneau")
QUESTION = "Faut-il une radiothérapie après la tumorectomie de Quimper ?"
SYNTHESIS = "Patiente suivie à Landerneau pour un carcinome lobulaire du sein droit."

ROLE_OF = {
    "R": "physician",
    "Q": "physician",
    "M": "physician",
    "V": "physician",
    "K": "physician",
    "A": "physician",
    "CX": "coordinator",
    "CE": "coordinator",
    "O": "physician",
    "CY": "coordinator",
    "G": "gp",
    "D": "dpo",
    "admin": "admin",
}
RELATIONSHIPS = tuple(ROLE_OF)
IN_TEAM = frozenset({"R", "Q", "M", "V", "K", "A", "CX", "CE"})


@dataclass
class World:
    users: dict = field(default_factory=dict)  # relationship → User
    ids: dict = field(default_factory=dict)  # name → id (or message name)

    def __getitem__(self, key):
        return self.ids[key]


def base_world(make: Factories) -> World:
    world = World()
    users = world.users
    for name in ("R", "Q", "M", "V", "K", "A", "O"):
        users[name] = make.physician(last_name=f"Médecin {name}")
    users["G"] = make.user(
        role="gp", professional_id=make.professional(specialty_code=GP_SPECIALTY).id
    )
    users["D"] = make.user(role="dpo")
    users["admin"] = make.user(role="admin")

    establishment_x, establishment_y = make.establishment(), make.establishment()
    x = make.rcp(establishment_id=establishment_x.id, coordinator_id=users["K"].professional_id)
    y = make.rcp(
        establishment_id=establishment_y.id, coordinator_id=make.professional(last_name="KY").id
    )
    make.rcp_member(x.id, users["M"].professional_id)
    make.rcp_validator(x.id, users["V"].professional_id)
    make.rcp_member(y.id, users["O"].professional_id)
    make.rcp_member(y.id, make.professional(last_name="Membre Y").id)
    for name in ("CX", "CE", "CY"):
        users[name] = make.user(role="coordinator")
    make.coordinator_scope(users["CX"].id, rcp_id=x.id)
    make.coordinator_scope(users["CE"].id, establishment_id=establishment_x.id)
    make.coordinator_scope(users["CY"].id, rcp_id=y.id)

    session = make.session(x.id, status="in_progress")
    make.attendance(session.id, users["A"].professional_id)
    # Y's own patient and session: the outsiders' lists are not empty.
    session_y = make.session(y.id)
    p2 = make.patient(
        birth_name="AUTRERIVE", birth_first_names="Basile", first_birth_first_name="Basile", sex="M"
    )
    c2 = make.submitted_case(
        rcp_id=y.id, session_id=session_y.id, patient_id=p2.id, status="scheduled"
    )
    make.agenda_item(session_y.id, c2.id)
    world.ids.update(
        rcp=x.id,
        rcp_y=y.id,
        establishment=establishment_x.id,
        session=session.id,
        session_y=session_y.id,
        patient_2=p2.id,
        case_2=c2.id,
    )
    return world


def add_patient(app, make: Factories, world: World, mailbox_dir: Path | None = None) -> World:
    """P and everything about P: after this, the relationships of the docstring hold."""
    from rcp_app.decisions.models import Decision
    from rcp_app.delivery.models import Transmission
    from rcp_app.fiches.models import Fiche

    users = world.users
    patient = make.patient(
        birth_name=PATIENT_NAME,
        birth_first_names=PATIENT_FIRST_NAME,
        first_birth_first_name=PATIENT_FIRST_NAME,
    )
    author = make.physician(last_name="Auteur")
    case = make.submitted_case(
        rcp_id=world["rcp"],
        session_id=world["session"],
        patient_id=patient.id,
        status="scheduled",
        requester_id=users["R"].professional_id,
        created_by_id=author.id,
        gp_id=users["G"].professional_id,
        gp_unknown=False,
        question=QUESTION,
        synthesis=SYNTHESIS,
    )
    make.correspondent(case.id, users["Q"].professional_id)
    item = make.agenda_item(world["session"], case.id)
    attachment = make.attachment(case.id, author.id)
    # Another physician's exceptional access, long expired: a row for the review routes that
    # opens nothing (theirs is not one of the relationships tested).
    expired = make.exceptional_access(
        make.physician(last_name="Ancien").id,
        patient.id,
        opened_at=utcnow() - timedelta(days=3),
        reason="other",
        reason_text="Avis ponctuel",
    )
    message_id = "<care-team-world@rcp.test>"
    with app.app_context():
        decision = Decision(
            item_id=item.id, state="validated", outcome="discussed", updated_at=utcnow()
        )
        fiche = Fiche(
            set_id="6c0f4a8b-2d3e-4f9a-b7c8-d9e0f1a2b3c4",
            decision=decision,
            case_id=case.id,
            patient_id=patient.id,
            session_id=world["session"],
            created_at=utcnow(),
        )
        version = stored_fiche_version(
            fiche,
            author.id,
            code="M8RG-4NAQ-2UYF",
            document_id="1e5b3d2f-7a1c-4d9f-8b64-3c2f8e4d0e22",
            pdf=b"%PDF-1.7 care team",
        )
        transmission = Transmission(
            message_id=message_id,
            kind="fiche",
            recipient_role="gp",
            recipient_address="gp@rcp.test",
            professional_id=users["G"].professional_id,
            patient_id=patient.id,
            fiche_version=version,
            status="sent",
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
        db.session.add_all([decision, fiche, version, transmission])
        # An audit row naming P: the data-protection officer's log has P to show.
        audit.record("patient.view", "patients", patient.id, patient_id=patient.id)
        db.session.commit()
        fiche_id = fiche.id
    world.ids.update(
        patient=patient.id,
        case=case.id,
        item=item.id,
        attachment=attachment.id,
        fiche=fiche_id,
        access=expired.id,
        ipp=patient.ipp,
        ins_matricule=patient.ins_matricule,
        ins_oid=patient.ins_oid,
        birth_date=patient.birth_date.strftime("%d/%m/%Y"),
        sex=patient.sex,
    )
    if mailbox_dir is not None:
        world.ids["message"] = _store_message(mailbox_dir, message_id)
    return world


def _store_message(directory: Path, message_id: str) -> str:
    from rcp_app.delivery import mailbox

    mail = EmailMessage()
    mail["Message-ID"] = message_id
    mail["Subject"] = f"Fiche RCP — {PATIENT_NAME} {PATIENT_FIRST_NAME}"  # as sent
    mail.set_content(f"{PATIENT_NAME} {PATIENT_FIRST_NAME}\n", cte="quoted-printable")
    mail.add_attachment(
        f"{PATIENT_NAME} {PATIENT_FIRST_NAME}".encode(),
        maintype="text",
        subtype="plain",
        filename="fiche.txt",
    )
    stored = mailbox.store_message(directory, "rcp@rcp.test", ["gp@rcp.test"], mail.as_bytes(), 7)
    return stored.name
