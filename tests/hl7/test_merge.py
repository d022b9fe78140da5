"""ADT^A40 over the socket: the absorbed patient's cases and fiches move to the survivor."""

from __future__ import annotations

from sqlalchemy import func, select

from rcp_app.cases.models import Case
from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche, FicheDocument, FicheVersion
from rcp_app.patients.merge import MERGED
from rcp_app.patients.models import Patient
from tests.fiches.support import signed_world
from tests.hl7.support import Client, message, mrg, new_ipp, new_matricule, pid


def _fiche_state(feed, case_id: int) -> dict:
    """What was signed, read from the rows: snapshot, bytes, digests."""
    with feed.app.app_context():
        fiche = db.session.scalar(select(Fiche).where(Fiche.case_id == case_id))
        versions = db.session.scalars(
            select(FicheVersion).where(FicheVersion.fiche_id == fiche.id)
        ).all()
        documents = db.session.scalars(
            select(FicheDocument).where(FicheDocument.version_id.in_([v.id for v in versions]))
        ).all()
        return {
            "fiche_id": fiche.id,
            "patient_id": fiche.patient_id,
            "versions": {v.id: (v.snapshot, v.validated_at, v.signer) for v in versions},
            # ``content`` re-checks the stored bytes against their SHA-256 on every read.
            "documents": {d.id: (d.sha256, d.content) for d in documents},
        }


def _case_patients(feed, case_ids) -> dict[int, int]:
    with feed.app.app_context():
        rows = db.session.execute(select(Case.id, Case.patient_id).where(Case.id.in_(case_ids)))
        return dict(rows.all())


def _exists(feed, patient_id: int) -> bool:
    with feed.app.app_context():
        return db.session.get(Patient, patient_id) is not None


def _merged_rows(feed, patient_id: int) -> list[AuditEntry]:
    with feed.app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == MERGED, AuditEntry.patient_id == patient_id
            )
        ).all()
        db.session.expunge_all()
        return list(rows)


def _survivor_pid(patient, **fields) -> str:
    fields.setdefault(
        "reliability", patient.identity_status if patient.identity_status != "QUAL" else "VALI"
    )
    fields.setdefault("matricule", patient.ins_matricule)
    return pid(patient.ipp, **fields)


def test_a40_moves_cases_and_signed_fiches_to_the_survivor(feed):
    world = signed_world(feed.app, feed.make)  # the absorbed patient: a case, a signed fiche
    with feed.app.app_context():
        absorbed = db.session.get(Patient, world.patient_id)
        absorbed_ins = absorbed.ins_matricule
        db.session.expunge(absorbed)
    # The survivor: the hospital's record, validated against an ID document, no INS yet.
    survivor = feed.make.patient(
        ipp=new_ipp(), identity_status="VALI", ins_matricule=None, ins_oid=None
    )
    survivor_case = feed.make.case(patient_id=survivor.id)
    other_case = feed.make.case(patient_id=world.patient_id)
    with feed.app.app_context():
        versions_before = dict(
            db.session.execute(
                select(Case.id, Case.version).where(Case.patient_id == world.patient_id)
            ).all()
        )
    signed = _fiche_state(feed, world.case_id)

    # The identity server kept the absorbed record's INS: the survivor becomes qualified.
    a40 = message("A40", pid(survivor.ipp, matricule=absorbed_ins), mrg(absorbed.ipp))
    with Client(feed.port) as client:
        answer = client.send(a40)

    assert answer.code == "AA", answer.raw
    assert _case_patients(feed, [world.case_id, other_case.id, survivor_case.id]) == {
        world.case_id: survivor.id,
        other_case.id: survivor.id,
        survivor_case.id: survivor.id,
    }
    after = _fiche_state(feed, world.case_id)
    assert after["patient_id"] == survivor.id
    assert after["versions"] == signed["versions"]  # snapshots as signed
    assert after["documents"] == signed["documents"]  # bytes and digests untouched
    with feed.app.app_context():
        versions_after = dict(
            db.session.execute(
                select(Case.id, Case.version).where(Case.id.in_(versions_before))
            ).all()
        )
        merged = db.session.get(Patient, survivor.id)
        assert (merged.identity_status, merged.ins_matricule) == ("QUAL", absorbed_ins)
    # A form opened on a moved case before the merge is refused, not applied blindly.
    assert versions_after == {case_id: v + 1 for case_id, v in versions_before.items()}
    assert not _exists(feed, world.patient_id)
    rows = _merged_rows(feed, survivor.id) + _merged_rows(feed, world.patient_id)
    assert len(rows) == 2
    for row in rows:
        details = row.details_dict()
        assert (details["survivor_patient_id"], details["absorbed_patient_id"]) == (
            survivor.id,
            world.patient_id,
        )
        # The signed fiche's transmissions (DCC, requester…) name the patient too: they move.
        moved = dict(details["moved"])
        assert moved.pop("transmissions.patient_id", 0) >= 1
        # So does the follow-up the signature opened (followups/).
        assert moved == {
            "cases.patient_id": 2,
            "fiches.patient_id": 1,
            "follow_ups.patient_id": 1,
        }
        assert row.username == "flux HL7 127.0.0.1"


