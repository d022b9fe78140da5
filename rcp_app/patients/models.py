from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .ins import INS_OIDS

IDENTITY_STATUSES = {
    "PROV": "Identité provisoire",
    "RECUP": "Identité récupérée",
    "VALI": "Identité validée",
    "QUAL": "Identité qualifiée",
}
SEXES = {"M": "Masculin", "F": "Féminin", "I": "Indéterminé"}
PATTERN_OPS = "varchar_pattern_ops"


class Patient(db.Model):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(
            "identity_status IN ('PROV', 'RECUP', 'VALI', 'QUAL')", name="identity_status_known"
        ),
        CheckConstraint("sex IN ('M', 'F', 'I')", name="sex_known"),
        # RECUP and QUAL identities come from the national INSi service: they carry an INS.
        CheckConstraint(
            "identity_status NOT IN ('RECUP', 'QUAL')"
            " OR (ins_matricule IS NOT NULL AND ins_oid IS NOT NULL)",
            name="ins_present_when_retrieved",
        ),
        CheckConstraint(
            "(ins_matricule IS NULL) = (ins_oid IS NULL)", name="ins_matricule_with_oid"
        ),
        # Search is by prefix (LIKE 'DUP%'). Under a non-C collation (fr_FR, ICU) PostgreSQL
        # can only use a btree for that with the pattern operator class; such an index also
        # serves equality. No index offers the names' collation order on purpose: a paginated
        # search then sorts its matches instead of walking the whole index in name order
        # (bench/README.md).
        *(
            Index(f"ix_patients_{column}_prefix", column, postgresql_ops={column: PATTERN_OPS})
            for column in ("birth_name_key", "used_name_key", "ins_matricule")
        ),
        # « Patients modifiés récemment »: read newest first, stopping at the page's end.
        Index("ix_patients_recent", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    birth_name: Mapped[str] = mapped_column(String(100))
    birth_first_names: Mapped[str] = mapped_column(String(200))
    first_birth_first_name: Mapped[str] = mapped_column(String(100))
    used_name: Mapped[str | None] = mapped_column(String(100))
    used_first_name: Mapped[str | None] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(index=True)
    birthplace_code: Mapped[str | None] = mapped_column(String(5))
    identity_status: Mapped[str] = mapped_column(String(5))
    ins_matricule: Mapped[str | None] = mapped_column(String(15), unique=True)
    ins_oid: Mapped[str | None] = mapped_column(String(40))
    ipp: Mapped[str | None] = mapped_column(String(40), unique=True)
    # Search keys: upper case, no accents (core.text.search_key), kept in step by operations.
    birth_name_key: Mapped[str] = mapped_column(String(100))
    used_name_key: Mapped[str | None] = mapped_column(String(100))
    first_name_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column()
    # Who registered the patient: they keep seeing the identity until a case makes them part
    # of a care team (rcp_app/access). NULL for rows older than this column and for imports.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_qualified(self) -> bool:
        return self.identity_status == "QUAL"

    @property
    def shown_ins(self) -> str | None:
        """The INS may only be shown or exchanged when the identity is qualified."""
        return self.ins_matricule if self.is_qualified else None

    @property
    def status_label(self) -> str:
        return IDENTITY_STATUSES[self.identity_status]

    @property
    def sex_label(self) -> str:
        return SEXES.get(self.sex, self.sex)

    @property
    def ins_oid_label(self) -> str | None:
        return INS_OIDS.get(self.ins_oid or "", self.ins_oid)

    @property
    def display_name(self) -> str:
        """Strict traits, as the identity rules want them shown: 'DUPONT Marie'."""
        return f"{self.birth_name.upper()} {self.first_birth_first_name}"

    @property
    def used_identity(self) -> str | None:
        """The used name / first name when they differ from the strict traits."""
        name = (self.used_name or "").upper()
        first = self.used_first_name or ""
        if (not name or name == self.birth_name.upper()) and (
            not first or first == self.first_birth_first_name
        ):
            return None
        return f"{name or self.birth_name.upper()} {first or self.first_birth_first_name}"
