"""Patient identity operations: create, update, search, view (each one audited).

Operations validate, mutate, write the audit row and flush; the request commits.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import Select, and_, or_, select

from ..access import care_team
from ..core import audit
from ..core.conflict import check_version
from ..core.errors import DomainError
from ..core.pagination import COUNT_LIMIT, Page, paginate_by_key
from ..core.text import clean_spaces, search_key
from ..core.timeutil import PARIS, utcnow
from ..extensions import db
from . import ins
from .models import IDENTITY_STATUSES, SEXES, Patient

# The identity fields, in the order the forms show them.
FIELDS = (
    "birth_name",
    "birth_first_names",
    "first_birth_first_name",
    "used_name",
    "used_first_name",
    "sex",
    "birth_date",
    "birthplace_code",
    "identity_status",
    "ins_matricule",
    "ins_oid",
    "ipp",
)
_REQUIRED = {
    "birth_name": "Le nom de naissance est obligatoire.",
    "birth_first_names": "Les prénoms de naissance sont obligatoires.",
    "first_birth_first_name": "Le premier prénom de naissance est obligatoire.",
    "sex": "Le sexe est obligatoire.",
    "birth_date": "La date de naissance est obligatoire.",
    "identity_status": "Le statut de l'identité est obligatoire.",
}
_MAX_LENGTHS = {
    "birth_name": 100,
    "used_name": 100,
    "birth_first_names": 200,
    "first_birth_first_name": 100,
    "used_first_name": 100,
    "ipp": 40,
}
_LABELS = {
    "birth_name": "Le nom de naissance",
    "used_name": "Le nom utilisé",
    "birth_first_names": "La liste des prénoms de naissance",
    "first_birth_first_name": "Le premier prénom de naissance",
    "used_first_name": "Le prénom utilisé",
    "ipp": "L'IPP",
}
# Letters (any alphabet, accents included), separated by single spaces, hyphens or apostrophes.
_NAME = re.compile(r"[^\W\d_]+(?:(?: |-|'|--)[^\W\d_]+)*")
_BIRTHPLACE = re.compile(r"(?:[0-9]{2}|2A|2B)[0-9]{3}")
_INS_QUERY = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{6,8}")
_IPP = re.compile(r"[A-Za-z0-9._/-]+")
EARLIEST_BIRTH = date(1900, 1, 1)


def _name(value) -> str | None:
    return clean_spaces(str(value or "").replace("’", "'")) or None


def normalise(data: dict) -> dict:
    """Trimmed values; names in capitals; empty strings become None."""
    values = {
        "birth_name": (_name(data.get("birth_name")) or "").upper() or None,
        "used_name": (_name(data.get("used_name")) or "").upper() or None,
        "birth_first_names": _name(data.get("birth_first_names")),
        "first_birth_first_name": _name(data.get("first_birth_first_name")),
        "used_first_name": _name(data.get("used_first_name")),
        "sex": (data.get("sex") or "").strip().upper() or None,
        "birth_date": data.get("birth_date"),
        "birthplace_code": (data.get("birthplace_code") or "").strip().upper() or None,
        "identity_status": (data.get("identity_status") or "").strip().upper() or None,
        "ins_matricule": ins.normalise(data.get("ins_matricule")) or None,
        "ins_oid": (data.get("ins_oid") or "").strip() or None,
        "ipp": (data.get("ipp") or "").strip() or None,
    }
    if isinstance(values["birth_date"], datetime):
        values["birth_date"] = values["birth_date"].date()
    return values


def _check_names(values: dict) -> None:
    for field, message in _REQUIRED.items():
        if not values[field]:
            raise DomainError(message, field=field)
    for field, limit in _MAX_LENGTHS.items():
        if values[field] and len(values[field]) > limit:
            raise DomainError(f"{_LABELS[field]} dépasse {limit} caractères.", field=field)
    for field in (
        "birth_name",
        "used_name",
        "birth_first_names",
        "first_birth_first_name",
        "used_first_name",
    ):
        if values[field] and not _NAME.fullmatch(values[field]):
            raise DomainError(
                f"{_LABELS[field]} ne peut contenir que des lettres, séparées par un espace, "
                "un trait d'union ou une apostrophe (pas de chiffre ni de ponctuation).",
                field=field,
            )
    first, names = values["first_birth_first_name"].casefold(), values["birth_first_names"]
    if not (names.casefold() == first or names.casefold().startswith(first + " ")):
        raise DomainError(
            f"Le premier prénom de naissance doit être le premier de la liste des prénoms de "
            f"naissance (« {names.split(' ')[0]} »).",
            field="first_birth_first_name",
        )


def _check_traits(values: dict) -> None:
    if values["sex"] not in SEXES:
        raise DomainError(
            f"Sexe inconnu (« {values['sex']} ») : choisissez masculin (M), féminin (F) "
            "ou indéterminé (I).",
            field="sex",
        )
    birth = values["birth_date"]
    if not isinstance(birth, date):
        raise DomainError("La date de naissance est invalide (jj/mm/aaaa).", field="birth_date")
    if birth > datetime.now(PARIS).date():
        raise DomainError(
            f"La date de naissance ({birth:%d/%m/%Y}) est dans le futur.", field="birth_date"
        )
    if birth < EARLIEST_BIRTH:
        raise DomainError(
            f"La date de naissance ({birth:%d/%m/%Y}) est antérieure au "
            "01/01/1900 : vérifiez l'année.",
            field="birth_date",
        )
    code = values["birthplace_code"]
    if code and not _BIRTHPLACE.fullmatch(code):
        raise DomainError(
            f"Le code INSEE du lieu de naissance (« {code} ») doit comporter 5 caractères : "
            "2 chiffres (ou 2A/2B pour la Corse) puis 3 chiffres, par exemple 75056 ; "
            "99xxx pour une naissance à l'étranger.",
            field="birthplace_code",
        )
    if values["identity_status"] not in IDENTITY_STATUSES:
        raise DomainError(
            f"Statut de l'identité inconnu (« {values['identity_status']} ») : choisissez "
            "PROV (provisoire), RECUP (récupérée), VALI (validée) ou QUAL (qualifiée).",
            field="identity_status",
        )
    if values["ipp"] and not _IPP.fullmatch(values["ipp"]):
        raise DomainError(
            "L'IPP ne peut contenir que des lettres sans accent, des chiffres, "
            "des points, des tirets, des barres obliques.",
            field="ipp",
        )


def _check_ins(values: dict) -> None:
    matricule, oid, status = values["ins_matricule"], values["ins_oid"], values["identity_status"]
    if status in ("RECUP", "QUAL"):
        label = IDENTITY_STATUSES[status].lower()
        if not matricule:
            raise DomainError(f"Une {label} doit porter son matricule INS.", field="ins_matricule")
        if not oid:
            raise DomainError(f"Une {label} doit porter l'OID de son INS.", field="ins_oid")
    if not matricule:
        if oid:
            raise DomainError(
                "Un OID d'INS est choisi sans matricule INS : saisissez le "
                "matricule ou retirez l'OID.",
                field="ins_oid",
            )
        return
    try:
        parsed = ins.parse(matricule)
        ins.check_coherence(parsed, values["sex"], values["birth_date"])
    except ins.InsError as error:
        raise DomainError(str(error), field="ins_matricule") from error
    try:
        ins.check_oid(oid, parsed)
    except ins.InsError as error:
        raise DomainError(str(error), field="ins_oid") from error
    values["ins_matricule"] = parsed.value


class DuplicatePatient(DomainError):
    """The INS or IPP typed is another patient's; the message tells which record (its IPP or
    number), so showing it is an access to that patient (``record_duplicate_shown``)."""

    def __init__(self, message: str, field: str, patient_id: int):
        super().__init__(message, field=field)
        self.patient_id = patient_id


def record_duplicate_shown(error: DomainError) -> None:
    """After a refusal: a DuplicatePatient message named another patient; audit it."""
    if isinstance(error, DuplicatePatient):
        audit.record(
            "patient.view",
            "patient",
            error.patient_id,
            patient_id=error.patient_id,
            details={"context": f"duplicate_{error.field}"},
        )


def _check_unique(values: dict, patient_id: int | None) -> None:
    others = select(Patient)
    if patient_id is not None:
        others = others.where(Patient.id != patient_id)
    if values["ins_matricule"]:
        other = db.session.scalar(others.where(Patient.ins_matricule == values["ins_matricule"]))
        if other is not None:
            reference = f"IPP {other.ipp}" if other.ipp else f"dossier n° {other.id}"
            raise DuplicatePatient(
                f"Ce matricule INS est déjà attribué à un autre dossier patient ({reference}) : "
                "vérifiez l'identité, il s'agit peut-être d'un doublon.",
                "ins_matricule",
                other.id,
            )
    other_id = values["ipp"] and db.session.scalar(
        others.with_only_columns(Patient.id).where(Patient.ipp == values["ipp"])
    )
    if other_id:
        raise DuplicatePatient(
            f"L'IPP {values['ipp']} est déjà attribué à un autre dossier patient.", "ipp", other_id
        )


def validate(data: dict, patient_id: int | None = None) -> dict:
    """Normalised, checked values; raises DomainError(message, field) at the first problem."""
    values = normalise(data)
    _check_names(values)
    _check_traits(values)
    _check_ins(values)
    _check_unique(values, patient_id)
    return values


def _apply(patient: Patient, values: dict) -> None:
    for field in FIELDS:
        setattr(patient, field, values[field])
    patient.birth_name_key = search_key(values["birth_name"])
    patient.used_name_key = search_key(values["used_name"]) or None
    patient.first_name_key = search_key(values["first_birth_first_name"])
    patient.updated_at = utcnow()


def create_patient(data: dict) -> Patient:
    values = validate(data)
    patient = Patient(created_at=utcnow(), created_by_id=audit.current_actor().user_id)
    _apply(patient, values)
    db.session.add(patient)
    db.session.flush()
    audit.record(
        "patient.create",
        "patient",
        patient.id,
        patient_id=patient.id,
        details={"identity_status": patient.identity_status},
    )
    return patient


def update_patient(patient: Patient, data: dict, expected_version: int | None) -> list[str]:
    """Apply the changes; returns the names of the changed fields (empty: nothing to do)."""
    db.session.refresh(patient, with_for_update=True)
    check_version(
        expected_version,
        patient.version,
        "Cette identité a été modifiée entre-temps par un autre utilisateur : vos "
        "modifications n'ont pas été enregistrées. Rouvrez la fiche pour repartir de la "
        "version actuelle.",
    )
    values = validate(data, patient_id=patient.id)
    changed = [field for field in FIELDS if getattr(patient, field) != values[field]]
    if not changed:
        return []
    # Which fields changed, never their values: identities stay out of the audit log (the
    # current values are in the patient row; no identity history is kept).
    details = {"fields": changed}
    _apply(patient, values)
    db.session.flush()
    audit.record("patient.update", "patient", patient.id, patient_id=patient.id, details=details)
    return changed


def record_view(patient: Patient, context: str | None = None) -> None:
    details = {"context": context} if context else {}
    audit.record("patient.view", "patient", patient.id, patient_id=patient.id, details=details)


def looks_like_ins(query: str) -> str | None:
    """The compact INS (13 to 15 characters) when the query looks like one."""
    compact = ins.normalise(query)
    return compact if _INS_QUERY.fullmatch(compact) else None


def _name_condition(key: str):
    """'DUPONT MARIE': a name prefix, or a name prefix followed by a first-name prefix."""

    def name_prefix(prefix: str):
        return or_(
            Patient.birth_name_key.startswith(prefix, autoescape=True),
            Patient.used_name_key.startswith(prefix, autoescape=True),
        )

    words = key.split(" ")
    alternatives = [name_prefix(key)]
    for cut in range(1, len(words)):
        alternatives.append(
            and_(
                name_prefix(" ".join(words[:cut])),
                Patient.first_name_key.startswith(" ".join(words[cut:]), autoescape=True),
            )
        )
    return or_(*alternatives)


def search_statement(query: str, birth_date: date | None, user=None) -> Select:
    """A search finds every patient it matches (identity only, to avoid duplicates); without
    criteria the list is « recently changed » among the patients ``user`` may open."""
    stmt = select(Patient)
    query = clean_spaces(query)
    if not query and birth_date is None:
        if user is not None:
            stmt = stmt.where(care_team.patient_page_condition(user, Patient.__table__))
        return stmt.order_by(Patient.updated_at.desc(), Patient.id.desc())
    if query:
        compact = looks_like_ins(query)
        if compact:
            stmt = stmt.where(Patient.ins_matricule.startswith(compact, autoescape=True))
        else:
            stmt = stmt.where(_name_condition(search_key(query)))
    if birth_date is not None:
        stmt = stmt.where(Patient.birth_date == birth_date)
    return stmt.order_by(
        Patient.birth_name_key, Patient.first_name_key, Patient.birth_date, Patient.id
    )


def search_criteria(query: str | None, birth_date: date | None) -> list[str]:
    """The kinds of criteria of a search ("ins", "name", "birth_date"), without their values."""
    criteria = []
    query = clean_spaces(query)
    if query:
        criteria.append("ins" if looks_like_ins(query) else "name")
    if birth_date is not None:
        criteria.append("birth_date")
    return criteria


def search_patients(
    query: str, birth_date: date | None, page: int, per_page: int, user=None
) -> Page:
    """One page of patients; listing identities is an access to patient data: audited."""
    result = paginate_by_key(
        search_statement(query or "", birth_date, user),
        Patient.id,
        lambda ids: db.session.scalars(select(Patient).where(Patient.id.in_(ids))).all(),
        page,
        per_page,
        COUNT_LIMIT,
    )
    audit.record(
        "patient.search",
        "patient",
        None,
        details={
            # What was searched is left out (a name, an INS, a birth date): only which kinds
            # of criteria were used, and the patients the page showed.
            "criteria": search_criteria(query, birth_date),
            "page": result.page,
            "results": result.total,
            "patients": [patient.id for patient in result.items],
        },
    )
    return result
