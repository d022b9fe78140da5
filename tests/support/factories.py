"""Factories for the main objects. Each one flushes and commits inside the test transaction."""

from __future__ import annotations

import hashlib
import io
import itertools
import uuid
from datetime import date, time, timedelta
from pathlib import Path

from rcp_app.auth.models import User
from rcp_app.auth.passwords import hash_password
from rcp_app.cases.models import Attachment, Case
from rcp_app.core.text import search_key
from rcp_app.core.timeutil import utcnow
from rcp_app.directory.models import Establishment, Professional, Rcp, RcpRequiredSpecialty
from rcp_app.extensions import db
from rcp_app.meetings.models import MeetingSession
from rcp_app.patients import ins
from rcp_app.patients.models import Patient

PASSWORD = "Motdepasse-de-test-42"
GP_SPECIALTY = "G15_10/SM26"
_PASSWORD_HASH = hash_password(PASSWORD)  # Argon2 is slow on purpose: hash once per run.
_counter = itertools.count(1)


def rpps_with_key(body10: str) -> str:
    """An 11-digit RPPS whose last digit is a Luhn key."""
    total = 0
    for index, char in enumerate(reversed(body10 + "0")):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return body10 + str((10 - total % 10) % 10)


class Factories:
    def __init__(self, app):
        self.app = app
        # The users logged in by the ``login`` fixture with ``team=True`` (rcp_app/access): the
        # physician registered the patients and cases the test builds, the coordinator runs
        # every establishment it builds. Tests of the access rules build their relationships
        # explicitly instead (``login(..., team=False)``).
        self.acting_physician: User | None = None
        self.acting_users: list[User] = []
        self._placeholder_creators: set[int] = set()
        self._patients: set[int] = set()

    def _save(self, obj):
        with self.app.app_context():
            db.session.add(obj)
            db.session.commit()
            db.session.refresh(obj)
            db.session.expunge(obj)
        return obj

    def user(self, role: str = "admin", **fields) -> User:
        n = next(_counter)
        values = {
            "username": f"{role}{n}",
            "email": f"{role}{n}@rcp.test",
            "display_name": f"Utilisateur {role} {n}",
            "role": role,
            "password_hash": _PASSWORD_HASH,
            "created_at": utcnow(),
            "session_token": f"tok{n}",
        }
        values.update(fields)
        return self._save(User(**values))

    def enrol(self, user: User) -> None:
        """Make ``user`` part of what the test builds (see ``__init__``), before and after."""
        from rcp_app.access.models import CoordinatorScope

        self.acting_users.append(user)
        with self.app.app_context():
            if user.role == "coordinator":
                for establishment_id in db.session.scalars(db.select(Establishment.id)):
                    db.session.add(
                        CoordinatorScope(user_id=user.id, establishment_id=establishment_id)
                    )
            if user.role == "physician" and self.acting_physician is None:
                self.acting_physician = user
                if self._placeholder_creators:
                    db.session.execute(
                        db.update(Case)
                        .where(Case.created_by_id.in_(self._placeholder_creators))
                        .values(created_by_id=user.id)
                    )
            if user.role in ("physician", "coordinator") and self._patients:
                db.session.execute(
                    db.update(Patient)
                    .where(Patient.id.in_(self._patients), Patient.created_by_id.is_(None))
                    .values(created_by_id=user.id)
                )
            db.session.commit()

    def _scope_new_establishment(self, establishment: Establishment) -> None:
        from rcp_app.access.models import CoordinatorScope

        for user in self.acting_users:
            if user.role == "coordinator":
                self._save(CoordinatorScope(user_id=user.id, establishment_id=establishment.id))

    def establishment(self, **fields) -> Establishment:
        n = next(_counter)
        values = {
            "name": f"Centre hospitalier n° {n}",
            "finess": f"{750000000 + n:09d}",
            "city": "Paris",
        }
        values.update(fields)
        establishment = self._save(Establishment(**values))
        self._scope_new_establishment(establishment)
        return establishment

    def professional(self, **fields) -> Professional:
        n = next(_counter)
        values = {
            "rpps": rpps_with_key(f"1{n:09d}"),
            "title": "Dr",
            "last_name": "Lefèvre",
            "first_name": "Élise",
            "specialty_code": "G15_10/SM36",
            "mssante_address": f"elise.lefevre{n}@demo.mssante.fr",
        }
        values.update(fields)
        values.setdefault("last_name_key", search_key(values["last_name"]))
        return self._save(Professional(**values))

    def rcp(self, required_specialties=(), **fields) -> Rcp:
        n = next(_counter)
        if "establishment_id" not in fields:
            fields["establishment_id"] = self.establishment().id
        values = {
            "name": f"RCP sein n° {n}",
            "national_id": f"RCP-TEST-{n}",
            "nature": "organ",
            "appareil_code": "76752008",
            "weekday": 1,
            "start_time": time(14, 0),
            "place": "Salle Curie",
            "created_at": utcnow(),
        }
        values.update(fields)
        rcp = Rcp(**values)
        rcp.required_specialties = [
            RcpRequiredSpecialty(specialty_code=c) for c in required_specialties
        ]
        return self._save(rcp)

    def patient(self, **fields) -> Patient:
        n = next(_counter)
        birth = fields.pop("birth_date", date(1956, 4, 12))
        sex = fields.pop("sex", "F")
        values = {
            "birth_name": "DUPONT",
            "birth_first_names": "Marie Hélène",
            "first_birth_first_name": "Marie",
            "sex": sex,
            "birth_date": birth,
            "birthplace_code": "75056",
            "identity_status": "QUAL",
            "ins_matricule": ins.make_matricule(
                "2" if sex == "F" else "1", birth.year, birth.month, "75", "056", n % 1000
            ),
            "ins_oid": ins.OID_TEST_NIR,
            "ipp": f"IPP{n:06d}",
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
        if self.acting_users:
            values["created_by_id"] = self.acting_users[0].id
        values.update(fields)
        values.setdefault("birth_name_key", search_key(values["birth_name"]))
        values.setdefault("used_name_key", search_key(values.get("used_name")) or None)
        values.setdefault("first_name_key", search_key(values["first_birth_first_name"]))
        patient = self._save(Patient(**values))
        self._patients.add(patient.id)
        return patient

    def session(self, rcp_id: int, **fields) -> MeetingSession:
        """A planned session of the RCP, two weeks ahead (deadline 48 h before) by default."""
        default = utcnow().replace(microsecond=0) + timedelta(days=14, minutes=next(_counter))
        starts = fields.pop("starts_at", default)
        values = {
            "rcp_id": rcp_id,
            "starts_at": starts,
            "deadline_at": starts - timedelta(hours=48),
            "place": "Salle Curie",
            "capacity": 20,
            "status": "planned",
            "created_at": utcnow(),
        }
        values.update(fields)
        return self._save(MeetingSession(**values))

    def case(self, **fields) -> Case:
        """A draft case (patient, RCP, session, requester and creator made when not given)."""
        if "rcp_id" not in fields:
            fields["rcp_id"] = self.rcp().id
        if "session_id" not in fields:
            fields["session_id"] = self.session(fields["rcp_id"]).id
        if "patient_id" not in fields:
            fields["patient_id"] = self.patient().id
        if "requester_id" not in fields:
            fields["requester_id"] = self.professional().id
        if "created_by_id" not in fields:
            if self.acting_physician is not None:
                fields["created_by_id"] = self.acting_physician.id
            else:
                placeholder = self.user(role="physician")
                self._placeholder_creators.add(placeholder.id)
                fields["created_by_id"] = placeholder.id
        now = utcnow()
        values = {
            "status": "draft",
            "nature": "organ",
            "appareil_code": "76752008",
            "created_at": now,
            "updated_at": now,
            "question": "Quel traitement adjuvant ?",
            "synthesis": "Patiente de 70 ans, carcinome canalaire infiltrant du sein gauche.",
        }
        values.update(fields)
        return self._save(Case(**values))

    def attachment(
        self, case_id: int, uploaded_by_id: int, data: bytes | None = None, **fields
    ) -> Attachment:
        """A PDF attachment, with its file written where the app stores attachments."""
        data = data if data is not None else pdf_bytes()
        digest = hashlib.sha256(data).hexdigest()
        values = {
            "case_id": case_id,
            "kind": "pathology",
            "original_name": "compte-rendu.pdf",
            "storage_key": f"{digest[:2]}/{uuid.uuid4().hex}",
            "sha256": digest,
            "size_bytes": len(data),
            "uploaded_by_id": uploaded_by_id,
            "uploaded_at": utcnow(),
        }
        values.update(fields)
        path = Path(self.app.config["RCP_ATTACHMENTS_DIR"]) / values["storage_key"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self._save(Attachment(**values))

    def attendance(self, session_id: int, professional_id: int | None = None, **fields):
        """A professional present at a session (on site, quorum member by default)."""
        from rcp_app.attendance.models import Attendance

        if professional_id is None:
            professional_id = self.professional().id
        values = {
            "session_id": session_id,
            "professional_id": professional_id,
            "mode": "on_site",
            "quorum_member": True,
            "arrived_at": utcnow(),
        }
        values.update(fields)
        return self._save(Attendance(**values))

    def submitted_case(self, **fields) -> Case:
        """A submitted case (question, synthesis, GP "unknown", submission time)."""
        values = {"status": "submitted", "gp_unknown": True, "submitted_at": utcnow()}
        values.update(fields)
        return self.case(**values)

    def agenda_item(self, session_id: int, case_id: int | None = None, **fields):
        """A case on the session's agenda (a new scheduled case unless ``case_id``)."""
        from rcp_app.meetings.models import AgendaItem

        with self.app.app_context():
            session = db.session.get(MeetingSession, session_id)
            rcp_id = session.rcp_id
            position = 1 + len(
                db.session.scalars(
                    db.select(AgendaItem.id).where(AgendaItem.session_id == session_id)
                ).all()
            )
        if case_id is None:
            case_id = self.submitted_case(
                rcp_id=rcp_id, session_id=session_id, status="scheduled"
            ).id
        values = {
            "session_id": session_id,
            "case_id": case_id,
            "position": position,
            "mode": "discussed",
            "estimated_minutes": 5,
            "added_at": utcnow(),
        }
        values.update(fields)
        return self._save(AgendaItem(**values))

    # --- care teams (rcp_app/access): who is linked to whom ------------------------------------

    def physician(self, **professional_fields) -> User:
        """A physician account linked to a new directory professional (``professional_id``):
        the care-team rules go through the professional."""
        professional = self.professional(**professional_fields)
        return self.user(role="physician", professional_id=professional.id)

    def rcp_member(self, rcp_id: int, professional_id: int):
        """A usual participant of the RCP."""
        from rcp_app.directory.models import RcpMember

        return self._save(RcpMember(rcp_id=rcp_id, professional_id=professional_id))

    def rcp_validator(self, rcp_id: int, professional_id: int):
        """A physician the RCP delegates fiche validation to."""
        from rcp_app.directory.models import RcpValidator

        return self._save(RcpValidator(rcp_id=rcp_id, professional_id=professional_id))

    def coordinator_scope(
        self, user_id: int, *, rcp_id: int | None = None, establishment_id: int | None = None
    ):
        """An RCP, or every RCP of an establishment, that a coordinator runs."""
        from rcp_app.access.models import CoordinatorScope

        return self._save(
            CoordinatorScope(user_id=user_id, rcp_id=rcp_id, establishment_id=establishment_id)
        )

    def correspondent(self, case_id: int, professional_id: int) -> None:
        """A correspondent (copy recipient) named on the case."""
        from rcp_app.cases.models import case_correspondents

        with self.app.app_context():
            db.session.execute(
                case_correspondents.insert().values(
                    case_id=case_id, professional_id=professional_id
                )
            )
            db.session.commit()

    def exceptional_access(
        self, user_id: int, patient_id: int, *, opened_at=None, hours: float = 12, **fields
    ):
        """An exceptional access (« bris de glace »), inserted as a row: open for ``hours`` from
        ``opened_at`` (now by default); a past ``opened_at`` gives an expired one."""
        from rcp_app.access.models import ExceptionalAccess

        opened = opened_at if opened_at is not None else utcnow()
        values = {
            "user_id": user_id,
            "patient_id": patient_id,
            "reason": "emergency",
            "reason_text": "",
            "opened_at": opened,
            "expires_at": opened + timedelta(hours=hours),
        }
        values.update(fields)
        return self._save(ExceptionalAccess(**values))


def pdf_bytes(pages: int = 1) -> bytes:
    """A small valid PDF (blank pages), made with pypdf."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def stored_fiche_version(fiche, validated_by_id: int, *, code: str, document_id: str, pdf: bytes):
    """Version 1 of ``fiche`` with placeholder documents (not a real signed PDF): for tests that
    need a stored fiche to route to, not to read or verify. Its snapshot is a complete sample,
    so that what is built from the snapshot alone (the FHIR Bundle) can be served."""
    import json

    from rcp_app.fiches.models import FicheDocument, FicheVersion, document_rows
    from tests.fiches.samples import organ_snapshot

    version = FicheVersion(
        fiche=fiche,
        version=1,
        document_id=document_id,
        verification_code=code,
        snapshot=json.dumps(organ_snapshot()),
        validated_at=utcnow(),
        validated_by_id=validated_by_id,
        signer="CN=Cachet RCP (TEST)",
    )
    version.documents.extend(
        document_rows(FicheDocument, {"pdf": pdf, "cda": b"<ClinicalDocument/>"})
    )
    return version


def stored_care_plan(fiche, user_id: int, *, document_id: str, pdf: bytes, state="amending"):
    """The programme of ``fiche`` with version 1 stored from the sample snapshot and placeholder
    documents (for tests that route to it), left « amending » so that its edit page shows."""
    import json

    from rcp_app.fiches.models import document_rows
    from rcp_app.pps.draft import empty
    from rcp_app.pps.models import CarePlan, CarePlanDocument, CarePlanVersion
    from tests.pps.samples import pps_snapshot

    draft = {
        **empty(),
        "treatments": [
            {
                "kind": "387713003",
                "source": "proposal",
                "description": "Opération",
                "planned_start": None,
                "place": "",
                "team": "",
            }
        ],
        "referent_phone": "01 23 45 67 89",
    }
    plan = CarePlan(
        set_id=str(uuid.uuid5(uuid.UUID(document_id), "set")),
        decision=fiche.decision,
        fiche=fiche,
        case_id=fiche.case_id,
        patient_id=fiche.patient_id,
        state=state,
        draft=json.dumps(draft),
        current_version=1,
        created_at=utcnow(),
        created_by_id=user_id,
        updated_at=utcnow(),
        updated_by_id=user_id,
    )
    version = CarePlanVersion(
        care_plan=plan,
        version=1,
        document_id=document_id,
        snapshot=json.dumps(pps_snapshot()),
        validated_at=utcnow(),
        validated_by_id=user_id,
        signer="CN=Cachet RCP (TEST)",
    )
    version.documents.extend(
        document_rows(CarePlanDocument, {"pdf": pdf, "cda": b"<ClinicalDocument/>"})
    )
    return plan, version
