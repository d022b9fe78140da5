"""Merge two patient records of the same person (a duplicate): the survivor keeps everything.

Which rows belong to a patient is read from the schema, not listed here: every column with a
foreign key to ``patients.id`` in ``db.metadata`` (cases, fiches, exceptional accesses, the
API's establishment links… and any table added later). Each such row is moved to the survivor
with one UPDATE per column; the absorbed patient's row is then deleted.

Why delete the absorbed row rather than keep it: ``patients`` has no column saying « merged
into », and a kept row would still hold its IPP and INS (both unique), so the next message or
search for that IPP would find the duplicate again. Deleting it lets the database prove that
nothing still points at it: every foreign key to ``patients`` is RESTRICT or CASCADE, and the
former would refuse the DELETE had the walk forgotten a table (the latter's rows were moved
first, so nothing is cascaded away). What keeps the absorbed id is what may not change: the
append-only audit log, whose ``patients.merged`` rows (one in each patient's history) link
the two ids.

Signed fiches stay as signed: a ``fiches`` row (the set of versions) moves to the survivor like
any row, while its write-once versions and documents (database triggers refuse UPDATE) keep
the snapshot of the identity they were signed with; a correction is an amendment, as always.

Rows whose primary key contains the patient (pure links, e.g. an establishment ↔ patient
link) already held by the survivor are dropped rather than moved: the survivor has that link.
Any other unique rule the moved rows would break (two active cases of the two records in the
same session) refuses the merge with the table named: someone must settle it first.

Rows of versioned models (``version_id_col``) get their version bumped, so that a form opened
on them before the merge is refused (edit conflict), never applied blindly.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, and_, delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from ..core import audit
from ..core.errors import DomainError
from ..extensions import db
from .models import Patient

MERGED = "patients.merged"


def referencing_columns() -> list[Column]:
    """Every column holding a foreign key to ``patients.id``, in a stable order."""
    patients = Patient.__table__
    found = [
        key.parent
        for table in db.metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table is patients
    ]
    return sorted(found, key=lambda column: (column.table.name, column.name))


def _reference(patient: Patient) -> str:
    return f"IPP {patient.ipp}" if patient.ipp else f"dossier n° {patient.id}"


def check_mergeable(survivor: Patient, absorbed: Patient) -> None:
    if survivor.id == absorbed.id:
        raise DomainError("Un dossier patient ne peut pas être fusionné avec lui-même.")
    if (
        survivor.is_qualified
        and absorbed.is_qualified
        and survivor.ins_matricule != absorbed.ins_matricule
    ):
        raise DomainError(
            "Fusion refusée : les deux dossiers portent chacun une identité qualifiée avec un "
            f"matricule INS différent ({_reference(survivor)} et {_reference(absorbed)}) : "
            "ce sont deux personnes distinctes. Vérifiez les identités avant toute fusion.",
            field="ins_matricule",
        )


def _version_column(table: Table) -> Column | None:
    for mapper in db.Model.registry.mappers:
        if mapper.local_table is table and mapper.version_id_col is not None:
            return mapper.version_id_col
    return None


def _drop_links_already_held(column: Column, survivor_id: int, absorbed_id: int) -> int:
    """Rows whose primary key includes ``column``: those the survivor already has go."""
    table = column.table
    key = list(table.primary_key.columns)
    if column not in key or len(key) < 2:
        return 0
    held = table.alias("held")
    same_link = and_(
        held.c[column.name] == survivor_id,
        *(held.c[other.name] == other for other in key if other is not column),
    )
    result = db.session.execute(
        delete(table).where(column == absorbed_id, exists(select(1).where(same_link)))
    )
    return result.rowcount or 0


def _move(column: Column, survivor_id: int, absorbed_id: int) -> int:
    values = {column.name: survivor_id}
    version = _version_column(column.table)
    if version is not None:
        values[version.name] = version + 1
    try:
        with db.session.begin_nested():
            result = db.session.execute(
                update(column.table).where(column == absorbed_id).values(values)
            )
    except IntegrityError as error:
        raise DomainError(
            "Fusion refusée : des données des deux dossiers ne peuvent pas être réunies "
            f"(table « {column.table.name} » : elles enfreindraient une règle d'unicité, par "
            "exemple deux dossiers RCP actifs dans la même séance). Réglez ce doublon dans "
            "l'application, puis renvoyez la fusion."
        ) from error
    return result.rowcount or 0


def merge_patients(survivor: Patient, absorbed: Patient) -> dict[str, int]:
    """Move everything of ``absorbed`` to ``survivor``, delete ``absorbed``; audited.

    Returns the rows moved per ``table.column``. Raises DomainError when the two records may
    not be merged. Flushes, never commits.
    """
    # Both rows locked, in id order (two merges of the same pair cannot deadlock).
    for patient in sorted((survivor, absorbed), key=lambda p: p.id):
        db.session.refresh(patient, with_for_update=True)
    check_mergeable(survivor, absorbed)
    db.session.flush()
    survivor_id, absorbed_id = survivor.id, absorbed.id
    moved = {}
    dropped = {}
    for column in referencing_columns():
        name = f"{column.table.name}.{column.name}"
        if count := _drop_links_already_held(column, survivor_id, absorbed_id):
            dropped[name] = count
        if count := _move(column, survivor_id, absorbed_id):
            moved[name] = count
    db.session.delete(absorbed)
    db.session.flush()
    # Loaded rows may hold the absorbed id: read them again from the database.
    db.session.expire_all()
    details = {
        "survivor_patient_id": survivor_id,
        "absorbed_patient_id": absorbed_id,
        "moved": moved,
        "links_already_held": dropped,
    }
    for patient_id in (survivor_id, absorbed_id):
        audit.record(MERGED, "patient", patient_id, patient_id=patient_id, details=details)
    return moved
