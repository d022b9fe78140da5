"""MSSanté e-mail of a signed fiche and its IHE_XDM.ZIP (XDS metadata, CDA, README, INDEX)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import datetime
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from lxml import html as lxml_html

from rcp_app.delivery.message import build_message
from rcp_app.delivery.xdm import build_xdm_zip, document_entry_uuid
from rcp_app.fiches.cda import build_cda
from rcp_app.fiches.cda.identifiers import uuid_oid
from tests.fiches import samples

LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
NS = {"lcm": LCM, "rim": RIM, "h": "urn:hl7-org:v3"}
SCHEMES = {
    "typeCode": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "formatCode": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "classCode": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "confidentialityCode": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "healthcareFacilityTypeCode": "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
    "practiceSettingCode": "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
    "entryPatientId": "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
    "entryUniqueId": "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
    "setPatientId": "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
    "setUniqueId": "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
    "setSourceId": "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832",
}
EXPECTED_ENTRIES = {
    "README.TXT",
    "INDEX.HTM",
    "IHE_XDM/SUBSET01/METADATA.XML",
    "IHE_XDM/SUBSET01/DOC0001.XML",
}
PARIS = ZoneInfo("Europe/Paris")
SUBMISSION = datetime(2026, 11, 26, 19, 0, 5, tzinfo=PARIS)
SOURCE_OID = "1.2.250.1.999.1.9"
SENDER = "rcp.senologie@ch-valmont.mssante.fr"
RECIPIENT = "luc.bernard@medecin.mssante.fr"
MESSAGE_ID = "<fiche-5b9e3f7a-v1-gp@ch-valmont.mssante.fr>"
PDF = b"%PDF-1.7\n% fiche signee (contenu factice pour le test)\n%%EOF\n"
INS_CX = "261047505600123^^^&1.2.250.1.213.1.4.8&ISO"
IPP_CX = "IPP000123^^^&1.2.250.1.999.1.1&ISO"


RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"


def make_zip(
    snapshot: dict,
    submission_time: datetime = SUBMISSION,
    *,
    recipient: dict | None = None,
    message_id: str | None = None,
) -> bytes:
    return build_xdm_zip(
        snapshot,
        build_cda(snapshot),
        submission_time=submission_time,
        source_oid=SOURCE_OID,
        recipient=recipient,
        message_id=message_id,
    )


def make_message(snapshot: dict, *, read_receipt_to: str | None = SENDER):
    return build_message(
        snapshot,
        PDF,
        build_cda(snapshot),
        sender=SENDER,
        recipient=RECIPIENT,
        message_id=MESSAGE_ID,
        submission_time=SUBMISSION,
        source_oid=SOURCE_OID,
        read_receipt_to=read_receipt_to,
    )


def unzip(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def metadata_of(snapshot: dict, **options) -> etree._Element:
    return etree.fromstring(unzip(make_zip(snapshot, **options))["IHE_XDM/SUBSET01/METADATA.XML"])


def classification(root, scheme: str):
    (node,) = root.findall(f".//rim:Classification[@classificationScheme='{scheme}']", NS)
    return node.get("nodeRepresentation"), node.findtext(
        ".//rim:Slot/rim:ValueList/rim:Value", namespaces=NS
    )


def external_id(root, scheme: str) -> str:
    (node,) = root.findall(f".//rim:ExternalIdentifier[@identificationScheme='{scheme}']", NS)
    return node.get("value")


def entry_slot(root, name: str) -> list[str]:
    return root.xpath(
        f"//rim:ExtrinsicObject/rim:Slot[@name='{name}']/rim:ValueList/rim:Value/text()",
        namespaces=NS,
    )


def parsed(message):
    return message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)


# --- the archive --------------------------------------------------------------------------


def test_zip_holds_exactly_the_xdm_entries():
    with zipfile.ZipFile(io.BytesIO(make_zip(samples.organ_snapshot()))) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
    assert sorted(names) == sorted(EXPECTED_ENTRIES)


def test_cda_entry_is_the_cda_unchanged():
    snapshot = samples.organ_snapshot()
    assert unzip(make_zip(snapshot))["IHE_XDM/SUBSET01/DOC0001.XML"] == build_cda(snapshot)


def test_zip_is_reproducible_and_dated_from_the_submission():
    snapshot = samples.organ_snapshot()
    assert make_zip(snapshot) == make_zip(snapshot)
    later = datetime(2026, 11, 27, 8, 30, tzinfo=PARIS)
    assert make_zip(snapshot, later) != make_zip(snapshot)
    with zipfile.ZipFile(io.BytesIO(make_zip(snapshot))) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 11, 26, 19, 0, 4)}


def test_metadata_is_an_ebrim_submit_objects_request():
    root = metadata_of(samples.organ_snapshot())
    assert root.tag == f"{{{LCM}}}SubmitObjectsRequest"
    objects = root.find("rim:RegistryObjectList", NS)
    assert objects is not None
    assert len(objects.findall("rim:RegistryPackage", NS)) == 1
    assert len(objects.findall("rim:ExtrinsicObject", NS)) == 1
    assert len(objects.findall("rim:Association", NS)) == 1


def test_document_entry_codes():
    root = metadata_of(samples.organ_snapshot())
    assert classification(root, SCHEMES["typeCode"]) == ("34794-8", "2.16.840.1.113883.6.1")
    assert classification(root, SCHEMES["formatCode"]) == (
        "urn:asip:ci-sis:frcp:2011",
        "1.2.250.1.213.1.1.4.2.282",
    )
    assert classification(root, SCHEMES["classCode"]) == ("10", "1.2.250.1.213.1.1.4.1")
    assert classification(root, SCHEMES["confidentialityCode"]) == ("N", "2.16.840.1.113883.5.25")
    assert classification(root, SCHEMES["practiceSettingCode"])[0] == "ETABLISSEMENT"
    assert classification(root, SCHEMES["healthcareFacilityTypeCode"])[0] == "SA01"
    assert entry_slot(root, "languageCode") == ["fr-FR"]


def test_document_entry_times_are_utc():
    root = metadata_of(samples.organ_snapshot())
    assert entry_slot(root, "creationTime") == ["20261126174200"]  # 18:42 Paris
    assert entry_slot(root, "serviceStartTime") == ["20261126163000"]  # 17:30 Paris
    submission = root.xpath(
        "//rim:RegistryPackage/rim:Slot[@name='submissionTime']//rim:Value/text()", namespaces=NS
    )
    assert submission == ["20261126180005"]


def test_unique_id_is_the_cda_document_id():
    snapshot = samples.organ_snapshot()
    entries = unzip(make_zip(snapshot))
    cda_id = etree.fromstring(entries["IHE_XDM/SUBSET01/DOC0001.XML"]).find("h:id", NS).get("root")
    root = etree.fromstring(entries["IHE_XDM/SUBSET01/METADATA.XML"])
    assert external_id(root, SCHEMES["entryUniqueId"]) == cda_id
    assert cda_id == uuid_oid(snapshot["document"]["id"])


def test_uri_names_the_cda_entry_of_the_subset():
    root = metadata_of(samples.organ_snapshot())
    (uri,) = entry_slot(root, "URI")
    assert f"IHE_XDM/SUBSET01/{uri}" in EXPECTED_ENTRIES
    assert uri == "DOC0001.XML"


def test_hash_and_size_describe_the_cda_entry():
    entries = unzip(make_zip(samples.organ_snapshot()))
    cda = entries["IHE_XDM/SUBSET01/DOC0001.XML"]
    root = etree.fromstring(entries["IHE_XDM/SUBSET01/METADATA.XML"])
    assert entry_slot(root, "hash") == [hashlib.sha1(cda, usedforsecurity=False).hexdigest()]
    assert entry_slot(root, "size") == [str(len(cda))]


def test_patient_id_is_the_ins_when_the_identity_is_qualified():
    root = metadata_of(samples.organ_snapshot())
    assert external_id(root, SCHEMES["entryPatientId"]) == INS_CX
    assert external_id(root, SCHEMES["setPatientId"]) == INS_CX
    assert entry_slot(root, "sourcePatientId") == [IPP_CX]


def test_patient_id_is_the_ipp_when_the_identity_is_not_qualified():
    root = metadata_of(samples.unqualified_identity_snapshot())
    assert external_id(root, SCHEMES["entryPatientId"]) == IPP_CX
    assert external_id(root, SCHEMES["setPatientId"]) == IPP_CX
    (pid3,) = [
        value for value in entry_slot(root, "sourcePatientInfo") if value.startswith("PID-3")
    ]
    assert pid3 == f"PID-3|{IPP_CX}"


def test_submission_set_identifies_source_and_author():
    root = metadata_of(samples.organ_snapshot())
    assert external_id(root, SCHEMES["setSourceId"]) == SOURCE_OID
    assert external_id(root, SCHEMES["setUniqueId"]).startswith("2.25.")
    author = root.xpath(
        "//rim:RegistryPackage/rim:Classification/rim:Slot[@name='authorPerson']//rim:Value/text()",
        namespaces=NS,
    )
    assert author == ["810000000011^MARTIN^Claire^^^Dr^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"]
    legal = entry_slot(root, "legalAuthenticator")
    assert legal == author


def test_association_puts_the_document_in_the_submission_set():
    root = metadata_of(samples.organ_snapshot())
    package = root.find(".//rim:RegistryPackage", NS)
    document = root.find(".//rim:ExtrinsicObject", NS)
    association = root.find(".//rim:Association", NS)
    assert association.get("associationType").endswith("AssociationType:HasMember")
    assert association.get("sourceObject") == package.get("id")
    assert association.get("targetObject") == document.get("id")
    node = root.find(
        ".//rim:Classification[@classificationNode='urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd']",
        NS,
    )
    assert node.get("classifiedObject") == package.get("id")


def test_readme_and_index_describe_the_archive_in_french():
    entries = unzip(make_zip(samples.organ_snapshot()))
    readme = entries["README.TXT"].decode("utf-8")
    assert "Centre hospitalier de Valmont" in readme
    assert "séance du 26/11/2026" in readme
    assert "IHE_XDM/SUBSET01/DOC0001.XML" in readme
    page = lxml_html.fromstring(entries["INDEX.HTM"])
    links = set(page.xpath("//a/@href"))
    assert "IHE_XDM/SUBSET01/DOC0001.XML" in links
    assert links <= EXPECTED_ENTRIES


# --- the e-mail ---------------------------------------------------------------------------


def test_email_headers():
    message = parsed(make_message(samples.organ_snapshot()))
    assert message["Message-ID"] == MESSAGE_ID
    assert message["From"] == SENDER
    assert message["To"] == RECIPIENT
    assert message["Disposition-Notification-To"] == SENDER
    assert parsedate_to_datetime(message["Date"]) == SUBMISSION
    assert message["X-MSS-CODECDA"] == "34794-8"
    assert message["X-MSS-INS"] == "O"


def test_no_read_receipt_request_without_an_address():
    message = parsed(make_message(samples.organ_snapshot(), read_receipt_to=None))
    assert message["Disposition-Notification-To"] is None


def test_subject_is_french_and_free_of_identity():
    snapshot = samples.organ_snapshot()
    subject = parsed(make_message(snapshot))["Subject"]
    assert subject == "Fiche RCP — RCP Sénologie — séance du 26/11/2026 (version 1)"
    patient = snapshot["patient"]
    for trait in ("Dupont", "Lefèvre", "Marie", "1961", patient["ipp"]):
        assert trait not in subject


def test_body_gives_the_verification_code_and_initials_only():
    message = parsed(make_message(samples.organ_snapshot()))
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "K7QF-3MZP-9TXD" in body
    assert "https://rcp.example.fr/verifier?code=K7QF-3MZP-9TXD" in body
    assert "Patiente : D. M., née en 1961" in body
    for name in ("Dupont", "Lefèvre", "Marie Louise"):
        assert name not in body


def test_amended_fiche_says_why_in_the_body():
    message = parsed(make_message(samples.amendment_snapshot()))
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Correction du TNM." in body
    assert "(version 2)" in message["Subject"]


def test_attachments_are_byte_identical():
    snapshot = samples.organ_snapshot()
    attachments = list(parsed(make_message(snapshot)).iter_attachments())
    assert [part.get_content_type() for part in attachments] == [
        "application/pdf",
        "application/zip",
    ]
    pdf_part, zip_part = attachments
    assert pdf_part.get_filename() == "fiche-rcp-5b9e3f7a-1c2d-4e8f-a6b7-c8d9e0f1a2b3-v1.pdf"
    assert pdf_part.get_content() == PDF
    assert zip_part.get_filename() == "IHE_XDM.ZIP"
    # Built for this message: addressed to its To address, with its own submission set.
    assert zip_part.get_content() == make_zip(
        snapshot, recipient={"address": RECIPIENT, "person": None}, message_id=MESSAGE_ID
    )


def test_message_serialises_for_smtp_and_reproducibly():
    message = make_message(samples.organ_snapshot())
    raw = message.as_bytes(policy=policy.SMTP)
    assert bytes(message).replace(b"\n", b"\r\n") == raw
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert raw == make_message(samples.organ_snapshot()).as_bytes(policy=policy.SMTP)


def _everything_sent(message) -> bytes:
    """The raw e-mail plus every decoded part and every file inside the ZIP."""
    chunks = [message.as_bytes(policy=policy.SMTP)]
    for part in parsed(message).walk():
        if not part.is_multipart():
            chunks.append(part.get_payload(decode=True))
    archive = next(
        p for p in parsed(message).iter_attachments() if p.get_filename() == "IHE_XDM.ZIP"
    )
    chunks.extend(unzip(archive.get_content()).values())
    return b"\n".join(chunks)


@pytest.mark.parametrize(
    ("make_snapshot", "ins_expected"),
    [(samples.organ_snapshot, True), (samples.unqualified_identity_snapshot, False)],
    ids=["qualifiee", "non_qualifiee"],
)
def test_ins_travels_only_for_a_qualified_identity(make_snapshot, ins_expected):
    message = make_message(make_snapshot())
    sent = _everything_sent(message)
    assert (b"261047505600123" in sent) is ins_expected
    assert (b"1.2.250.1.213.1.4.8" in sent) is ins_expected
    assert parsed(message)["X-MSS-INS"] == ("O" if ins_expected else "N")


def test_provisional_identity_with_a_stale_ins_does_not_leak_it():
    """A snapshot still holding the INS but no longer qualified must not send it."""
    snapshot = samples.organ_snapshot()
    snapshot["patient"]["identity_status"] = "VALI"
    sent = _everything_sent(make_message(snapshot))
    assert b"261047505600123" not in sent


def test_hl7_delimiters_in_names_are_escaped():
    snapshot = samples.organ_snapshot()
    establishment = {"name": "Clinique Saint-Jean & Sainte-Anne", "finess": "750000002"}
    snapshot["people"]["author"] = {**snapshot["people"]["author"], "establishment": establishment}
    root = metadata_of(snapshot)
    institution = root.xpath(
        "//rim:ExtrinsicObject/rim:Classification/rim:Slot[@name='authorInstitution']//rim:Value",
        namespaces=NS,
    )[0].text
    assert institution.startswith("Clinique Saint-Jean \\T\\ Sainte-Anne^^^^^&")
    assert institution.count("&") == 2  # only the assigning authority's subcomponents


def test_every_slot_value_fits_the_ebrim_long_name():
    root = metadata_of(samples.full_clinical_snapshot())
    values = root.xpath("//rim:Value/text() | //rim:ExternalIdentifier/@value", namespaces=NS)
    assert values
    assert max(len(value) for value in values) <= 256


def test_naive_submission_time_is_taken_as_utc():
    """The application stores naive UTC instants (core.timeutil.utcnow)."""
    snapshot = samples.organ_snapshot()
    naive_utc = SUBMISSION.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    assert make_zip(snapshot, naive_utc) == make_zip(snapshot)
    message = build_message(
        snapshot,
        PDF,
        build_cda(snapshot),
        sender=SENDER,
        recipient=RECIPIENT,
        message_id=MESSAGE_ID,
        submission_time=naive_utc,
        source_oid=SOURCE_OID,
        read_receipt_to=None,
    )
    assert parsedate_to_datetime(parsed(message)["Date"]) == SUBMISSION


# --- per message: recipient, submission set, replacement, facility --------------------------


def set_slot(root, name: str) -> list[str]:
    return root.xpath(
        f"//rim:RegistryPackage/rim:Slot[@name='{name}']/rim:ValueList/rim:Value/text()",
        namespaces=NS,
    )


def test_intended_recipient_names_the_professional_and_the_address():
    gp = samples.GP  # RPPS 10000000060, Dr Luc BERNARD, establishment Valmont (FINESS 750000001)
    recipient = {"address": RECIPIENT, "person": gp}
    root = metadata_of(samples.organ_snapshot(), recipient=recipient, message_id=MESSAGE_ID)
    assert set_slot(root, "intendedRecipient") == [
        "Centre hospitalier de Valmont^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750000001"
        "|810000000060^BERNARD^Luc^^^Dr^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
        "|^^Internet^luc.bernard@medecin.mssante.fr"
    ]


def test_intended_recipient_of_a_mailbox_is_its_address_alone():
    recipient = {"address": "dcc@rcp-idf.mssante.fr", "person": None}
    root = metadata_of(samples.organ_snapshot(), recipient=recipient, message_id=MESSAGE_ID)
    assert set_slot(root, "intendedRecipient") == ["||^^Internet^dcc@rcp-idf.mssante.fr"]


def test_message_without_a_named_recipient_addresses_its_to_address():
    archive = next(
        part.get_content()
        for part in parsed(make_message(samples.organ_snapshot())).iter_attachments()
        if part.get_filename() == "IHE_XDM.ZIP"
    )
    root = etree.fromstring(unzip(archive)["IHE_XDM/SUBSET01/METADATA.XML"])
    assert set_slot(root, "intendedRecipient") == [f"||^^Internet^{RECIPIENT}"]


def test_two_messages_of_one_version_are_two_submission_sets_of_one_entry():
    snapshot = samples.organ_snapshot()
    first = metadata_of(snapshot, message_id="<f.a.gp.1@x.mssante.fr>")
    second = metadata_of(snapshot, message_id="<f.a.dcc.0@x.mssante.fr>")
    ids = [root.find(".//rim:RegistryPackage", NS).get("id") for root in (first, second)]
    unique_ids = [external_id(root, SCHEMES["setUniqueId"]) for root in (first, second)]
    assert ids[0] != ids[1] and unique_ids[0] != unique_ids[1]
    entries = {root.find(".//rim:ExtrinsicObject", NS).get("id") for root in (first, second)}
    assert entries == {document_entry_uuid(snapshot["document"]["id"])}
    # A re-send of the same message (same Message-ID) is the same submission.
    again = metadata_of(snapshot, message_id="<f.a.gp.1@x.mssante.fr>")
    assert external_id(again, SCHEMES["setUniqueId"]) == unique_ids[0]


def test_amendment_replaces_the_entry_of_the_previous_version():
    previous = metadata_of(samples.organ_snapshot())
    amendment = samples.amendment_snapshot()
    entries = unzip(make_zip(amendment))
    root = etree.fromstring(entries["IHE_XDM/SUBSET01/METADATA.XML"])
    (replacement,) = root.findall(f".//rim:Association[@associationType='{RPLC}']", NS)
    assert replacement.get("sourceObject") == root.find(".//rim:ExtrinsicObject", NS).get("id")
    assert replacement.get("targetObject") == previous.find(".//rim:ExtrinsicObject", NS).get("id")
    # The CDA says the same: relatedDocument RPLC -> the previous version's uniqueId.
    cda = etree.fromstring(entries["IHE_XDM/SUBSET01/DOC0001.XML"])
    (parent_id,) = cda.xpath(
        "h:relatedDocument[@typeCode='RPLC']/h:parentDocument/h:id/@root", namespaces=NS
    )
    assert parent_id == external_id(previous, SCHEMES["entryUniqueId"])


def test_first_version_replaces_nothing():
    root = metadata_of(samples.organ_snapshot())
    assert root.findall(f".//rim:Association[@associationType='{RPLC}']", NS) == []
    assert len(root.findall(f".//rim:Association[@associationType='{HAS_MEMBER}']", NS)) == 1


def test_facility_type_is_the_custodian_establishment_s():
    snapshot = samples.organ_snapshot()
    snapshot["custodian"]["facility_type"] = {
        "code": "SA36",
        "system": "1.2.250.1.71.4.2.4",
        "label": "Centre anti-cancer",
    }
    root = metadata_of(snapshot)
    assert classification(root, SCHEMES["healthcareFacilityTypeCode"]) == (
        "SA36",
        "1.2.250.1.71.4.2.4",
    )
    (name,) = root.xpath(
        f"//rim:Classification[@classificationScheme='{SCHEMES['healthcareFacilityTypeCode']}']"
        "/rim:Name/rim:LocalizedString/@value",
        namespaces=NS,
    )
    assert name == "Centre anti-cancer"
    code = etree.fromstring(build_cda(snapshot)).find(
        "h:componentOf/h:encompassingEncounter/h:location/h:healthCareFacility/h:code", NS
    )
    assert (code.get("code"), code.get("displayName")) == ("SA36", "Centre anti-cancer")
