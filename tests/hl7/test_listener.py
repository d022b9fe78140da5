"""The identity feed over a real socket: MLLP frames in, acknowledgements read back."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select

from rcp_app.core.audit import AuditEntry
from rcp_app.core.errors import DomainError
from rcp_app.extensions import db
from rcp_app.patients import ins
from rcp_app.patients.models import Patient
from rcp_app.patients.operations import validate
from tests.hl7.support import END, START, Client, message, new_ipp, new_matricule, pid

PEER = "127.0.0.1"


def stored(feed, ipp: str) -> Patient | None:
    with feed.app.app_context():
        patient = db.session.scalar(select(Patient).where(Patient.ipp == ipp))
        if patient is not None:
            db.session.expunge(patient)
        return patient


def audit_rows(feed, action: str, patient_id: int) -> list[AuditEntry]:
    with feed.app.app_context():
        rows = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.patient_id == patient_id)
            .order_by(AuditEntry.seq)
        ).all()
        db.session.expunge_all()
        return list(rows)


def test_a28_creates_a_patient_with_a_qualified_ins(feed):
    ipp, matricule = new_ipp(), new_matricule()
    names = "DUPONT^Marie^Marie Hélène^^^^L~MARTIN^Lucie^^^^^D"
    with Client(feed.port) as client:
        answer = client.send(message("A28", pid(ipp, matricule=matricule, names=names)))

    assert answer.code == "AA", answer.raw
    assert answer.field("MSH.F9.R1.C2") == "A28"
    assert (answer.field("MSH.F3"), answer.field("MSH.F5")) == ("RCP", "GAM")  # swapped
    patient = stored(feed, ipp)
    assert patient is not None
    assert (patient.identity_status, patient.ins_matricule, patient.ins_oid) == (
        "QUAL",
        matricule,
        ins.OID_TEST_NIR,
    )
    assert (patient.birth_name, patient.first_birth_first_name) == ("DUPONT", "Marie")
    assert patient.birth_first_names == "Marie Hélène"  # latin-1 decoded as MSH-18 says
    assert (patient.used_name, patient.used_first_name) == ("MARTIN", "Lucie")
    assert (patient.birth_date, patient.sex, patient.birthplace_code) == (
        date(1956, 4, 12),
        "F",
        "75056",
    )
    [row] = audit_rows(feed, "patient.create", patient.id)
    assert (row.user_id, row.username, row.ip) == (None, f"flux HL7 {PEER}", PEER)


def test_a31_updates_the_traits_with_the_current_version(feed):
    ipp = new_ipp()
    with Client(feed.port) as client:
        assert client.send(message("A28", pid(ipp, reliability="PROV"))).code == "AA"
        created = stored(feed, ipp)
        update = pid(
            ipp,
            names="DUPONT^Marie^Marie Hélène^^^^L~DURAND^Maria^^^^^D",
            addresses="",  # not sent: the birthplace stays
            reliability="",  # not sent: the status stays
        )
        answer = client.send(message("A31", update))

    assert answer.code == "AA", answer.raw
    patient = stored(feed, ipp)
    assert patient.id == created.id
    assert patient.version == created.version + 1
    assert (patient.used_name, patient.used_first_name) == ("DURAND", "Maria")
    assert (patient.birthplace_code, patient.identity_status) == ("75056", "PROV")
    [row] = audit_rows(feed, "patient.update", patient.id)
    assert row.details_dict() == {"fields": ["used_name", "used_first_name"]}


def test_the_hl7_null_erases_and_a_replayed_a31_changes_nothing(feed):
    ipp = new_ipp()
    with Client(feed.port) as client:
        assert client.send(message("A28", pid(ipp, reliability="PROV"))).code == "AA"
        erase = message("A31", pid(ipp, addresses="", birth_place='""', reliability=""))
        assert client.send(erase).code == "AA"
        after_erase = stored(feed, ipp)
        assert client.send(erase).code == "AA"

    assert after_erase.birthplace_code is None
    assert stored(feed, ipp).version == after_erase.version
    assert len(audit_rows(feed, "patient.update", after_erase.id)) == 1


def test_a31_for_an_unknown_patient_creates_it(feed):
    ipp = new_ipp()
    with Client(feed.port) as client:
        answer = client.send(message("A31", pid(ipp, reliability="PROV")))
    assert answer.code == "AA"
    assert stored(feed, ipp).identity_status == "PROV"


def test_a_bad_ins_key_is_refused_with_the_patient_rules_message(feed):
    ipp, matricule = new_ipp(), new_matricule()
    wrong_key = matricule[:13] + f"{(int(matricule[13:]) + 1) % 100:02d}"
    with Client(feed.port) as client:
        answer = client.send(message("A28", pid(ipp, matricule=wrong_key)))

    with feed.app.app_context(), pytest.raises(DomainError) as refused:
        validate(
            {
                "birth_name": "DUPONT",
                "birth_first_names": "Marie Hélène",
                "first_birth_first_name": "Marie",
                "sex": "F",
                "birth_date": date(1956, 4, 12),
                "identity_status": "QUAL",
                "ins_matricule": wrong_key,
                "ins_oid": ins.OID_TEST_NIR,
            }
        )
    assert answer.code == "AE"
    assert answer.text == refused.value.message
    assert "clé du matricule INS" in answer.text
    assert answer.field("ERR.F2") == "PID"  # ERR-2: PID^1^3
    assert answer.field("ERR.F2.R1.C3") == "3"
    assert stored(feed, ipp) is None


def test_an_ins_of_another_record_is_refused_and_that_access_audited(feed):
    other = feed.make.patient(ipp=new_ipp(), ins_matricule=new_matricule())
    ipp = new_ipp()
    with Client(feed.port) as client:
        answer = client.send(message("A28", pid(ipp, matricule=other.ins_matricule)))
    assert answer.code == "AE"
    assert answer.field("ERR.F3") == "205"
    assert f"IPP {other.ipp}" in answer.text
    assert stored(feed, ipp) is None
    [row] = audit_rows(feed, "patient.view", other.id)
    assert row.details_dict() == {"context": "duplicate_ins_matricule"}
    assert row.username == f"flux HL7 {PEER}"


def test_garbage_is_rejected_and_the_connection_stays_usable(feed):
    ipp = new_ipp()
    with Client(feed.port) as client:
        no_start = client.send_raw(b"\x00\xffbruit sur la ligne" + END)
        not_hl7 = client.send_raw(START + b"bonjour\rPID|1" + END)
        truncated = client.send_raw(START + b"MSH|^~\\&|GAM" + END)
        good = client.send(message("A28", pid(ipp, reliability="PROV")))

    assert [a.code for a in (no_start, not_hl7, truncated)] == ["AR", "AR", "AR"]
    assert "illisible" in not_hl7.text
    assert good.code == "AA"
    assert stored(feed, ipp) is not None


def test_noise_before_the_start_block_is_dropped(feed):
    ipp = new_ipp()
    with Client(feed.port) as client:
        text = message("A28", pid(ipp, reliability="PROV"))
        answer = client.send_raw(b"\r\n" + START + text.encode("latin-1") + END)
    assert answer.code == "AA"


@pytest.mark.parametrize(
    ("changes", "error_code"),
    [
        ({"event": "A01"}, "201"),
        ({"event": "A47"}, "201"),
        ({"message_type": "ORU"}, "200"),
        ({"processing": "T"}, "202"),
        ({"version": "2.3.1"}, "203"),
    ],
)
def test_what_the_feed_does_not_take_is_rejected(feed, changes, error_code):
    ipp = new_ipp()
    event = changes.pop("event", "A28")
    with Client(feed.port) as client:
        answer = client.send(message(event, pid(ipp), control_id="REFUS1", **changes))
    assert answer.code == "AR"
    assert answer.field("MSA.F2") == "REFUS1"
    assert answer.field("ERR.F3") == error_code
    assert stored(feed, ipp) is None


def test_a_message_without_ipp_or_pid_is_refused(feed):
    with Client(feed.port) as client:
        no_pid = client.send(message("A28"))
        no_ipp = client.send(message("A28", pid("").replace("^^^HOPITAL&", "^^^X&")))
    assert (no_pid.code, no_pid.field("ERR.F3")) == ("AE", "101")
    assert (no_ipp.code, no_ipp.field("ERR.F3")) == ("AE", "101")


def test_utf8_messages_are_read_and_answered_in_utf8(feed):
    ipp = new_ipp()
    names = "LEFÈVRE^Zoé^Zoé Anaïs^^^^L"
    text = message("A28", pid(ipp, names=names, reliability="PROV"), charset="UNICODE UTF-8")
    with Client(feed.port) as client:
        answer = client.send(text, encoding="utf-8")
        refused = client.send(
            message("A28", pid(new_ipp(), names="LEFÈVRE^^^^^^L"), charset="UNICODE UTF-8"),
            encoding="utf-8",
        )
    assert answer.code == "AA"
    patient = stored(feed, ipp)
    assert (patient.birth_name, patient.birth_first_names) == ("LEFÈVRE", "Zoé Anaïs")
    assert refused.code == "AE"
    assert refused.text == "Les prénoms de naissance sont obligatoires."  # read back as UTF-8


def test_concurrent_interfaces(feed):
    ipps = [[new_ipp() for _ in range(8)] for _ in range(4)]
    codes: list[str] = []

    def interface(batch):
        with Client(feed.port) as client:
            for ipp in batch:
                codes.append(client.send(message("A28", pid(ipp, reliability="PROV"))).code)

    threads = [threading.Thread(target=interface, args=(batch,)) for batch in ipps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert codes == ["AA"] * 32
    assert all(stored(feed, ipp) is not None for batch in ipps for ipp in batch)


def test_a_message_type_without_its_event_is_rejected(feed):
    text = message("A28", pid(new_ipp())).replace("ADT^A28^ADT_A05", "ADT", 1)
    with Client(feed.port) as client:
        answer = client.send(text)
    assert (answer.code, answer.field("ERR.F3")) == ("AR", "201")


def test_a_record_typed_before_the_feed_gets_its_ipp_from_the_ins(feed):
    typed = feed.make.patient(ipp=None, ins_matricule=new_matricule())
    ipp = new_ipp()
    with Client(feed.port) as client:
        answer = client.send(message("A28", pid(ipp, matricule=typed.ins_matricule)))
    assert answer.code == "AA"
    assert stored(feed, ipp).id == typed.id


def test_a_sender_hanging_up_mid_frame_leaves_the_listener_serving(feed):
    with Client(feed.port) as client:
        client.socket.sendall(START + b"MSH|^~\\&|GAM|HOPITAL")
    ipp = new_ipp()
    with Client(feed.port) as client:
        assert client.send(message("A28", pid(ipp, reliability="PROV"))).code == "AA"
