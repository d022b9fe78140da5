"""IHE XDM package (ITI TF-2b 3.32, Distribute Document Set on Media) of a signed document.

MSSanté carries structured documents as an ``IHE_XDM.ZIP`` attachment: the CDA R2 document, its
XDS metadata (an ebRIM SubmitObjectsRequest in ``METADATA.XML``), a ``README.TXT`` and an
``INDEX.HTM`` for people opening the archive by hand. Pure function of the fiche snapshot and
the CDA bytes and the message it travels in: the same inputs always give the same archive,
byte for byte. Each message gets its own archive: the submission set names its recipient
(intendedRecipient) and has identifiers of its own, while the document entry, derived from the
fiche version alone, is the same in every archive of that version.

Coded values follow the CI-SIS XDS value sets (JDV_J02, J04, J06, J07, J08 and the ANS formatCode
list); the mapping CDA header -> XDS metadata follows the ANS "volet partage de documents".
What depends on the kind of document (its type, class and format codes, titles, wording, service
start time) comes from a ``DocumentProfile``: the FRCP one (``FRCP``) is every builder's default;
the care programme's is in pps_message.py. The snapshot keys read here otherwise (document,
custodian, patient, people.author / legal_authenticator) have the same shape in both.
"""

from __future__ import annotations

import hashlib
import html
import io
import uuid
import zipfile
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from lxml import etree

from ..fiches.cda.identifiers import uuid_oid
from ..fiches.cda.xml import display_name

LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
NSMAP = {"lcm": LCM, "rim": RIM}

SUBSET = "IHE_XDM/SUBSET01"
CDA_FILE_NAME = "DOC0001.XML"
CDA_ENTRY = f"{SUBSET}/{CDA_FILE_NAME}"
METADATA_ENTRY = f"{SUBSET}/METADATA.XML"
README_ENTRY = "README.TXT"
INDEX_ENTRY = "INDEX.HTM"
ZIP_ENTRIES = (README_ENTRY, INDEX_ENTRY, METADATA_ENTRY, CDA_ENTRY)

PARIS = ZoneInfo("Europe/Paris")
RPPS_ROOT = "1.2.250.1.71.4.2.1"
FINESS_ROOT = "1.2.250.1.71.4.2.2"

# ebRIM object types and the IHE-assigned UUIDs of the XDS attributes (ITI TF-3 4.2.5).
OBJECT_TYPE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:"
STABLE_DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
# ITI TF-3 4.2.2.2: a new version of a document replaces the entry of the previous one.
REPLACES = "urn:ihe:iti:2007:AssociationType:RPLC"


class Scheme:
    """classificationScheme / identificationScheme UUIDs of the attributes used here."""

    SS_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
    SS_CONTENT_TYPE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
    SS_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
    SS_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
    SS_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
    DE_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
    DE_CLASS = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
    DE_CONFIDENTIALITY = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
    DE_FORMAT = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
    DE_FACILITY_TYPE = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
    DE_PRACTICE_SETTING = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
    DE_TYPE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
    DE_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
    DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"


# (code, codingScheme, display name)
TYPE_CODE = ("34794-8", "2.16.840.1.113883.6.1", "CR de réunion de concertation pluridisciplinaire")
# JDV_J06-XdsClassCode-CISIS, TRE_A03-ClasseDocument.
CLASS_CODE = ("10", "1.2.250.1.213.1.1.4.1", "Compte rendu")
# ANS formatCode list (TRE_A06-FormatCodeComplementaire) for the FRCP volet.
FORMAT_CODE = (
    "urn:asip:ci-sis:frcp:2011",
    "1.2.250.1.213.1.1.4.2.282",
    "Fiche de réunion de concertation pluridisciplinaire",
)
CONFIDENTIALITY_CODE = ("N", "2.16.840.1.113883.5.25", "Normal")
# JDV_J04: the fiche is produced by a health establishment (the CDA's standardIndustryClassCode).
PRACTICE_SETTING_CODE = ("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9", "Etablissement de santé")
# JDV_J02 category of the custodian establishment: custodian["facility_type"] = {code, system,
# label} from the directory. Snapshots frozen before it was recorded (migration 0014) have none:
# they were all sent as a public hospital, and a re-send must say the same.
LEGACY_FACILITY_TYPE = ("SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé")
# JDV_J59-ContentTypeCode-DMP (TRE_R209-TypeActivite): activity that led to the submission.
CONTENT_TYPE_CODE = ("07", "1.2.250.1.213.2.2", "Consultation Soins Externes")
LANGUAGE = "fr-FR"


