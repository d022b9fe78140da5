"""PDF attachments of a case: checked by content, stored outside the web root.

Files live under ``RCP_ATTACHMENTS_DIR/<sha256[:2]>/<uuid>`` (never under static/), with the
original name and the digest in the database. The row is flushed first and the file written
after; ``discard`` removes the file again when the transaction does not commit, so that no
orphan file is left behind. A download re-reads the file and checks its SHA-256 against the
recorded one: a damaged or missing file is never served (``AttachmentDamaged``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import unicodedata
import uuid
import warnings
from pathlib import Path

import pikepdf
from pypdf import PdfReader
from sqlalchemy import select

from ..core import audit
from ..core.errors import Conflict, DomainError, PermissionDenied
from ..core.text import clean_text
from ..core.timeutil import format_date, utcnow
from ..extensions import db
from ..meetings.models import FROZEN_STATUSES, AgendaItem, MeetingSession
from .models import ATTACHMENT_KINDS, Attachment, Case
from .operations import check_editable, is_frozen
from .pdf_content import TooComplex, active_content, refusal_message

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|;]+')


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f} Mo" if value >= 1 else f"{size / 1024:.0f} Ko"


def safe_name(name: str | None) -> str:
    """A file name fit for a Content-Disposition header: no path, no control or quote
    characters, at most 120 characters, ending in .pdf."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE.sub("_", name).strip(" ._") or "document"
    stem, dot, extension = name.rpartition(".")
    if not dot or extension.lower() != "pdf":
        stem = name
    stem = stem[:116].rstrip(" ._") or "document"
    return f"{stem}.pdf"


