"""Verification of sealed fiche PDFs, reported in terms a human can act on.

A document is *authentic* only when pyHanko's overall judgment (``bottom_line``) holds for every
signature: the signed bytes are unchanged, the cryptographic signature is valid, the signer's
certificate chains to one of the given trust roots, any timestamp is valid and trusted, and
nothing but allowed changes (validation data, further signatures) was appended afterwards.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from .sync import outside_event_loop

logger = logging.getLogger(__name__)

NOT_A_PDF = "Le fichier n'est pas un PDF lisible (fichier corrompu, tronqué ou d'un autre type)."
NO_SIGNATURE = "Aucune signature trouvée."
MODIFIED = "Le document a été modifié après sa signature."
INVALID_SIGNATURE = "La signature électronique est invalide."
UNREADABLE_SIGNATURE = "La signature électronique est illisible ou corrompue."
UNTRUSTED_SIGNER = "Le certificat du signataire n'est pas reconnu."
REVOKED_SIGNER = "Le certificat du signataire a été révoqué."
EXPIRED_SIGNER = (
    "Le certificat du signataire n'était pas valide (expiré ou pas encore valide) "
    "à la date de vérification."
)
BAD_TIMESTAMP = "L'horodatage de la signature n'est pas valide ou n'est pas reconnu."

_EXPIRY_INDICATIONS = {
    AdESIndeterminate.EXPIRED,
    AdESIndeterminate.NOT_YET_VALID,
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
    AdESFailure.NOT_YET_VALID,
}


@dataclass
class SignatureReport:
    authentic: bool = False
    signed: bool = False
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    modified_after_signing: bool = False
    signer_name: str | None = None
    signed_at: dt.datetime | None = None
    timestamped: bool = False
    problems: list[str] = field(default_factory=list)


def load_trust_roots(paths: list[Path]) -> list[asn1_x509.Certificate]:
    """Certificates (PEM or DER, several per PEM file allowed) to trust as signing roots."""
    return list(load_certs_from_pemder([str(path) for path in paths]))


def verify_pdf(pdf_bytes: bytes, trust_roots: list) -> SignatureReport:
    """Check every signature of ``pdf_bytes``; never raises, whatever the input."""
    try:
        reader = PdfFileReader(BytesIO(pdf_bytes))
    except Exception:
        logger.info("Signature check: unreadable PDF", exc_info=True)
        return SignatureReport(problems=[NOT_A_PDF])
    try:
        # Parses each signature's CMS blob: a corrupted one fails here, not when reading.
        signatures = reader.embedded_regular_signatures
    except Exception:
        logger.info("Signature check: unreadable signature", exc_info=True)
        return SignatureReport(signed=True, problems=[UNREADABLE_SIGNATURE])
    if not signatures:
        return SignatureReport(problems=[NO_SIGNATURE])
    try:
        roots = [_as_asn1_certificate(cert) for cert in trust_roots]
        statuses = outside_event_loop(
            lambda: [_validate(signature, roots) for signature in signatures]
        )
    except Exception:
        logger.warning("Signature check: validation failed", exc_info=True)
        return SignatureReport(signed=True, problems=[UNREADABLE_SIGNATURE])
    return _report(statuses)


def _validate(signature, roots: list[asn1_x509.Certificate]) -> PdfSignatureStatus:
    # A fresh context per signature: it caches validation paths and revocation results.
    # No fetching: verification must not depend on (nor leak to) the network; without
    # revocation data the soft-fail mode accepts certificates that declare none (test PKI).
    context = ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"
    )
    return validate_pdf_signature(signature, signer_validation_context=context)


def _report(statuses: list[PdfSignatureStatus]) -> SignatureReport:
    # The fiche carries one seal; with several signatures, the last one (covering the most)
    # describes the document, but every one of them must hold for it to be authentic.
    last = statuses[-1]
    timestamp = last.timestamp_validity
    timestamped = timestamp is not None and _timestamp_ok(timestamp)
    problems = _deduplicated(problem for status in statuses for problem in _problems(status))
    authentic = all(status.bottom_line for status in statuses) and not problems
    if not authentic and not problems:
        # bottom_line failed for a reason not mapped above: never leave a failure unexplained.
        problems = [INVALID_SIGNATURE]
    return SignatureReport(
        authentic=authentic,
        signed=True,
        intact=all(status.intact for status in statuses),
        valid=all(status.valid for status in statuses),
        trusted=all(status.trusted for status in statuses),
        modified_after_signing=any(_modified(status) for status in statuses),
        signer_name=_signer_name(last.signing_cert),
        signed_at=_aware(timestamp.timestamp if timestamped else last.signer_reported_dt),
        timestamped=timestamped,
        problems=problems,
    )


def _problems(status: PdfSignatureStatus):
    if _modified(status):
        yield MODIFIED
    if status.intact and not status.valid:
        yield INVALID_SIGNATURE
    if status.intact and status.valid and not status.trusted:
        yield _trust_problem(status)
    if status.timestamp_validity is not None and not _timestamp_ok(status.timestamp_validity):
        yield BAD_TIMESTAMP
    if not status.seed_value_ok:
        yield INVALID_SIGNATURE


def _modified(status: PdfSignatureStatus) -> bool:
    # Not intact: the signed bytes changed. docmdp_ok False: something other than validation
    # data or further signatures was appended (e.g. a page added by an incremental update).
    return not status.intact or status.docmdp_ok is False


def _trust_problem(status: PdfSignatureStatus) -> str:
    if status.revoked:
        return REVOKED_SIGNER
    if status.trust_problem_indic in _EXPIRY_INDICATIONS:
        return EXPIRED_SIGNER
    return UNTRUSTED_SIGNER


def _timestamp_ok(timestamp) -> bool:
    return bool(timestamp.intact and timestamp.valid and timestamp.trusted)


def _signer_name(certificate: asn1_x509.Certificate | None) -> str | None:
    if certificate is None:
        return None
    subject = certificate.subject.native
    parts = [subject.get("common_name"), subject.get("organization_name")]
    return " — ".join(str(part) for part in parts if part) or certificate.subject.human_friendly


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)  # PDF dates without offset: read as UTC
    return moment


def _as_asn1_certificate(cert) -> asn1_x509.Certificate:
    if isinstance(cert, pyca_x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    return cert


def _deduplicated(problems) -> list[str]:
    return list(dict.fromkeys(problems))
