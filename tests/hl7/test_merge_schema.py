"""The merge finds the rows to move in the schema: a table added later is not forgotten."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, ForeignKey, Integer, Table, insert, select

from rcp_app.core.errors import DomainError
from rcp_app.extensions import db
from rcp_app.patients.merge import merge_patients, referencing_columns
from rcp_app.patients.models import Patient
from tests.hl7.support import new_ipp, new_matricule


@pytest.fixture
def future_tables(feed):
    """Two tables no code knows: notes about a patient, and pure patient ↔ group links."""
    notes = Table(
        "hl7_future_notes",
        db.metadata,
        Column("id", Integer, primary_key=True),
        Column("patient_id", ForeignKey("patients.id", ondelete="RESTRICT"), nullable=False),
    )
    links = Table(
        "hl7_future_links",
        db.metadata,
        Column("group_id", Integer, primary_key=True),
        Column("patient_id", ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True),
    )
    try:
        with feed.app.app_context():
            for table in (notes, links):
                table.create(db.engine)
        yield notes, links
    finally:
        with feed.app.app_context():
            for table in (notes, links):
                table.drop(db.engine, checkfirst=True)
                db.metadata.remove(table)


def test_every_foreign_key_to_patients_is_walked(feed, future_tables):
    notes, links = future_tables
    names = {f"{c.table.name}.{c.name}" for c in referencing_columns()}
    assert {"cases.patient_id", "fiches.patient_id", "exceptional_accesses.patient_id"} <= names
    assert {"hl7_future_notes.patient_id", "hl7_future_links.patient_id"} <= names


def test_rows_of_a_new_table_move_and_links_already_held_are_not_doubled(feed, future_tables):
    notes, links = future_tables
    absorbed = feed.make.patient(
        ipp=new_ipp(), identity_status="PROV", ins_matricule=None, ins_oid=None
    )
    survivor = feed.make.patient(ipp=new_ipp(), ins_matricule=new_matricule())
    with feed.app.app_context():
        db.session.execute(insert(notes), [{"id": 1, "patient_id": absorbed.id}])
        db.session.execute(
            insert(links),
            [
                {"group_id": 1, "patient_id": absorbed.id},
                {"group_id": 2, "patient_id": absorbed.id},
                {"group_id": 1, "patient_id": survivor.id},
            ],
        )
        moved = merge_patients(
            db.session.get(Patient, survivor.id), db.session.get(Patient, absorbed.id)
        )
        db.session.commit()
        assert moved["hl7_future_notes.patient_id"] == 1
        assert moved["hl7_future_links.patient_id"] == 1
        assert db.session.scalars(select(notes.c.patient_id)).all() == [survivor.id]
        assert sorted(db.session.execute(select(links.c.group_id, links.c.patient_id)).all()) == [
            (1, survivor.id),
            (2, survivor.id),
        ]
        assert db.session.get(Patient, absorbed.id) is None


def test_a_patient_is_not_merged_into_itself(feed):
    patient = feed.make.patient(ipp=new_ipp(), ins_matricule=new_matricule())
    with feed.app.app_context():
        row = db.session.get(Patient, patient.id)
        with pytest.raises(DomainError, match="lui-même"):
            merge_patients(row, row)
        db.session.rollback()
        assert db.session.get(Patient, patient.id) is not None