def check_pdf(data: bytes, max_bytes: int) -> None:
    if not data:
        raise DomainError("Le fichier est vide.", field="file")
    if len(data) > max_bytes:
        raise DomainError(
            f"Le fichier fait {_megabytes(len(data))} : la taille maximale est "
            f"{_megabytes(max_bytes)} par pièce jointe.",
            field="file",
        )
    if not data.startswith(b"%PDF-"):
        raise DomainError(
            "Ce fichier n'est pas un PDF (son contenu a été vérifié, pas seulement son "
            "extension) : seuls les documents PDF sont acceptés.",
            field="file",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise DomainError(
                    "Ce PDF est protégé par un mot de passe : joignez une version non protégée.",
                    field="file",
                )
            pages = len(reader.pages)
    except DomainError:
        raise
    except Exception as error:  # pypdf raises many kinds of errors on broken files
        raise DomainError(
            "Ce PDF est endommagé ou illisible : enregistrez-le à nouveau puis rejoignez-le.",
            field="file",
        ) from error
    if pages < 1:
        raise DomainError("Ce PDF ne contient aucune page.", field="file")
    try:
        found = active_content(data)
    except (pikepdf.PdfError, TooComplex) as error:
        raise DomainError(
            "Ce PDF est endommagé ou illisible : enregistrez-le à nouveau puis rejoignez-le.",
            field="file",
        ) from error
    if found:
        raise DomainError(refusal_message(found), field="file")


# ``add_attachment``'s default: the PDF has not been checked yet.
NOT_CHECKED = object()


def pdf_refusal(data: bytes, max_bytes: int) -> DomainError | None:
    """``check_pdf`` as a value: the views run it on the uploaded bytes before any database
    work (it is CPU work: no transaction, and so no SQLite write lock, is held meanwhile)."""
    try:
        check_pdf(data, max_bytes)
    except DomainError as refusal:
        return refusal
    return None


def path_of(root: str | os.PathLike, attachment: Attachment) -> Path:
    return Path(root) / attachment.storage_key


def _uploader(author) -> dict:
    """A user, or an API client (a hospital system: rcp_app/api), recorded as the uploader."""
    if getattr(author, "__tablename__", "") == "api_clients":
        return {"uploaded_by_client_id": author.id}
    return {"uploaded_by_id": author.id}


def add_attachment(
    case: Case,
    data: bytes,
    filename: str | None,
    kind: str,
    user,
    root: str | os.PathLike,
    max_bytes: int = DEFAULT_MAX_BYTES,
    refusal: DomainError | None | object = NOT_CHECKED,
) -> Attachment:
    """Check, record and store one PDF; the caller commits, or calls ``discard`` on failure.

    ``refusal``: what ``pdf_refusal(data, max_bytes)`` returned, when the caller checked the
    file before opening its transaction.
    """
    check_editable(case)
    if kind not in ATTACHMENT_KINDS:
        raise DomainError("Choisissez le type de document.", field="kind")
    if refusal is NOT_CHECKED:
        check_pdf(data, max_bytes)
    elif refusal is not None:
        raise refusal
    digest = hashlib.sha256(data).hexdigest()
    attachment = Attachment(
        case_id=case.id,
        kind=kind,
        original_name=safe_name(filename),
        storage_key=f"{digest[:2]}/{uuid.uuid4().hex}",
        sha256=digest,
        size_bytes=len(data),
        **_uploader(user),
        uploaded_at=utcnow(),
    )
    db.session.add(attachment)
    db.session.flush()
    audit.record(
        "attachment.upload",
        "case",
        case.id,
        patient_id=case.patient_id,
        # The file name is left out of the audit rows (it often carries the patient's
        # name): the attachment id refers to it.
        details={
            "attachment_id": attachment.id,
            "kind": kind,
            "size": len(data),
            "sha256": digest,
        },
    )
    # Written last: a refusal above leaves nothing on disk.
    store_file(path_of(root, attachment), data)
    return attachment


STORAGE_UNAVAILABLE = (
    "Stockage indisponible : la pièce jointe n'a pas été enregistrée. Réessayez plus tard ; "
    "si le problème persiste, prévenez l'administrateur."
)


def store_file(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` whole or not at all: through a temporary file renamed into
    place, removed on any failure (full or read-only disk), which becomes a French refusal
    (the caller's transaction is then rolled back: no row without its file)."""
    temporary = path.with_suffix(".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as error:
        log.error("attachment storage failed at %s: %s", path, error)
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise DomainError(STORAGE_UNAVAILABLE, field="file") from error


def discard(root: str | os.PathLike, attachment: Attachment) -> None:
    """Remove the stored file of an attachment whose transaction did not commit."""
    path_of(root, attachment).unlink(missing_ok=True)


class AttachmentDamaged(DomainError):
    """The stored file is missing or no longer matches its recorded SHA-256.

    500: the request is valid; what the server stored is not (nothing the user can retry).
    """

    status_code = 500


# --- withdrawal ------------------------------------------------------------------------------

WITHDRAWAL_REASON_MAX = 500
WITHDRAWAL_REASON_LABEL = "Motif du retrait de la pièce jointe"


def can_see_withdrawn(user) -> bool:
    """The coordination keeps access to withdrawn attachments (the audit may need them)."""
    return bool(user is not None and user.has_role("coordinator"))


def can_withdraw(user, attachment: Attachment) -> bool:
    """The physician who uploaded it, or the coordination."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.has_role("coordinator") or (
        user.has_role("physician") and user.id == attachment.uploaded_by_id
    )


def agenda_published(case: Case) -> bool:
    """The case is on an agenda that was published (or its session's agenda is frozen): the
    participants may have read its documents, so they no longer change."""
    if is_frozen(case):
        return True
    statuses = db.session.scalars(
        select(MeetingSession.status)
        .join(AgendaItem, AgendaItem.session_id == MeetingSession.id)
        .where(AgendaItem.case_id == case.id)
    )
    return any(status in FROZEN_STATUSES for status in statuses)


def withdraw_attachment(case: Case, attachment: Attachment, user, reason) -> None:
    """Withdraw a duplicate or misfiled attachment before the agenda is published.

    The row and the file are kept (the audit may need them): the attachment leaves the case
    page, the completeness, the agenda and the fiche (``Case.attachments`` skips it), and only
    the coordination may still download it.
    """
    if attachment.case_id != case.id:
        raise DomainError("Cette pièce jointe n'appartient pas à ce dossier.")
    if not can_withdraw(user, attachment):
        raise PermissionDenied(
            "Seuls le médecin qui a déposé la pièce jointe et le secrétariat de la RCP peuvent "
            "la retirer."
        )
    reason = clean_text(str(reason or ""), WITHDRAWAL_REASON_LABEL, "reason").strip()
    if not reason:
        raise DomainError(
            "Indiquez le motif du retrait (par exemple : doublon, document d'un autre patient).",
            field="reason",
        )
    if len(reason) > WITHDRAWAL_REASON_MAX:
        raise DomainError(
            f"Le motif du retrait : {WITHDRAWAL_REASON_MAX} caractères au maximum "
            f"({len(reason)} saisis).",
            field="reason",
        )
    # Serialise with a concurrent publication of the agenda and a concurrent withdrawal.
    db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    db.session.refresh(attachment, with_for_update=True)
    if attachment.withdrawn_at is not None:
        raise Conflict(f"La pièce jointe « {attachment.original_name} » est déjà retirée.")
    if agenda_published(case):
        raise Conflict(
            "L'ordre du jour où figure ce dossier est publié : ses pièces jointes ne peuvent "
            "plus être retirées. Adressez-vous au secrétariat de la RCP."
        )
    attachment.withdrawn_at = utcnow()
    attachment.withdrawn_by_id = user.id
    attachment.withdrawal_reason = reason
    db.session.flush()
    db.session.expire(case, ["attachments", "all_attachments"])
    audit.record(
        "attachment.withdraw",
        "case",
        case.id,
        patient_id=case.patient_id,
        # The file name is left out, as on upload (it often carries the patient's name).
        details={"attachment_id": attachment.id, "sha256": attachment.sha256, "reason": reason},
    )


def withdrawn_attachments(case: Case) -> list[Attachment]:
    return [a for a in case.all_attachments if a.withdrawn_at is not None]


def read_for_download(case: Case, attachment: Attachment, root: str | os.PathLike) -> bytes:
    """The attachment's bytes, checked against the recorded SHA-256; the download is audited.

    A missing or altered file raises AttachmentDamaged after logging an error and writing an
    "attachment.integrity_failed" audit row: the caller commits that row, shows the message and
    serves nothing.
    """
    path = path_of(root, attachment)
    try:
        data = path.read_bytes()
    except OSError as error:
        found, problem = None, f"missing ({error.__class__.__name__})"
    else:
        found = hashlib.sha256(data).hexdigest()
        problem = None if found == attachment.sha256 else "digest mismatch"
    if problem is None:
        audit.record(
            "attachment.download",
            "case",
            case.id,
            patient_id=case.patient_id,
            details={"attachment_id": attachment.id},
        )
        return data
    raise _integrity_failure(case, attachment, problem, found)


def _integrity_failure(case: Case, attachment: Attachment, problem: str, found: str | None):
    """Log and audit a failed check; the exception to raise, with the message for the user."""
    log.error(
        "Attachment %s of case %s failed its integrity check: %s (expected %s, found %s, file %s)",
        attachment.id,
        case.id,
        problem,
        attachment.sha256,
        found,
        attachment.storage_key,
    )
    audit.record(
        "attachment.integrity_failed",
        "case",
        case.id,
        patient_id=case.patient_id,
        details={
            "attachment_id": attachment.id,
            "problem": problem,
            "expected_sha256": attachment.sha256,
            "found_sha256": found,
        },
    )
    if found is None:
        what = f"Le fichier « {attachment.original_name} » est introuvable sur le serveur."
    else:
        what = (
            f"Le fichier « {attachment.original_name} » est endommagé : son contenu ne "
            f"correspond plus au document déposé le {format_date(attachment.uploaded_at)}."
        )
    return AttachmentDamaged(
        f"{what} Il n'est pas transmis. L'incident a été enregistré ; prévenez "
        "l'administrateur de l'application et, si vous avez une copie du document, joignez-le "
        "à nouveau au dossier."
    )
