"""Is this fiche authentic, and is it the version in force?

Shared by the public page and ``flask rcp verify``. The answer says only what the holder of the
PDF (or of the code printed on it) can already read: version, validation date and physician,
the seal, and whether a newer version exists; never the patient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..core import audit
from ..core.timeutil import utcnow
from ..extensions import db
from .models import FicheDocument, FicheVersion
from .operations import normalise_code, sha256
from .pdf import person_name
from .signature.bounded import check_signature
from .signature.verify import SignatureReport

VERIFY_ACTION = "fiche.verify"  # one row per attempt, written before the check: the limit
RESULT_ACTION = "fiche.verify_result"  # what the check found


@dataclass
class Verdict:
    authentic: bool = False
    checked: str = "pdf"  # "pdf": the file's signature and bytes; "code": the code alone
    version: int | None = None
    current_version: int | None = None
    validated_at: datetime | None = None  # naive UTC
    validated_by: str | None = None
    signer: str | None = None
    signed_at: datetime | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return self.version is not None and self.version == self.current_version

    @property
    def ok(self) -> bool:
        """Authentic, unmodified, and the version in force."""
        return self.authentic and self.current


def _describe(verdict: Verdict, version: FicheVersion) -> None:
    frozen = version.snapshot_dict()
    verdict.version = version.version
    verdict.current_version = version.fiche.current_version
    verdict.validated_at = version.validated_at
    verdict.validated_by = person_name(frozen["people"]["legal_authenticator"])
    verdict.signer = verdict.signer or version.signer
    if not verdict.current:
        verdict.problems.append(
            f"Cette version ({version.version}) a été remplacée par la version "
            f"{verdict.current_version} : demandez la version en vigueur à l'établissement."
        )


def verify_document(pdf: bytes) -> Verdict:
    """The file's signature (pyHanko, trusted roots) and its bytes against what we issued."""
    return describe_document(pdf, check_signature(pdf))


def describe_document(pdf: bytes, report: SignatureReport) -> Verdict:
    """The verdict on ``pdf`` given its signature report (``bounded.check_signature``, run
    with no transaction open): what we issued with these exact bytes, if anything."""
    verdict = Verdict(
        checked="pdf",
        signer=report.signer_name,
        signed_at=report.signed_at,
        problems=list(report.problems),
    )
    version = db.session.scalar(
        select(FicheVersion)
        .join(FicheDocument, FicheDocument.version_id == FicheVersion.id)
        .where(FicheDocument.kind == "pdf", FicheDocument.sha256 == sha256(pdf))
        .options(joinedload(FicheVersion.fiche))
    )
    if version is None:
        if report.authentic:
            verdict.problems.append(
                "La signature est valide, mais ce document n'a pas été émis par ce service."
            )
        return verdict
    verdict.authentic = report.authentic
    _describe(verdict, version)
    return verdict


def verify_code(raw_code: str | None) -> Verdict:
    """The fiche version a printed code designates (the PDF itself is not checked)."""
    verdict = Verdict(checked="code")
    code = normalise_code(raw_code)
    if code is None:
        verdict.problems.append(
            "Code de vérification invalide : il comporte 12 caractères (ex. K7QF-3MZP-9TXD)."
        )
        return verdict
    version = db.session.scalar(
        select(FicheVersion)
        .where(FicheVersion.verification_code == code)
        .options(joinedload(FicheVersion.fiche))
    )
    if version is None:
        verdict.problems.append("Aucune fiche émise par ce service ne porte ce code.")
        return verdict
    verdict.authentic = True
    _describe(verdict, version)
    return verdict


def attempts_in_last_hour(ip: str | None, now: datetime | None = None) -> int:
    """Verification attempts from one address (audit rows), for the page's rate limit."""
    since = (now or utcnow()) - timedelta(hours=1)
    return db.session.scalar(
        select(func.count())
        .select_from(audit.AuditEntry)
        .where(
            audit.AuditEntry.action == VERIFY_ACTION,
            audit.AuditEntry.ip == ip,
            audit.AuditEntry.at >= since,
        )
    )


def record_attempt(checked: str) -> None:
    """Count an attempt before any work, so parallel uploads cannot outrun the limit."""
    audit.record(VERIFY_ACTION, "fiche_version", None, details={"checked": checked})


def record_result(verdict: Verdict) -> None:
    audit.record(
        RESULT_ACTION,
        "fiche_version",
        None,
        details={
            "checked": verdict.checked,
            "authentic": verdict.authentic,
            "version": verdict.version,
            "current": verdict.current,
        },
    )