class DocumentProfile:
    """What the archive says of the kind of document it carries: here the FRCP, the default of
    every builder below. A subclass describes another CI-SIS volet (pps_message.py)."""

    type_code = TYPE_CODE
    class_code = CLASS_CODE
    format_code = FORMAT_CODE
    readme_heading = "Archive IHE XDM — fiche de réunion de concertation pluridisciplinaire (RCP)"
    metadata_contents = "métadonnées XDS (IHE ITI, lot de soumission et fiche)"
    cda_contents = "fiche RCP au format CDA R2 (CI-SIS, volet FRCP)"
    index_link = "Fiche RCP (document CDA R2, volet FRCP)"

    def title(self, snapshot: dict) -> str:
        return f"{snapshot['document']['title']} – {snapshot['rcp']['name']}"

    def description(self, snapshot: dict) -> str:
        return f"Envoi de la fiche RCP par {snapshot['custodian']['name']}"

    def service_start(self, snapshot: dict) -> str:
        """serviceStartTime: when the act the document reports began (the RCP session)."""
        return snapshot["session"]["starts_at"]

    def readme_facts(self, snapshot: dict, sent_at: str) -> list[str]:
        return [
            f"RCP : {snapshot['rcp']['name']}, séance du {_session_date(snapshot)}",
            f"Fiche validée et signée par : {signer_name(snapshot)}",
            f"Version de la fiche : {snapshot['document']['version']}",
            f"Envoyée le : {sent_at} (heure de Paris)",
        ]

    def verification(self, snapshot: dict) -> list[str]:
        """README lines on checking the signed PDF (only fiches have a verification code)."""
        document = snapshot["document"]
        return [
            "Vérification de l'authenticité de la version PDF signée :",
            f"  code {document['verification_code']} sur {document['verification_url']}",
            "",
        ]

    def index_summary(self, snapshot: dict) -> str:
        version = snapshot["document"]["version"]
        return f"fiche de la séance du {_session_date(snapshot)}\n(version {version})"


FRCP = DocumentProfile()


def qualified_ins(snapshot: dict) -> dict | None:
    """The INS {matricule, oid} when it may leave the application, i.e. a qualified identity."""
    patient = snapshot["patient"]
    if patient.get("identity_status") == "QUAL" and patient.get("ins"):
        return patient["ins"]
    return None


HL7_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))


def hl7_text(text: str) -> str:
    """Free text inside an HL7 v2 datatype: its delimiters escaped (a name may hold an &)."""
    for delimiter, escape in HL7_ESCAPES:
        text = text.replace(delimiter, escape)
    return text


def cx(identifier: str, authority_oid: str) -> str:
    """HL7 v2 CX datatype as XDS wants it: id^^^&OID&ISO."""
    return f"{identifier}^^^&{authority_oid}&ISO"


def ipp_cx(snapshot: dict) -> str:
    return cx(snapshot["patient"]["ipp"], f"{snapshot['document']['oid_root']}.1")


def xds_patient_id(snapshot: dict) -> str:
    """INS when qualified, otherwise the local IPP: an unqualified INS must not be exchanged."""
    ins = qualified_ins(snapshot)
    return cx(ins["matricule"], ins["oid"]) if ins else ipp_cx(snapshot)


