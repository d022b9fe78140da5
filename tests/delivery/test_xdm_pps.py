"""The IHE_XDM.ZIP and the e-mail of a care programme (PPS): the CANCER-PPS XDS codes, the
patient identifiers, the replacement of the previous version; and the fiche's archive, which
the document profiles must leave byte for byte as it was."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email import message_from_bytes, policy

import pytest
from lxml import etree

from rcp_app.delivery.message import build_message
from rcp_app.delivery.pps_message import PPS_MAIL, PPS_PROFILE
from rcp_app.delivery.xdm import build_xdm_zip, document_entry_uuid
from rcp_app.fiches.cda.identifiers import uuid_oid
from rcp_app.pps.cda import build_pps_cda
from tests.delivery.test_message import (
    INS_CX,
    IPP_CX,
    NS,
    PARIS,
    SCHEMES,
    SOURCE_OID,
    SUBMISSION,
    classification,
    entry_slot,
    external_id,
    unzip,
)
from tests.fiches import samples as fiche_samples
from tests.pps import samples

METADATA = "IHE_XDM/SUBSET01/METADATA.XML"
CDA = b"<?xml version='1.0' encoding='UTF-8'?>\n<ClinicalDocument xmlns='urn:hl7-org:v3'/>\n"
PDF = b"%PDF-1.7\n%%EOF\n"
GP = {
    "address": "luc.bernard@medecin.mssante.fr",
    "person": {
        "rpps": "10000000045",
        "title": "Dr",
        "last_name": "Bernard",
        "first_name": "Luc",
        "establishment": None,
    },
}
MESSAGE_ID = "<p.3f6b1d2e8a4c4b7d9e10.gp.3@ch-valmont.mssante.fr>"
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
LOINC = "2.16.840.1.113883.6.1"
TRE_A03 = "1.2.250.1.213.1.1.4.1"
TRE_A06 = "1.2.250.1.213.1.1.4.2.282"

# SHA-256 of the fiche archives built from these samples, the CDA above, GP and MESSAGE_ID-like
# ids by xdm.py as it was before the document profiles (computed then, not by this code).
FRCP_ARCHIVES = {
    "organ_snapshot": "09c5a40e13d25db2e4f2e95dd99a74080bb9642b214209eecce1c73b1701ec29",
    "amendment_snapshot": "f6b5bbe8e91ed14f3d657065a362e5a75711a9e40c3b485e397f5fdfbfe0f896",
    "unqualified_identity_snapshot": (
        "72e2abb2e9098a0a73d4bb19e6fcac9825b1629d09b66cf3b613f52d8e4c006f"
    ),
}


def pps_zip(snapshot: dict, cda: bytes = CDA) -> bytes:
    return build_xdm_zip(
        snapshot,
        cda,
        submission_time=SUBMISSION,
        source_oid=SOURCE_OID,
        recipient=GP,
        message_id=MESSAGE_ID,
        profile=PPS_PROFILE,
    )


def metadata(snapshot: dict) -> etree._Element:
    return etree.fromstring(unzip(pps_zip(snapshot))[METADATA])


@pytest.mark.parametrize("sample", sorted(FRCP_ARCHIVES))
def test_the_fiche_archive_is_byte_identical_to_before(sample):
    archive = build_xdm_zip(
        getattr(fiche_samples, sample)(),
        CDA,
        submission_time=SUBMISSION,
        source_oid=SOURCE_OID,
        recipient=GP,
        message_id="<f.abc.gp.3@ch-valmont.mssante.fr>",
    )
    assert hashlib.sha256(archive).hexdigest() == FRCP_ARCHIVES[sample]


def test_the_document_entry_carries_the_cancer_pps_codes():
    root = metadata(samples.pps_snapshot())
    assert classification(root, SCHEMES["typeCode"]) == ("18776-5", LOINC)
    assert classification(root, SCHEMES["classCode"]) == ("44", TRE_A03)
    assert classification(root, SCHEMES["formatCode"]) == (
        "urn:asip:ci-sis:pps-cancer:2017",
        TRE_A06,
    )
    names = root.xpath("//rim:Classification/rim:Name/rim:LocalizedString/@value", namespaces=NS)
    assert "Plan personnalisé de soins" in names
    assert "Plan de soins, protocole de soins" in names
    assert "Fiche de réunion de concertation pluridisciplinaire" not in names


def test_the_entry_names_the_programme_and_starts_at_its_validation():
    root = metadata(samples.pps_snapshot())
    # 2026-12-03T10:15:00+01:00, in UTC
    assert entry_slot(root, "serviceStartTime") == ["20261203091500"]
    assert entry_slot(root, "creationTime") == ["20261203091500"]
    titles = root.xpath("//rim:ExtrinsicObject/rim:Name/rim:LocalizedString/@value", namespaces=NS)
    assert titles == ["Programme personnalisé de soins – RCP Sénologie"]
    description = root.xpath(
        "//rim:RegistryPackage/rim:Description/rim:LocalizedString/@value", namespaces=NS
    )
    assert description == [
        "Envoi du programme personnalisé de soins par Centre hospitalier de Valmont"
    ]
    assert entry_slot(root, "hash") == [hashlib.sha1(CDA, usedforsecurity=False).hexdigest()]


def test_a_qualified_identity_is_sent_with_its_ins():
    root = metadata(samples.pps_snapshot())
    assert external_id(root, SCHEMES["entryPatientId"]) == INS_CX
    assert external_id(root, SCHEMES["setPatientId"]) == INS_CX
    assert INS_CX in entry_slot(root, "sourcePatientInfo")[0]


def test_an_unqualified_identity_never_carries_the_ins():
    snapshot = samples.unqualified_identity_snapshot()
    root = metadata(snapshot)
    assert external_id(root, SCHEMES["entryPatientId"]) == IPP_CX
    assert external_id(root, SCHEMES["setPatientId"]) == IPP_CX
    assert "1.2.250.1.213.1.4" not in etree.tostring(root).decode()
    message = _message(snapshot)
    assert message["X-MSS-INS"] == "N"


def test_version_two_replaces_the_entry_of_version_one():
    first = metadata(samples.pps_snapshot())
    assert first.xpath(f"//rim:Association[@associationType='{RPLC}']", namespaces=NS) == []
    (replaces,) = metadata(samples.amended_snapshot()).xpath(
        f"//rim:Association[@associationType='{RPLC}']", namespaces=NS
    )
    (first_entry,) = first.xpath("//rim:ExtrinsicObject/@id", namespaces=NS)
    assert replaces.get("targetObject") == first_entry
    assert first_entry == document_entry_uuid(samples.PPS_BREAST["document"]["id"])


def test_the_readme_and_index_speak_of_the_programme():
    files = unzip(pps_zip(samples.pps_snapshot()))
    readme = files["README.TXT"].decode()
    assert readme.startswith("Archive IHE XDM — programme personnalisé de soins (PPS)\r\n")
    assert "Proposition de la RCP Sénologie, séance du 26/11/2026" in readme
    assert "Programme validé par : Dr " in readme and "Version du programme : 1" in readme
    assert "volet CANCER-PPS" in readme
    assert "fiche" not in readme.lower() and "vérification" not in readme.lower()
    index = files["INDEX.HTM"].decode()
    assert "programme validé le 03/12/2026\r\n(version 1)" in index
    assert "volet CANCER-PPS" in index and "FRCP" not in index


def test_the_archive_holds_the_cda_and_its_id_is_the_xds_unique_id():
    snapshot = samples.pps_snapshot()
    cda = build_pps_cda(snapshot)
    files = unzip(pps_zip(snapshot, cda))
    assert files["IHE_XDM/SUBSET01/DOC0001.XML"] == cda
    root = etree.fromstring(files[METADATA])
    unique_id = external_id(root, SCHEMES["entryUniqueId"])
    assert unique_id == uuid_oid(snapshot["document"]["id"])
    document = etree.fromstring(cda)
    assert document.find("{urn:hl7-org:v3}id").get("root") == unique_id
    assert document.find("{urn:hl7-org:v3}code").get("code") == "18776-5"


def _message(snapshot: dict):
    message = build_message(
        snapshot,
        PDF,
        CDA,
        sender="rcp.senologie@ch-valmont.mssante.fr",
        recipient=GP["address"],
        message_id=MESSAGE_ID,
        submission_time=SUBMISSION,
        source_oid=SOURCE_OID,
        read_receipt_to="rcp.senologie@ch-valmont.mssante.fr",
        intended_recipient=GP,
        mail=PPS_MAIL,
    )
    return message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)


def test_the_message_says_what_it_carries_without_the_patient_name():
    snapshot = samples.pps_snapshot()
    message = _message(snapshot)
    assert message["Subject"] == "Programme personnalisé de soins — RCP Sénologie (version 1)"
    assert message["X-MSS-CODECDA"] == "18776-5" and message["X-MSS-INS"] == "O"
    body = message.get_body(("plain",)).get_content()
    assert "Patiente : D. M., née en 1961" in body
    assert "Dupont" not in body and "Dupont" not in message["Subject"]
    assert "Validé et signé le 03/12/2026 à 10:15" in body
    files = sorted(part.get_filename() for part in message.iter_attachments())
    set_id = snapshot["document"]["set_id"]
    assert files == ["IHE_XDM.ZIP", f"pps-{set_id}-v1.pdf"]
    assert f"pps-{set_id}-v1.pdf : le programme tel qu'il a été remis au patient" in body
    archive = next(p for p in message.iter_attachments() if p.get_filename() == "IHE_XDM.ZIP")
    root = etree.fromstring(unzip(archive.get_content())[METADATA])
    assert classification(root, SCHEMES["typeCode"])[0] == "18776-5"


def test_the_message_of_an_amendment_gives_its_reason():
    body = _message(samples.amended_snapshot()).get_body(("plain",)).get_content()
    assert "(version 2)" not in body and "Version du programme : 2" in body
    assert "Motif : Date de l'intervention avancée au 11/12/2026." in body


def test_the_message_is_dated_from_the_submission_in_paris():
    message = _message(samples.pps_snapshot())
    sent = datetime.strptime(message["Date"], "%a, %d %b %Y %H:%M:%S %z")
    assert sent == SUBMISSION.astimezone(PARIS)
