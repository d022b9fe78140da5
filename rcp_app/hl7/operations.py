"""Apply one ADT message of the identity feed to the patients (no commit: ``processing``).

A28 (create) and A31 (update) are both applied as « create or update »: the patient is looked
up by its IPP (else, for a record typed in the application before the feed existed, by its INS
when that record has no IPP yet) and created when unknown. IHE PAM lets a consumer that does
not know the patient of an A31 create it, and this makes a lost or late A28 harmless; replaying
a message changes nothing. Changes go through ``patients.operations`` (the identity and INS
rules of the forms, the audit rows), updates with the version just read (optimistic lock).

A40 merges the patient of MRG-1 (absorbed) into the patient of PID-3 (survivor) with
``patients.merge``, then applies the PID (the survivor's complete identity, as PAM sends it)
like an A31. Both must be known: an unknown one is refused (AE), including a replayed A40
whose absorbed patient is already gone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..patients import ins
from ..patients.merge import merge_patients
from ..patients.models import Patient
from ..patients.operations import FIELDS, create_patient, update_patient
from .errors import Refusal, rejected
from .mapping import find_ins, find_ipp, identity_data
from .messages import AdtMessage, Header, Identifier, PatientSegment

MESSAGE_CODE = "ADT"
IDENTITY_EVENTS = {"A28", "A31"}
MERGE_EVENT = "A40"
EARLIEST_VERSION = (2, 5)  # PID-32 exists from HL7 v2.5, the version of PAM FR


@dataclass(frozen=True)
class FeedSettings:
    processing_ids: frozenset[str] = frozenset({"P"})
    ipp_authority: str | None = None  # namespace or OID of the IPP's assigning authority


@dataclass(frozen=True)
class Outcome:
    patient_id: int
    summary: str  # French, for the log


def _version(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None


def check_header(header: Header, settings: FeedSettings) -> None:
    """AR for a message this feed does not take, whatever its content."""
    if header.message_code != MESSAGE_CODE:
        raise rejected(
            f"Type de message « {header.message_code or '(vide)'} » (MSH-9) non pris en "
            "charge : seuls les messages ADT du flux d'identités sont lus.",
            "200",
        )
    if header.trigger_event not in IDENTITY_EVENTS | {MERGE_EVENT}:
        raise rejected(
            f"Événement « {header.trigger_event or '(vide)'} » (MSH-9) non pris en charge : "
            "seuls A28, A31 et A40 sont lus.",
            "201",
        )
    if header.processing_id not in settings.processing_ids:
        expected = ", ".join(sorted(settings.processing_ids))
        raise rejected(
            f"Code de traitement « {header.processing_id or '(vide)'} » (MSH-11) refusé : ce "
            f"récepteur attend {expected}.",
            "202",
        )
    version = _version(header.version)
    if version is None or version < EARLIEST_VERSION:
        raise rejected(
            f"Version HL7 « {header.version or '(vide)'} » (MSH-12) non prise en charge : "
            "2.5 ou plus récente attendue (IHE PAM).",
            "203",
        )


def _patient_segment(message: AdtMessage) -> PatientSegment:
    if message.patient is None:
        raise Refusal("Segment PID absent : le message ne décrit aucun patient.", error_code="101")
    return message.patient


def _ipp(identifiers: tuple[Identifier, ...], settings: FeedSettings, where: str) -> Identifier:
    found = find_ipp(identifiers, settings.ipp_authority)
    if found is None:
        authority = f" de l'autorité « {settings.ipp_authority} »" if settings.ipp_authority else ""
        segment, field = where.split("-")
        raise Refusal(
            f"Aucun IPP{authority} dans {where} (identifiant de type PI attendu).",
            error_code="101",
            location=(segment, int(field)),
        )
    return found


def _by_ipp(value: str) -> Patient | None:
    return db.session.scalar(select(Patient).where(Patient.ipp == value))


def _by_ins_without_ipp(identifier: Identifier | None) -> Patient | None:
    if identifier is None:
        return None
    return db.session.scalar(
        select(Patient).where(
            Patient.ins_matricule == ins.normalise(identifier.value), Patient.ipp.is_(None)
        )
    )


def current_values(patient: Patient) -> dict:
    return {field: getattr(patient, field) for field in FIELDS}


def _update(patient: Patient, pid: PatientSegment, ipp: Identifier) -> list[str]:
    data = identity_data(pid, ipp, current_values(patient))
    return update_patient(patient, data, patient.version)


def record_identity(message: AdtMessage, settings: FeedSettings) -> Outcome:
    pid = _patient_segment(message)
    ipp = _ipp(pid.identifiers, settings, "PID-3")
    patient = _by_ipp(ipp.value) or _by_ins_without_ipp(find_ins(pid.identifiers))
    if patient is None:
        patient = create_patient(identity_data(pid, ipp))
        return Outcome(patient.id, "patient créé")
    changed = _update(patient, pid, ipp)
    summary = f"identité mise à jour ({', '.join(changed)})" if changed else "aucun changement"
    return Outcome(patient.id, summary)


def _known(identifier: Identifier, role: str, where: str) -> Patient:
    patient = _by_ipp(identifier.value)
    if patient is None:
        segment, field = where.split("-")
        raise Refusal(
            f"Patient {role} inconnu : aucun dossier n'a l'IPP {identifier.value} ({where}).",
            error_code="204",
            location=(segment, int(field)),
        )
    return patient


def merge(message: AdtMessage, settings: FeedSettings) -> Outcome:
    pid = _patient_segment(message)
    if message.prior_identifiers is None:
        raise Refusal("Segment MRG absent : une fusion (A40) le demande.", error_code="101")
    survivor_ipp = _ipp(pid.identifiers, settings, "PID-3")
    absorbed_ipp = _ipp(message.prior_identifiers, settings, "MRG-1")
    absorbed = _known(absorbed_ipp, "absorbé", "MRG-1")
    survivor = _known(survivor_ipp, "survivant", "PID-3")
    moved = merge_patients(survivor, absorbed)
    changed = _update(survivor, pid, survivor_ipp)
    rows = sum(moved.values())
    summary = f"fusion de l'IPP {absorbed_ipp.value} : {rows} ligne(s) déplacée(s)"
    if changed:
        summary += f", identité mise à jour ({', '.join(changed)})"
    return Outcome(survivor.id, summary)


def apply(message: AdtMessage, settings: FeedSettings) -> Outcome:
    check_header(message.header, settings)
    if message.header.trigger_event == MERGE_EVENT:
        return merge(message, settings)
    return record_identity(message, settings)
