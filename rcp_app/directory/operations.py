"""Directory changes: create and update establishments, professionals and RCPs.

Each operation validates (French messages, raised as DomainError with the form field name),
locks the row it changes, checks the edit form's version, mutates, writes one audit row with
the changed fields (old/new) and flushes. The caller commits.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import time

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..core import audit, signals
from ..core.conflict import check_version
from ..core.errors import Conflict, DomainError
from ..core.links import clean_link
from ..core.text import clean_spaces, search_key
from ..core.timeutil import utcnow
from ..extensions import db
from ..terminology.builtin import APPAREIL, SPECIALTY, TRANSVERSAL_THEME
from ..terminology.models import Concept
from .models import (
    WEEKDAYS,
    Establishment,
    Professional,
    Rcp,
    RcpMember,
    RcpRequiredSpecialty,
    RcpValidator,
    facility_type_choices,
)

FINESS_RE = re.compile(r"^([0-9]{2}|2A|2B)[0-9]{7}$")
RPPS_RE = re.compile(r"^[0-9]{11}$")
# National identifiers of the FRCP encounter, digits only, lengths as the regional networks
# assign them (ANS FRCP examples: DSRC 5201, manager 520114, RCP 27011113 or 2801184).
RCP_IDENTIFIERS = {
    "network_id": (
        re.compile(r"^[0-9]{4}$"),
        "L'identifiant national du DSRC (réseau régional de cancérologie) comporte exactement "
        "4 chiffres, par exemple 5201.",
    ),
    "manager_id": (
        re.compile(r"^[0-9]{6}$"),
        "L'identifiant national du gestionnaire de la RCP comporte exactement 6 chiffres, "
        "par exemple 520114.",
    ),
    "registry_id": (
        re.compile(r"^[0-9]{6,10}$"),
        "L'identifiant national de la RCP comporte de 6 à 10 chiffres, par exemple 27011113.",
    ),
}
TITLES = ("Dr", "Pr", "M.", "Mme")
NATURES = ("organ", "transversal")

ESTABLISHMENT_FIELDS = ("name", "finess", "city", "facility_type_code", "active")
PROFESSIONAL_FIELDS = (
    "title",
    "last_name",
    "first_name",
    "rpps",
    "specialty_code",
    "mssante_address",
    "phone",
    "establishment_id",
    "active",
)
RCP_FIELDS = (
    "name",
    "national_id",
    "network_id",
    "manager_id",
    "registry_id",
    "establishment_id",
    "nature",
    "appareil_code",
    "theme_code",
    "is_recourse",
    "is_paediatric",
    "coordinator_id",
    "weekday",
    "start_time",
    "place",
    "video_url",
    "capacity",
    "deadline_hours",
    "min_specialties",
    "follow_up_days",
    "notes",
    "active",
)

# Days after a fiche's validation within which its proposal's follow-up is expected.
FOLLOW_UP_DAYS = 30

STALE_MESSAGE = (
    "{what} a été modifié{e} entre-temps par un autre utilisateur. Rechargez la "
    "page pour voir la version actuelle, puis refaites vos modifications."
)


# --- shared helpers -----------------------------------------------------------------------


def _check_version(obj, version, what: str, feminine: bool = False) -> None:
    """Lock the row, then compare the version the edit form was built from."""
    db.session.refresh(obj, with_for_update=True)
    check_version(version, obj.version, STALE_MESSAGE.format(what=what, e="e" if feminine else ""))


@contextmanager
def _unique_guard(message: str, field: str):
    """Apply the changes inside a savepoint: a concurrent duplicate becomes a French message."""
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError as error:
        raise DomainError(message, field=field) from error
    except StaleDataError as error:
        raise Conflict(
            "L'élément a été modifié entre-temps par un autre utilisateur. Rechargez la page."
        ) from error


def _other_with(model, condition, current):
    """Another row than ``current`` matching ``condition`` (uniqueness pre-check), or None."""
    stmt = select(model).where(condition)
    if current is not None:
        stmt = stmt.where(model.id != current.id)
    return db.session.scalars(stmt.limit(1)).first()


def _apply(obj, values: dict, fields: tuple[str, ...]) -> dict:
    """Set the fields and return what changed as {field: {"old": …, "new": …}}."""
    changes = {}
    for name in fields:
        old, new = getattr(obj, name), values[name]
        if old != new:
            changes[name] = {"old": _jsonable(old), "new": _jsonable(new)}
            setattr(obj, name, new)
    return changes


def _jsonable(value):
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def _text(values: dict, name: str, label: str, *, required: bool = True, max_len: int = 200):
    value = clean_spaces(values.get(name))
    if required and not value:
        raise DomainError(f"Renseignez le champ « {label} ».", field=name)
    if len(value) > max_len:
        raise DomainError(f"« {label} » : {max_len} caractères au maximum.", field=name)
    return value


def _int_in_range(values: dict, name: str, low: int, high: int, message: str) -> int:
    value = values.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError(message, field=name)
    return value


def _follow_up_days(values: dict, current: Rcp | None):
    """The value given, else the RCP's own (a caller that does not name it changes nothing),
    else the default of a new RCP."""
    given = values.get("follow_up_days")
    if given is not None:
        return given
    return current.follow_up_days if current is not None else FOLLOW_UP_DAYS


def _concept_codes(value_set: str) -> set[str]:
    return set(
        db.session.scalars(
            select(Concept.code).where(Concept.value_set == value_set, Concept.retired_at.is_(None))
        )
    )


def _check_code(
    value_set: str, code: str | None, current: str | None, field: str, message: str
) -> None:
    """A code must be an active concept of its value set, or the value the object already had."""
    if code and code != current and code not in _concept_codes(value_set):
        raise DomainError(message, field=field)


# --- establishments ------------------------------------------------------------------------


def _establishment_values(values: dict, current: Establishment | None) -> dict:
    finess = re.sub(r"\s", "", values.get("finess") or "").upper()
    if not FINESS_RE.match(finess):
        raise DomainError(
            "Le numéro FINESS doit comporter 9 caractères : 2 chiffres (ou 2A / 2B pour la "
            "Corse) puis 7 chiffres, par exemple 750712184.",
            field="finess",
        )
    duplicate = _other_with(Establishment, Establishment.finess == finess, current)
    if duplicate is not None:
        raise DomainError(
            f"Le numéro FINESS {finess} est déjà attribué à l'établissement « {duplicate.name} ».",
            field="finess",
        )
    facility_type = values.get("facility_type_code") or ""
    offered = {code for code, _ in facility_type_choices()}
    if facility_type not in offered and facility_type != (
        current.facility_type_code if current else None
    ):
        raise DomainError(
            "Catégorie d'établissement inconnue : choisissez-la dans la liste.",
            field="facility_type_code",
        )
    return {
        "name": _text(values, "name", "Nom"),
        "finess": finess,
        "city": _text(values, "city", "Ville", required=False, max_len=120),
        "facility_type_code": facility_type,
        "active": bool(values.get("active")),
    }


def create_establishment(**values) -> Establishment:
    clean = _establishment_values(values, None)
    establishment = Establishment(**clean)
    with _unique_guard(f"Le numéro FINESS {clean['finess']} est déjà attribué.", "finess"):
        db.session.add(establishment)
    audit.record(
        "establishment.create",
        "establishment",
        establishment.id,
        details={k: {"old": None, "new": v} for k, v in clean.items()},
    )
    db.session.flush()
    return establishment


def update_establishment(establishment: Establishment, *, version, **values) -> dict:
    _check_version(establishment, version, "Cet établissement")
    clean = _establishment_values(values, establishment)
    with _unique_guard(f"Le numéro FINESS {clean['finess']} est déjà attribué.", "finess"):
        changes = _apply(establishment, clean, ESTABLISHMENT_FIELDS)
    if changes:
        audit.record("establishment.update", "establishment", establishment.id, details=changes)
    db.session.flush()
    return changes


# --- professionals -------------------------------------------------------------------------


def normalise_phone(raw: str | None) -> str | None:
    """'+33 1 23 45 67 89', '01.23.45.67.89' -> '01 23 45 67 89'; None if not French."""
    digits = re.sub(r"[\s.\-/]", "", raw or "")
    digits = re.sub(r"^(\+33|0033)\(0\)", "0", digits)
    digits = re.sub(r"^(\+33|0033)", "0", digits)
    if not re.fullmatch(r"0[1-9][0-9]{8}", digits):
        return None
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def normalise_mssante(raw: str | None) -> str | None:
    """A valid e-mail address whose domain is mssante.fr or one of its sub-domains."""
    try:
        address = validate_email(raw.strip(), check_deliverability=False).normalized
    except (EmailNotValidError, AttributeError):
        return None
    domain = address.rpartition("@")[2].lower()
    if domain != "mssante.fr" and not domain.endswith(".mssante.fr"):
        return None
    return address.rpartition("@")[0] + "@" + domain


def _professional_values(values: dict, current: Professional | None) -> dict:
    title = values.get("title")
    if title not in TITLES:
        raise DomainError("Choisissez un titre : Dr, Pr, M. ou Mme.", field="title")
    rpps = re.sub(r"\s", "", values.get("rpps") or "")
    if not RPPS_RE.match(rpps):
        raise DomainError("Le numéro RPPS doit comporter exactement 11 chiffres.", field="rpps")
    duplicate = _other_with(Professional, Professional.rpps == rpps, current)
    if duplicate is not None:
        raise DomainError(
            f"Le numéro RPPS {rpps} est déjà attribué à {duplicate.display_name}.", field="rpps"
        )
    specialty = values.get("specialty_code") or ""
    if not specialty:
        raise DomainError("Choisissez la spécialité.", field="specialty_code")
    _check_code(
        SPECIALTY,
        specialty,
        current.specialty_code if current else None,
        "specialty_code",
        "Spécialité inconnue : choisissez-la dans la liste.",
    )
    mssante = None
    if (values.get("mssante_address") or "").strip():
        mssante = normalise_mssante(values["mssante_address"])
        if mssante is None:
            raise DomainError(
                "L'adresse MSSanté doit être une adresse électronique valide dont le domaine "
                "se termine par « mssante.fr » (par exemple prenom.nom@hopital.mssante.fr).",
                field="mssante_address",
            )
    phone = None
    if (values.get("phone") or "").strip():
        phone = normalise_phone(values["phone"])
        if phone is None:
            raise DomainError(
                "Numéro de téléphone invalide : 10 chiffres commençant par 0 "
                "(01 23 45 67 89) ou +33 suivi de 9 chiffres.",
                field="phone",
            )
    establishment_id = values.get("establishment_id")
    if establishment_id is not None and db.session.get(Establishment, establishment_id) is None:
        raise DomainError("Établissement inconnu.", field="establishment_id")
    return {
        "title": title,
        "last_name": _text(values, "last_name", "Nom", max_len=120),
        "first_name": _text(values, "first_name", "Prénom", max_len=120),
        "rpps": rpps,
        "specialty_code": specialty,
        "mssante_address": mssante,
        "phone": phone,
        "establishment_id": establishment_id,
        "active": bool(values.get("active")),
    }


def create_professional(**values) -> Professional:
    clean = _professional_values(values, None)
    professional = Professional(**clean, last_name_key=search_key(clean["last_name"]))
    with _unique_guard(f"Le numéro RPPS {clean['rpps']} est déjà attribué.", "rpps"):
        db.session.add(professional)
    audit.record(
        "professional.create",
        "professional",
        professional.id,
        details={k: {"old": None, "new": v} for k, v in clean.items()},
    )
    db.session.flush()
    return professional


def update_professional(professional: Professional, *, version, **values) -> dict:
    _check_version(professional, version, "Ce professionnel")
    clean = _professional_values(values, professional)
    with _unique_guard(f"Le numéro RPPS {clean['rpps']} est déjà attribué.", "rpps"):
        changes = _apply(professional, clean, PROFESSIONAL_FIELDS)
        professional.last_name_key = search_key(professional.last_name)
    if changes:
        audit.record("professional.update", "professional", professional.id, details=changes)
    db.session.flush()
    return changes


# --- RCPs ----------------------------------------------------------------------------------


def _nature_values(values: dict, current: Rcp | None) -> tuple[str, str | None, str | None]:
    nature = values.get("nature")
    appareil, theme = values.get("appareil_code") or None, values.get("theme_code") or None
    if nature not in NATURES:
        raise DomainError(
            "Choisissez la nature de la RCP : d'organe ou transversale.", field="nature"
        )
    if nature == "organ":
        if appareil is None:
            raise DomainError("Une RCP d'organe doit préciser son appareil.", field="appareil_code")
        if theme is not None:
            raise DomainError(
                "Une RCP d'organe n'a pas de thème transversal : laissez le champ « Thème » vide.",
                field="theme_code",
            )
    else:
        if theme is None:
            raise DomainError("Une RCP transversale doit préciser son thème.", field="theme_code")
        if appareil is not None:
            raise DomainError(
                "Une RCP transversale n'a pas d'appareil : laissez le champ « Appareil » vide.",
                field="appareil_code",
            )
    _check_code(
        APPAREIL,
        appareil,
        current.appareil_code if current else None,
        "appareil_code",
        "Appareil inconnu : choisissez-le dans la liste.",
    )
    _check_code(
        TRANSVERSAL_THEME,
        theme,
        current.theme_code if current else None,
        "theme_code",
        "Thème inconnu : choisissez-le dans la liste.",
    )
    return nature, appareil, theme


def _rcp_identifiers(values: dict, current: Rcp | None) -> dict:
    """The national identifiers of the FRCP encounter: optional, digits of the right length."""
    clean = {}
    for name, (pattern, message) in RCP_IDENTIFIERS.items():
        value = re.sub(r"\s", "", values.get(name) or "") or None
        if value is not None and not pattern.match(value):
            raise DomainError(message, field=name)
        clean[name] = value
    registry_id = clean["registry_id"]
    if registry_id is not None:
        duplicate = _other_with(Rcp, Rcp.registry_id == registry_id, current)
        if duplicate is not None:
            raise DomainError(
                f"L'identifiant national de RCP {registry_id} est déjà attribué à la RCP "
                f"« {duplicate.name} ».",
                field="registry_id",
            )
    return clean


def _rcp_values(values: dict, current: Rcp | None) -> tuple[dict, list[str]]:
    national_id = _text(values, "national_id", "Identifiant local de la RCP", max_len=64)
    duplicate = _other_with(Rcp, Rcp.national_id == national_id, current)
    if duplicate is not None:
        raise DomainError(
            f"L'identifiant {national_id} est déjà utilisé par la RCP « {duplicate.name} ».",
            field="national_id",
        )
    identifiers = _rcp_identifiers(values, current)
    establishment_id = values.get("establishment_id")
    if establishment_id is None or db.session.get(Establishment, establishment_id) is None:
        raise DomainError(
            "Choisissez l'établissement (ou le 3C) qui porte la RCP.", field="establishment_id"
        )
    nature, appareil, theme = _nature_values(values, current)
    coordinator_id = values.get("coordinator_id")
    if coordinator_id is not None:
        coordinator = db.session.get(Professional, coordinator_id)
        unchanged = current is not None and current.coordinator_id == coordinator_id
        if coordinator is None or not (coordinator.active or unchanged):
            raise DomainError(
                "Le médecin coordonnateur doit être un professionnel actif de l'annuaire.",
                field="coordinator_id",
            )
    weekday = values.get("weekday")
    if weekday is not None and weekday not in range(len(WEEKDAYS)):
        raise DomainError("Jour de la semaine inconnu.", field="weekday")
    required = sorted(set(values.get("required_specialty_codes") or []))
    known = _concept_codes(SPECIALTY) | set(current.required_specialty_codes if current else [])
    if any(code not in known for code in required):
        raise DomainError(
            "Spécialité exigée inconnue : choisissez-la dans la liste.",
            field="required_specialty_codes",
        )
    clean = {
        "name": _text(values, "name", "Nom de la RCP"),
        "national_id": national_id,
        **identifiers,
        "establishment_id": establishment_id,
        "nature": nature,
        "appareil_code": appareil,
        "theme_code": theme,
        "is_recourse": bool(values.get("is_recourse")),
        "is_paediatric": bool(values.get("is_paediatric")),
        "coordinator_id": coordinator_id,
        "weekday": weekday,
        "start_time": values.get("start_time"),
        "place": _text(values, "place", "Lieu", required=False),
        "video_url": clean_link(values.get("video_url")),
        "capacity": _int_in_range(
            values,
            "capacity",
            1,
            200,
            "La capacité doit être comprise entre 1 et 200 dossiers par séance.",
        ),
        "deadline_hours": _int_in_range(
            values,
            "deadline_hours",
            0,
            720,
            "Le délai d'inscription doit être compris entre 0 et 720 heures (30 jours).",
        ),
        "min_specialties": _int_in_range(
            values,
            "min_specialties",
            1,
            20,
            "Le nombre minimal de spécialités distinctes doit être compris entre 1 et 20.",
        ),
        "follow_up_days": _int_in_range(
            {"follow_up_days": _follow_up_days(values, current)},
            "follow_up_days",
            1,
            365,
            "Le délai de suivi des propositions doit être compris entre 1 et 365 jours.",
        ),
        "notes": (values.get("notes") or "").strip()[:4000],
        "active": bool(values.get("active")),
    }
    return clean, required


def _set_required(rcp: Rcp, codes: list[str]) -> dict:
    old = rcp.required_specialty_codes
    if old == codes:
        return {}
    keep = [r for r in rcp.required_specialties if r.specialty_code in codes]
    added = [RcpRequiredSpecialty(specialty_code=c) for c in codes if c not in old]
    rcp.required_specialties = keep + added
    return {"required_specialties": {"old": old, "new": codes}}


# Lists of professionals attached to an RCP: form field -> (relationship, row model, message).
PROFESSIONAL_LISTS = {
    "validator_ids": (
        "validators",
        "Un médecin délégué doit être un professionnel actif de l'annuaire.",
    ),
    "member_ids": (
        "members",
        "Un participant habituel doit être un professionnel actif de l'annuaire.",
    ),
}


def _professional_ids(values: dict, field: str, current: Rcp | None) -> list[int]:
    """Professionals of the directory, active unless already in the list."""
    ids = sorted(set(values.get(field) or []))
    kept = set(getattr(current, field) if current else [])
    for pid in ids:
        professional = db.session.get(Professional, pid)
        if professional is None or not (professional.active or pid in kept):
            raise DomainError(PROFESSIONAL_LISTS[field][1], field=field)
    return ids


def _row_model(relationship: str):
    return {"validators": RcpValidator, "members": RcpMember}[relationship]


def _set_professionals(rcp: Rcp, field: str, ids: list[int]) -> dict:
    relationship = PROFESSIONAL_LISTS[field][0]
    old = getattr(rcp, field)
    if old == ids:
        return {}
    model = _row_model(relationship)
    keep = [row for row in getattr(rcp, relationship) if row.professional_id in ids]
    setattr(rcp, relationship, keep + [model(professional_id=p) for p in ids if p not in old])
    return {relationship: {"old": old, "new": ids}}


# A concurrent insert can still take one of the unique identifiers after the pre-checks.
_DUPLICATE_IDENTIFIER = (
    "L'identifiant local ou l'identifiant national de cette RCP vient d'être attribué à une "
    "autre RCP : vérifiez-les."
)


def create_rcp(**values) -> Rcp:
    clean, required = _rcp_values(values, None)
    lists = {field: _professional_ids(values, field, None) for field in PROFESSIONAL_LISTS}
    rcp = Rcp(**clean, created_at=utcnow())
    rcp.required_specialties = [RcpRequiredSpecialty(specialty_code=c) for c in required]
    for field, ids in lists.items():
        _set_professionals(rcp, field, ids)
    with _unique_guard(_DUPLICATE_IDENTIFIER, "national_id"):
        db.session.add(rcp)
    details = {k: {"old": None, "new": _jsonable(v)} for k, v in clean.items()}
    details["required_specialties"] = {"old": None, "new": required}
    for field, ids in lists.items():
        details[PROFESSIONAL_LISTS[field][0]] = {"old": None, "new": ids}
    audit.record("rcp.create", "rcp", rcp.id, details=details)
    db.session.flush()
    _complete_calendar(rcp)
    return rcp


def _complete_calendar(rcp: Rcp) -> None:
    """An RCP with a weekly rhythm gets its next sessions when it is saved, so that the case
    form (a GET, which writes nothing) can offer them: the meetings package, above this one,
    plans them on ``rcp_saved`` in this transaction (core/signals.py)."""
    signals.send(signals.rcp_saved, rcp)


def update_rcp(rcp: Rcp, *, version, **values) -> dict:
    _check_version(rcp, version, "Cette RCP", feminine=True)
    clean, required = _rcp_values(values, rcp)
    lists = {field: _professional_ids(values, field, rcp) for field in PROFESSIONAL_LISTS}
    with _unique_guard(_DUPLICATE_IDENTIFIER, "national_id"):
        changes = _apply(rcp, clean, RCP_FIELDS)
        changes.update(_set_required(rcp, required))
        for field, ids in lists.items():
            changes.update(_set_professionals(rcp, field, ids))
        if changes and changes.keys() <= {"required_specialties", "validators", "members"}:
            # A change of child rows alone does not bump the RCP's version: force it.
            rcp.version = rcp.version + 1
    if changes:
        audit.record("rcp.update", "rcp", rcp.id, details=changes)
    db.session.flush()
    _complete_calendar(rcp)
    return changes
