"""The delivery dashboard's filters: state, RCP, session, recipient, dates, patient.

GET parameters, all checked: a refused value gets a French message next to its field and is
ignored (never a 500), the others still apply. The patient search is the patients list's
(rcp_app/patients: name prefixes with accents ignored, or INS), on the indexed keys.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select
from wtforms import StringField
from wtforms.fields.choices import SelectChoice, SelectField
from wtforms.validators import Length, Optional

from ..core.converters import parse_id
from ..core.dates import parse_date
from ..core.forms import BaseForm
from ..core.text import search_key
from ..core.timeutil import format_date
from ..directory.models import Professional, Rcp
from ..extensions import db
from ..fiches.models import Fiche, FicheVersion
from ..meetings.models import MeetingSession, Notification
from ..meetings.operations import local_to_utc
from ..patients.models import Patient
from ..patients.operations import search_statement
from ..pps.models import CarePlan, CarePlanVersion
from .models import ROLES, Transmission

STATES = {
    "failed": "En échec",
    "late": "En retard",
    "pending": "En attente",
    "sent": "Envoyés, sans accusé",
    "acknowledged": "Accusés de lecture",
    "all": "Tous",
}
# A message not sent within this delay after its creation is late.
LATE_AFTER = timedelta(hours=1)
TEXT_MAX = 100
SESSIONS_LISTED = 200


def _text(label: str) -> StringField:
    return StringField(
        label,
        validators=[
            Optional(),
            Length(max=TEXT_MAX, message=f"{TEXT_MAX} caractères au plus."),
        ],
    )


def _select(label: str) -> SelectField:
    # Checked below, with a French message (WTForms' own would be « Not a valid choice »).
    return SelectField(label, validate_choice=False)


class DeliveryFilterForm(BaseForm):
    class Meta:
        csrf = False  # GET filters

    etat = _select("État")
    rcp = _select("RCP")
    seance = _select("Séance")
    role = _select("Rôle du destinataire")
    destinataire = _text("Destinataire (nom ou adresse)")
    patient = _text("Patient (nom, prénom ou INS)")
    du = _text("Créés du (jj/mm/aaaa)")
    au = _text("au (jj/mm/aaaa)")

    def __init__(self, formdata, default_state: str):
        super().__init__(formdata)
        self.default_state = default_state
        self.etat.choices = [SelectChoice(k, v) for k, v in STATES.items()]
        rcps = db.session.execute(select(Rcp.id, Rcp.name).order_by(Rcp.name))
        self.rcp.choices = [SelectChoice("", "Toutes")] + [
            SelectChoice(str(i), name) for i, name in rcps
        ]
        self.role.choices = [SelectChoice("", "Tous")] + [
            SelectChoice(k, v) for k, v in ROLES.items()
        ]
        self.values: dict = {}

    def check(self) -> dict:
        """The accepted filter values (``values``), after putting a message on each refused
        field. Call once."""
        self.validate()
        values: dict = {}
        state = self.etat.data or self.default_state
        if state not in STATES:
            self.etat.errors = [*self.etat.errors, "État inconnu : choisissez dans la liste."]
            state = self.default_state
        values["state"] = state
        self.etat.data = state

        rcp_raw = self.rcp.data or ""
        rcp_id = parse_id(rcp_raw) if rcp_raw else None
        if rcp_raw and (rcp_id is None or rcp_raw not in {c.value for c in self.rcp.choices}):
            self.rcp.errors = [*self.rcp.errors, "RCP inconnue : choisissez dans la liste."]
            rcp_id = None
        values["rcp_id"] = rcp_id

        session_raw = self.seance.data or ""
        session = None
        if session_raw:
            session_id = parse_id(session_raw)
            session = db.session.get(MeetingSession, session_id) if session_id else None
            if session is None or (rcp_id is not None and session.rcp_id != rcp_id):
                self.seance.errors = [
                    *self.seance.errors,
                    "Séance inconnue (ou d'une autre RCP) : choisissez dans la liste.",
                ]
                session = None
        values["session_id"] = session.id if session else None
        self._session_choices(rcp_id, session)

        role = self.role.data or ""
        if role and role not in ROLES:
            self.role.errors = [*self.role.errors, "Rôle inconnu : choisissez dans la liste."]
            role = ""
        values["role"] = role or None

        for name in ("destinataire", "patient"):
            field = getattr(self, name)
            values[name] = "" if field.errors else (field.data or "").strip()

        values["from"] = self._date(self.du)
        values["to"] = self._date(self.au)
        if values["from"] and values["to"] and values["from"] > values["to"]:
            self.au.errors = [
                *self.au.errors,
                f"La date de fin précède la date de début ({format_date(values['from'])}).",
            ]
            values["to"] = None
        self.values = values
        return values

    def _date(self, field) -> date | None:
        if field.errors:
            return None
        try:
            return parse_date(field.data)
        except ValueError as error:
            field.errors = [*field.errors, str(error)]
            return None

    def _session_choices(self, rcp_id: int | None, chosen: MeetingSession | None) -> None:
        """The sessions of the chosen RCP (or the latest ones), newest first."""
        stmt = select(MeetingSession).order_by(MeetingSession.starts_at.desc())
        if rcp_id is not None:
            stmt = stmt.where(MeetingSession.rcp_id == rcp_id)
        sessions = list(db.session.scalars(stmt.limit(SESSIONS_LISTED)))
        if chosen is not None and chosen not in sessions:
            sessions.insert(0, chosen)
        rcp_names = dict(db.session.execute(select(Rcp.id, Rcp.name)).all())
        self.seance.choices = [SelectChoice("", "Toutes")] + [
            SelectChoice(
                str(s.id),
                f"{format_date(s.starts_at)} — {rcp_names.get(s.rcp_id, '')}",
            )
            for s in sessions
        ]

    @property
    def audit_details(self) -> dict:
        """What the page was filtered on, without what was typed (a name, an INS)."""
        v = self.values
        return {
            "state": v.get("state"),
            "rcp_id": v.get("rcp_id"),
            "session_id": v.get("session_id"),
            "role": v.get("role"),
            "recipient": bool(v.get("destinataire")),
            "patient": bool(v.get("patient")),
            "from": v["from"].isoformat() if v.get("from") else None,
            "to": v["to"].isoformat() if v.get("to") else None,
        }


def _day_start_utc(day: date) -> datetime:
    return local_to_utc(datetime.combine(day, time.min))


def statement(values: dict, now: datetime) -> Select:
    """The transmissions matching ``values`` (``DeliveryFilterForm.check``), newest first."""
    stmt = select(Transmission)
    state = values["state"]
    if state == "late":
        stmt = stmt.where(
            Transmission.status.in_(("pending", "sending")),
            or_(Transmission.attempts > 0, Transmission.created_at < now - LATE_AFTER),
        )
    elif state in ("failed", "pending", "sent", "acknowledged"):
        stmt = stmt.where(Transmission.status == state)
    if values.get("rcp_id") is not None or values.get("session_id") is not None:
        # A fiche's session (a care programme's is its fiche's), or a notification's.
        session_id = func.coalesce(Fiche.session_id, Notification.session_id)
        stmt = (
            stmt.outerjoin(FicheVersion, FicheVersion.id == Transmission.fiche_version_id)
            .outerjoin(CarePlanVersion, CarePlanVersion.id == Transmission.care_plan_version_id)
            .outerjoin(CarePlan, CarePlan.id == CarePlanVersion.care_plan_id)
            .outerjoin(Fiche, Fiche.id == func.coalesce(FicheVersion.fiche_id, CarePlan.fiche_id))
            .outerjoin(Notification, Notification.id == Transmission.notification_id)
        )
        if values.get("session_id") is not None:
            stmt = stmt.where(session_id == values["session_id"])
        if values.get("rcp_id") is not None:
            stmt = stmt.where(
                session_id.in_(
                    select(MeetingSession.id).where(MeetingSession.rcp_id == values["rcp_id"])
                )
            )
    if values.get("role"):
        stmt = stmt.where(Transmission.recipient_role == values["role"])
    recipient = values.get("destinataire") or ""
    if recipient:
        key = search_key(recipient)
        stmt = stmt.where(
            or_(
                func.lower(Transmission.recipient_address).contains(
                    recipient.lower(), autoescape=True
                ),
                Transmission.professional_id.in_(
                    select(Professional.id).where(
                        Professional.last_name_key.startswith(key, autoescape=True)
                    )
                ),
            )
        )
    patient = values.get("patient") or ""
    if patient:
        condition = search_statement(patient, None).whereclause
        stmt = stmt.where(Transmission.patient_id.in_(select(Patient.id).where(condition)))
    if values.get("from"):
        stmt = stmt.where(Transmission.created_at >= _day_start_utc(values["from"]))
    if values.get("to"):
        stmt = stmt.where(
            Transmission.created_at < _day_start_utc(values["to"] + timedelta(days=1))
        )
    return stmt.order_by(Transmission.created_at.desc(), Transmission.id.desc())
