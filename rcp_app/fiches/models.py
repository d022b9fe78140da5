"""Validated and signed RCP fiches.

A ``Fiche`` is the set of versions of one decision's fiche (the CDA setId); a ``FicheVersion``
is one validated, signed version, frozen: its snapshot of every data item shown, and its two
documents (signed PDF, CDA) with their SHA-256. Versions and documents are write-once: the ORM
refuses updates and deletes, and so does the database (triggers, migration 0009). Whether a
version is current is not stored on it (that would need an update): the fiche knows its
current version number.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.errors import Conflict
from ..extensions import db

log = logging.getLogger(__name__)

DOCUMENT_KINDS = {"pdf": "application/pdf", "cda": "text/xml"}


class Fiche(db.Model):
    __tablename__ = "fiches"
    __table_args__ = (CheckConstraint("current_version >= 1", name="current_version_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[str] = mapped_column(String(36), unique=True)  # UUID, the CDA setId
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", ondelete="RESTRICT"), unique=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_sessions.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column()
    current_version: Mapped[int] = mapped_column(default=1)
    # Optimistic lock: two amendments started from the same version cannot both land.
    lock_version: Mapped[int] = mapped_column(default=1)

    versions: Mapped[list[FicheVersion]] = relationship(
        order_by="FicheVersion.version", back_populates="fiche"
    )
    case = relationship("Case")
    patient = relationship("Patient")
    session = relationship("MeetingSession")
    decision = relationship("Decision")

    __mapper_args__ = {"version_id_col": lock_version}


class FicheVersion(db.Model):
    __tablename__ = "fiche_versions"
    __table_args__ = (
        UniqueConstraint("fiche_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "version = 1 OR (amendment_reason IS NOT NULL AND amendment_reason <> '')",
            name="amendment_has_reason",
        ),
        # « Fiches signed since »: read in signing order with the fiche at hand (the API's
        # /fiches?since=, the statistics), without a visit to each row.
        Index("ix_fiche_versions_validated_at_fiche", "validated_at", "fiche_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fiche_id: Mapped[int] = mapped_column(ForeignKey("fiches.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column()
    document_id: Mapped[str] = mapped_column(String(36), unique=True)  # UUID, the CDA id
    verification_code: Mapped[str] = mapped_column(String(14), unique=True)
    snapshot: Mapped[str] = mapped_column(Text)  # JSON (fiches/snapshot.py)
    validated_at: Mapped[datetime] = mapped_column()  # naive UTC
    validated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    signer: Mapped[str] = mapped_column(String(300))  # the seal certificate's subject

    fiche: Mapped[Fiche] = relationship(back_populates="versions")
    validated_by = relationship("User")
    documents: Mapped[list[FicheDocument]] = relationship(
        order_by="FicheDocument.kind", back_populates="version"
    )

    @property
    def signer_label(self) -> str:
        """'Cachet RCP — Centre hospitalier X' from the stored RFC 4514 subject."""
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        try:
            name = x509.Name.from_rfc4514_string(self.signer)
        except ValueError:
            return self.signer
        parts = [
            attribute.value
            for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME)
            for attribute in name.get_attributes_for_oid(oid)
        ]
        return " — ".join(parts) or self.signer

    def snapshot_dict(self) -> dict:
        return json.loads(self.snapshot)

    def document(self, kind: str) -> FicheDocument:
        return next(d for d in self.documents if d.kind == kind)


class DocumentAltered(Conflict):
    """A stored fiche document whose bytes no longer match their digest."""


class DigestCheckedBytes:
    """The bytes of a signed document, read through ``content`` only: every read re-checks
    them against the SHA-256 written with them (fiche and care programme documents alike).
    The class declares ``sha256``, ``kind``, ``version_id`` and the ``content`` column as
    ``_content``."""

    @property
    def content(self) -> bytes:
        """The stored bytes; refused (``DocumentAltered``) if they no longer match their
        SHA-256. Downloads, the GP inbox, deliveries and exports all read here."""
        data = self._content
        if hashlib.sha256(data).hexdigest() != self.sha256:
            log.error(
                "%s of version %s: stored %s does not match its SHA-256",
                self.__tablename__,
                self.version_id,
                self.kind,
            )
            raise DocumentAltered(
                "Le document enregistré ne correspond plus à son empreinte : il n'est pas servi. "
                "L'incident est signalé dans le journal du serveur ; prévenez l'administrateur."
            )
        return data

    @content.setter
    def content(self, data: bytes) -> None:
        self._content = data

    @property
    def media_type(self) -> str:
        return DOCUMENT_KINDS[self.kind]


def document_rows(model, contents: dict[str, bytes], **fields) -> list:
    """One ``model`` row per (kind, bytes), with its SHA-256 and size."""
    return [
        model(
            kind=kind,
            sha256=hashlib.sha256(content).hexdigest(),
            size_bytes=len(content),
            content=content,
            **fields,
        )
        for kind, content in contents.items()
    ]


class FicheDocument(DigestCheckedBytes, db.Model):
    """The bytes of one document of a version: the signed PDF, or the CDA it embeds."""

    __tablename__ = "fiche_documents"
    __table_args__ = (
        UniqueConstraint("version_id", "kind"),
        CheckConstraint("kind IN ('pdf', 'cda')", name="kind_known"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("fiche_versions.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(3))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column()
    _content: Mapped[bytes] = mapped_column("content", LargeBinary)

    version: Mapped[FicheVersion] = relationship(back_populates="documents")


def write_once(*models, what: str) -> None:
    """The ORM refuses to update or delete rows of ``models`` (the database refuses too:
    triggers of migrations 0009 and 0018)."""

    def refuse_update(*_args):
        raise RuntimeError(f"{what} est immuable : modification interdite.")

    def refuse_delete(*_args):
        raise RuntimeError(f"{what} est immuable : suppression interdite.")

    for model in models:
        event.listen(model, "before_update", refuse_update)
        event.listen(model, "before_delete", refuse_delete)


write_once(FicheVersion, FicheDocument, what="Une fiche signée")