def as_utc(instant: datetime) -> datetime:
    """An aware instant; a naive one is UTC, as the application stores them (core.timeutil)."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def xds_time(value: str | datetime) -> str:
    """XDS DTM: UTC, YYYYMMDDhhmmss (ITI TF-3 4.2.3.1.7); a date alone stays YYYYMMDD."""
    if isinstance(value, str) and len(value) == 10:
        return value.replace("-", "")
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return as_utc(instant).strftime("%Y%m%d%H%M%S")


def xcn(person: dict) -> str:
    """XCN of a professional identified by RPPS (national id 8 + RPPS, type IDNPS)."""
    return (
        f"8{person['rpps']}^{hl7_text(person['last_name'].upper())}"
        f"^{hl7_text(person['first_name'])}^^^{hl7_text(person.get('title') or '')}"
        f"^^^&{RPPS_ROOT}&ISO^D^^^IDNPS"
    )


def xon(establishment: dict) -> str:
    """XON of an establishment identified by FINESS (national id 1 + FINESS, type IDNST)."""
    name = hl7_text(establishment["name"])
    return f"{name}^^^^^&{FINESS_ROOT}&ISO^IDNST^^^1{establishment['finess']}"


def coded_value(coded: dict) -> str:
    """A coded value as an XDS slot string: code^display^OID."""
    return f"{coded['code']}^{hl7_text(display_name(coded))}^{coded['system']}"


def intended_recipient(recipient: dict) -> str:
    """intendedRecipient slot value, XON|XCN|XTN (ITI TF-3 4.2.3.3.8): the recipient's
    establishment (FINESS) and person (RPPS) when the directory knows them, and the MSSanté
    address the message goes to, so that the receiving software can check it was meant for it.

    ``recipient``: {"address", "person": {rpps, last_name, first_name, title, establishment}
    or None} — None for a mailbox that is not a person's (the regional DCC).
    """
    person = recipient.get("person")
    establishment = person.get("establishment") if person else None
    organisation = xon(establishment) if establishment else ""
    individual = xcn(person) if person else ""
    telecom = f"^^Internet^{recipient['address']}" if recipient.get("address") else ""
    return f"{organisation}|{individual}|{telecom}"


def document_entry_uuid(document_id: str) -> str:
    """entryUUID of a fiche version's document entry: the same in every archive of it, so an
    amendment can point at the entry its recipients already hold."""
    return uuid.uuid5(uuid.UUID(document_id), "xds-document-entry").urn


class _Ids:
    """Deterministic entry UUIDs: the document's from the fiche version, the submission set's
    from the message (each message is its own submission, even at the same instant)."""

    def __init__(self, document_id: str, submission_time: datetime, message_id: str | None):
        namespace = uuid.UUID(document_id)
        self.document = document_entry_uuid(document_id)
        sending = message_id if message_id else f"at {xds_time(submission_time)}"
        submission = uuid.uuid5(namespace, f"xds-submission-set {sending}")
        self.submission_set = submission.urn
        # An OID under the UUID arc 2.25 (ITU-T X.667): unique per sending without a registry.
        self.submission_unique_id = f"2.25.{submission.int}"
        self._namespace = submission

    def __call__(self, label: str) -> str:
        return uuid.uuid5(self._namespace, label).urn


def _rim(parent, tag: str, **attrs) -> etree._Element:
    element = etree.SubElement(parent, f"{{{RIM}}}{tag}")
    for name, value in attrs.items():
        element.set(name, value)
    return element


def _slot(parent, name: str, *values: str) -> None:
    value_list = _rim(_rim(parent, "Slot", name=name), "ValueList")
    for value in values:
        _rim(value_list, "Value").text = value


def _name(parent, text: str, tag: str = "Name") -> None:
    localized = _rim(_rim(parent, tag), "LocalizedString", value=text)
    localized.set("{http://www.w3.org/XML/1998/namespace}lang", LANGUAGE)
    localized.set("charset", "UTF-8")


def _classification(parent, ids, scheme: str, target: str, code: tuple, label: str):
    node_code, coding_scheme, display = code
    node = _rim(
        parent,
        "Classification",
        id=ids(label),
        objectType=f"{OBJECT_TYPE}Classification",
        classificationScheme=scheme,
        classifiedObject=target,
        nodeRepresentation=node_code,
    )
    _slot(node, "codingScheme", coding_scheme)
    _name(node, display)
    return node


def _external_identifier(parent, ids, scheme: str, target: str, value: str, label: str):
    node = _rim(
        parent,
        "ExternalIdentifier",
        id=ids(label),
        objectType=f"{OBJECT_TYPE}ExternalIdentifier",
        identificationScheme=scheme,
        registryObject=target,
        value=value,
    )
    _name(node, label)


def _author(parent, ids, scheme: str, target: str, snapshot: dict) -> None:
    """Author classification: the validating physician, his establishment, role and specialty."""
    person = snapshot["people"]["author"]
    node = _rim(
        parent,
        "Classification",
        id=ids(f"author {scheme}"),
        objectType=f"{OBJECT_TYPE}Classification",
        classificationScheme=scheme,
        classifiedObject=target,
        nodeRepresentation="",
    )
    _slot(node, "authorPerson", xcn(person))
    if person.get("establishment"):
        _slot(node, "authorInstitution", xon(person["establishment"]))
    # The CDA author's functionCode (care-team member who validated the fiche).
    _slot(node, "authorRole", "353^Membre de l'équipe de soins^1.2.250.1.213.1.6.1.107")
    _slot(node, "authorSpecialty", coded_value(person["specialty"]))
    if person.get("mssante"):
        _slot(node, "authorTelecommunication", f"^^Internet^{person['mssante']}")


def _facility_type(snapshot: dict) -> tuple:
    declared = snapshot["custodian"].get("facility_type")
    if declared:
        return declared["code"], declared["system"], display_name(declared)
    return LEGACY_FACILITY_TYPE


def _source_patient_info(snapshot: dict) -> list[str]:
    """PID fields of the patient as the source knows her; the INS only when qualified."""
    patient = snapshot["patient"]
    identifiers = [ipp_cx(snapshot)]
    if qualified_ins(snapshot):
        identifiers.insert(0, xds_patient_id(snapshot))
    sex = {"M": "M", "F": "F"}.get(patient["sex"], "U")
    info = [f"PID-3|{'~'.join(identifiers)}"]
    first_name = hl7_text(patient["first_birth_first_name"])
    info.append(f"PID-5|{hl7_text(patient['birth_name'])}^{first_name}^^^^^L")
    if patient.get("used_name"):
        used_first = hl7_text(patient.get("used_first_name") or "") or first_name
        info.append(f"PID-5|{hl7_text(patient['used_name'])}^{used_first}^^^^^D")
    info.append(f"PID-7|{xds_time(patient['birth_date'])}")
    info.append(f"PID-8|{sex}")
    return info


def _submission_set(
    objects, ids: _Ids, snapshot: dict, submission_time, source_oid, recipient, profile
) -> None:
    target = ids.submission_set
    package = _rim(
        objects, "RegistryPackage", id=target, objectType=f"{OBJECT_TYPE}RegistryPackage"
    )
    _slot(package, "submissionTime", xds_time(submission_time))
    if recipient:
        _slot(package, "intendedRecipient", intended_recipient(recipient))
    _name(package, profile.title(snapshot))
    _name(package, profile.description(snapshot), "Description")
    _author(package, ids, Scheme.SS_AUTHOR, target, snapshot)
    _classification(
        package, ids, Scheme.SS_CONTENT_TYPE, target, CONTENT_TYPE_CODE, "contentTypeCode"
    )
    _external_identifier(
        package,
        ids,
        Scheme.SS_UNIQUE_ID,
        target,
        ids.submission_unique_id,
        "XDSSubmissionSet.uniqueId",
    )
    _external_identifier(
        package, ids, Scheme.SS_SOURCE_ID, target, source_oid, "XDSSubmissionSet.sourceId"
    )
    _external_identifier(
        package,
        ids,
        Scheme.SS_PATIENT_ID,
        target,
        xds_patient_id(snapshot),
        "XDSSubmissionSet.patientId",
    )
    _rim(
        objects,
        "Classification",
        id=ids("submission set node"),
        objectType=f"{OBJECT_TYPE}Classification",
        classifiedObject=target,
        classificationNode=SUBMISSION_SET_NODE,
    )


def _document_entry(objects, ids: _Ids, snapshot: dict, cda: bytes, profile) -> None:
    target = ids.document
    entry = _rim(
        objects,
        "ExtrinsicObject",
        id=target,
        mimeType="text/xml",
        objectType=STABLE_DOCUMENT_ENTRY,
    )
    document = snapshot["document"]
    _slot(entry, "creationTime", xds_time(document["effective_time"]))
    # XDS hash is SHA-1 (ITI TF-3 4.2.3.2.11), whatever its cryptographic weakness.
    _slot(entry, "hash", hashlib.sha1(cda, usedforsecurity=False).hexdigest())
    _slot(entry, "languageCode", LANGUAGE)
    _slot(entry, "legalAuthenticator", xcn(snapshot["people"]["legal_authenticator"]))
    _slot(entry, "serviceStartTime", xds_time(profile.service_start(snapshot)))
    _slot(entry, "size", str(len(cda)))
    _slot(entry, "sourcePatientId", ipp_cx(snapshot))
    _slot(entry, "sourcePatientInfo", *_source_patient_info(snapshot))
    _slot(entry, "URI", CDA_FILE_NAME)
    _name(entry, profile.title(snapshot))
    _author(entry, ids, Scheme.DE_AUTHOR, target, snapshot)
    codes = (
        (Scheme.DE_CLASS, profile.class_code, "classCode"),
        (Scheme.DE_CONFIDENTIALITY, CONFIDENTIALITY_CODE, "confidentialityCode"),
        (Scheme.DE_FORMAT, profile.format_code, "formatCode"),
        (Scheme.DE_FACILITY_TYPE, _facility_type(snapshot), "healthcareFacilityTypeCode"),
        (Scheme.DE_PRACTICE_SETTING, PRACTICE_SETTING_CODE, "practiceSettingCode"),
        (Scheme.DE_TYPE, profile.type_code, "typeCode"),
    )
    for scheme, code, label in codes:
        _classification(entry, ids, scheme, target, code, label)
    _external_identifier(
        entry,
        ids,
        Scheme.DE_PATIENT_ID,
        target,
        xds_patient_id(snapshot),
        "XDSDocumentEntry.patientId",
    )
    # The CDA id is the OID form of the version's UUID, without extension: the XDS uniqueId
    # is that OID as written.
    _external_identifier(
        entry,
        ids,
        Scheme.DE_UNIQUE_ID,
        target,
        uuid_oid(document["id"]),
        "XDSDocumentEntry.uniqueId",
    )


def _membership(objects, ids: _Ids) -> None:
    association = _rim(
        objects,
        "Association",
        id=ids("has member"),
        objectType=f"{OBJECT_TYPE}Association",
        associationType=HAS_MEMBER,
        sourceObject=ids.submission_set,
        targetObject=ids.document,
    )
    _slot(association, "SubmissionSetStatus", "Original")


def _replacement(objects, ids: _Ids, snapshot: dict) -> None:
    """An amendment replaces the entry of the version it corrects (the CDA says the same with
    relatedDocument typeCode RPLC pointing at that version's id)."""
    replaced = snapshot["document"].get("replaces_id")
    if not replaced:
        return
    _rim(
        objects,
        "Association",
        id=ids("replaces"),
        objectType=f"{OBJECT_TYPE}Association",
        associationType=REPLACES,
        sourceObject=ids.document,
        targetObject=document_entry_uuid(replaced),
    )


def build_metadata(
    snapshot: dict,
    cda: bytes,
    *,
    submission_time: datetime,
    source_oid: str,
    recipient: dict | None = None,
    message_id: str | None = None,
    profile: DocumentProfile = FRCP,
) -> bytes:
    """METADATA.XML: one submission set (addressed to ``recipient``, see intended_recipient;
    its ids derived from ``message_id``) holding the document's entry, and for an amendment
    the replacement of the previous version's entry."""
    ids = _Ids(snapshot["document"]["id"], submission_time, message_id)
    root = etree.Element(f"{{{LCM}}}SubmitObjectsRequest", nsmap=NSMAP)
    objects = _rim(root, "RegistryObjectList")
    _submission_set(objects, ids, snapshot, submission_time, source_oid, recipient, profile)
    _document_entry(objects, ids, snapshot, cda, profile)
    _membership(objects, ids)
    _replacement(objects, ids, snapshot)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _session_date(snapshot: dict) -> str:
    return datetime.fromisoformat(snapshot["session"]["starts_at"]).strftime("%d/%m/%Y")


def signer_name(snapshot: dict) -> str:
    person = snapshot["people"]["legal_authenticator"]
    title = f"{person['title']} " if person.get("title") else ""
    return f"{title}{person['first_name']} {person['last_name'].upper()}"


def build_readme(
    snapshot: dict, *, submission_time: datetime, profile: DocumentProfile = FRCP
) -> bytes:
    """README.TXT (required by XDM): who sent the archive and what it holds, in French."""
    custodian = snapshot["custodian"]
    sent_at = as_utc(submission_time).astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    lines = [
        profile.readme_heading,
        "",
        f"Émetteur : {custodian['name']} ({custodian.get('city') or 'ville non renseignée'}),"
        f" FINESS {custodian['finess']}",
        *profile.readme_facts(snapshot, sent_at),
        "",
        "Contenu :",
        f"  {INDEX_ENTRY}  page d'accueil (ouvrir dans un navigateur)",
        f"  {README_ENTRY}  ce fichier",
        f"  {METADATA_ENTRY}  {profile.metadata_contents}",
        f"  {CDA_ENTRY}  {profile.cda_contents}",
        "",
        *profile.verification(snapshot),
        "Produit par l'application RCP (logiciel rcp-app), conformément au profil IHE XDM.",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def build_index(snapshot: dict, profile: DocumentProfile = FRCP) -> bytes:
    """INDEX.HTM (required by XDM): a page linking the document and the README."""
    title = html.escape(profile.title(snapshot))
    custodian = html.escape(snapshot["custodian"]["name"])
    summary = html.escape(profile.index_summary(snapshot))
    link = html.escape(profile.index_link)
    page = f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>{title}</title>
</head>
<body>
<h1>{title}</h1>
<p>Archive IHE XDM envoyée par {custodian} : {summary}.</p>
<ul>
<li><a href="{CDA_ENTRY}">{link}</a></li>
<li><a href="{METADATA_ENTRY}">Métadonnées XDS</a></li>
<li><a href="{README_ENTRY}">Lisez-moi</a></li>
</ul>
</body>
</html>
"""
    return page.replace("\n", "\r\n").encode("utf-8")


def _zip_timestamp(submission_time: datetime) -> tuple:
    """ZIP stores local wall-clock time: the submission instant in Paris, to the second."""
    return as_utc(submission_time).astimezone(PARIS).timetuple()[:6]


def build_xdm_zip(
    snapshot: dict,
    cda: bytes,
    *,
    submission_time: datetime,
    source_oid: str,
    recipient: dict | None = None,
    message_id: str | None = None,
    profile: DocumentProfile = FRCP,
) -> bytes:
    """IHE_XDM.ZIP of a document (a fiche unless ``profile`` says otherwise): metadata, CDA,
    README.TXT and INDEX.HTM, reproducibly zipped."""
    contents = {
        README_ENTRY: build_readme(snapshot, submission_time=submission_time, profile=profile),
        INDEX_ENTRY: build_index(snapshot, profile),
        METADATA_ENTRY: build_metadata(
            snapshot,
            cda,
            submission_time=submission_time,
            source_oid=source_oid,
            recipient=recipient,
            message_id=message_id,
            profile=profile,
        ),
        CDA_ENTRY: cda,
    }
    timestamp = _zip_timestamp(submission_time)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ZIP_ENTRIES:
            info = zipfile.ZipInfo(name, date_time=timestamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # fixed, so the archive does not depend on the host OS
            info.external_attr = 0o644 << 16
            archive.writestr(info, contents[name])
    return buffer.getvalue()