def test_a40_between_two_different_qualified_ins_is_refused(feed):
    absorbed = feed.make.patient(ipp=new_ipp(), ins_matricule=new_matricule())
    survivor = feed.make.patient(ipp=new_ipp(), ins_matricule=new_matricule())
    case = feed.make.case(patient_id=absorbed.id)
    with Client(feed.port) as client:
        answer = client.send(message("A40", _survivor_pid(survivor), mrg(absorbed.ipp)))

    assert answer.code == "AE"
    assert "identité qualifiée avec un matricule INS différent" in answer.text
    assert f"IPP {absorbed.ipp}" in answer.text
    assert _case_patients(feed, [case.id]) == {case.id: absorbed.id}
    assert _exists(feed, absorbed.id) and _exists(feed, survivor.id)
    assert _merged_rows(feed, absorbed.id) == [] == _merged_rows(feed, survivor.id)


def test_a40_with_an_unknown_prior_patient_is_refused(feed):
    survivor = feed.make.patient(ipp=new_ipp(), ins_matricule=new_matricule())
    unknown = new_ipp()
    with Client(feed.port) as client:
        answer = client.send(message("A40", _survivor_pid(survivor), mrg(unknown)))
        replayed_without_mrg = client.send(message("A40", _survivor_pid(survivor)))
    assert answer.code == "AE"
    assert answer.field("ERR.F3") == "204"
    assert (answer.field("ERR.F2"), answer.field("ERR.F2.R1.C3")) == ("MRG", "1")
    assert unknown in answer.text
    assert replayed_without_mrg.code == "AE"
    assert _merged_rows(feed, survivor.id) == []


def test_a40_that_would_break_a_unique_rule_is_refused_whole(feed):
    absorbed = feed.make.patient(
        ipp=new_ipp(), identity_status="VALI", ins_matricule=None, ins_oid=None
    )
    survivor = feed.make.patient(ipp=new_ipp(), ins_matricule=new_matricule())
    first = feed.make.case(patient_id=absorbed.id)
    # Another case of the absorbed patient that could move, and one active case of each
    # record in the same session: the second move breaks « one active case per session ».
    movable = feed.make.case(patient_id=absorbed.id)
    clash = feed.make.case(patient_id=survivor.id, rcp_id=first.rcp_id, session_id=first.session_id)
    with Client(feed.port) as client:
        answer = client.send(message("A40", _survivor_pid(survivor), mrg(absorbed.ipp)))
    assert answer.code == "AE"
    assert "« cases »" in answer.text
    assert _case_patients(feed, [first.id, movable.id, clash.id]) == {
        first.id: absorbed.id,
        movable.id: absorbed.id,
        clash.id: survivor.id,
    }
    assert _exists(feed, absorbed.id)
    with feed.app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.action == MERGED,
                    AuditEntry.patient_id.in_([absorbed.id, survivor.id]),
                )
            )
            == 0
        )
