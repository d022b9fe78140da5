"""The IHE_XDM.ZIP of each message a signed fiche produces, read back from the e-mail the worker
would send: what it says about the document (hash, size), its recipient, the establishment,
its submission set, and for an amendment the version it replaces."""

from __future__ import annotations

import hashlib
import io
import zipfile

from lxml import etree
from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.delivery import notices
from rcp_app.delivery.models import Transmission
from rcp_app.directory.models import Establishment, Professional, Rcp
from rcp_app.extensions import db
from rcp_app.fiches import operations as fiche_ops
from rcp_app.fiches.models import FicheVersion
from rcp_app.meetings.models import AgendaItem
from tests.fiches.support import READY, build_world

NS = {
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
    "h": "urn:hl7-org:v3",
}
FACILITY_SCHEME = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
SET_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
ENTRY_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
DCC = "dcc@rcp-idf.mssante.fr"
GP_ADDRESS = "luc.bernard@medecin.mssante.fr"


def _signed_fiche(app, make):
    """A fiche signed for an RCP of a cancer centre (SA36), sent to the DCC, the requester and
    the GP (a private practitioner, without establishment)."""
    gp = make.professional(
        last_name="Bernard",
        first_name="Luc",
        specialty_code="G15_10/SM26",
        mssante_address=GP_ADDRESS,
    )
    world = build_world(app, make, rcp_fields={"dcc_address": DCC}, gp_id=gp.id, gp_unknown=False)
    with app.app_context():
        rcp = db.session.get(Rcp, world.rcp_id)
        rcp.establishment.facility_type_code = "SA36"
        db.session.commit()
        item = db.session.get(AgendaItem, world.item_id)
        fiche_ops.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()
    return world


def _amend(app, world) -> None:
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        fiche = fiche_ops.fiches_of_session(item.session)[item.case_id]
        user = db.session.get(User, world.validator_user_id)
        fiche_ops.amend(
            fiche, user, {**READY, "exams_requested": "TEP-TDM"}, "Ajout d'un examen", 1
        )
        db.session.commit()


def _archives(app, version: int) -> list[dict]:
    """For each message of the fiche's version: the transmission's facts and the archive."""
    with app.app_context():
        rows = db.session.scalars(
            select(Transmission)
            .join(FicheVersion, Transmission.fiche_version_id == FicheVersion.id)
            .where(Transmission.kind == "fiche", FicheVersion.version == version)
            .order_by(Transmission.id)
        ).all()
        found = []
        for row in rows:
            professional = row.professional
            facts = {
                "role": row.recipient_role,
                "address": row.recipient_address,
                "rpps": professional.rpps if professional else None,
                "stored_cda": row.fiche_version.document("cda").content,
            }
            message = notices.build_for(row)
            (archive,) = [
                part.get_content()
                for part in message.iter_attachments()
                if part.get_filename() == "IHE_XDM.ZIP"
            ]
            with zipfile.ZipFile(io.BytesIO(archive)) as opened:
                facts["entries"] = {name: opened.read(name) for name in opened.namelist()}
            facts["metadata"] = etree.fromstring(facts["entries"]["IHE_XDM/SUBSET01/METADATA.XML"])
            found.append(facts)
        return found


def _values(root, xpath: str) -> list[str]:
    return root.xpath(xpath, namespaces=NS)


def _entry_slot(root, name: str) -> list[str]:
    return _values(root, f"//rim:ExtrinsicObject/rim:Slot[@name='{name}']//rim:Value/text()")


def _external_id(root, scheme: str) -> str:
    (value,) = _values(root, f"//rim:ExternalIdentifier[@identificationScheme='{scheme}']/@value")
    return value


def test_each_archive_describes_its_document_and_its_recipient(app, make):
    world = _signed_fiche(app, make)
    archives = _archives(app, 1)
    assert {a["role"] for a in archives} == {"dcc", "requester", "gp"}
    with app.app_context():
        requester = db.session.get(AgendaItem, world.item_id).case.requester
        requester_establishment = db.session.get(Establishment, requester.establishment_id)
        gp = db.session.scalar(
            select(Professional).where(Professional.mssante_address == GP_ADDRESS)
        )
        expected = {
            "dcc": f"||^^Internet^{DCC}",
            "requester": (
                f"{requester_establishment.name}^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1"
                f"{requester_establishment.finess}"
                f"|8{requester.rpps}^{requester.last_name.upper()}^{requester.first_name}"
                f"^^^Dr^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
                f"|^^Internet^{requester.mssante_address}"
            ),
            "gp": (
                f"|8{gp.rpps}^BERNARD^Luc^^^Dr^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
                f"|^^Internet^{GP_ADDRESS}"
            ),
        }
    for archive in archives:
        root = archive["metadata"]
        cda = archive["entries"]["IHE_XDM/SUBSET01/DOC0001.XML"]
        # The document travels as stored, and the metadata describe exactly those bytes.
        assert cda == archive["stored_cda"]
        assert _entry_slot(root, "hash") == [hashlib.sha1(cda, usedforsecurity=False).hexdigest()]
        assert _entry_slot(root, "size") == [str(len(cda))]
        recipient = _values(
            root,
            "//rim:RegistryPackage/rim:Slot[@name='intendedRecipient']//rim:Value/text()",
        )
        assert recipient == [expected[archive["role"]]]
        # The category of the RCP's establishment, as the directory records it.
        (facility,) = root.findall(
            f".//rim:Classification[@classificationScheme='{FACILITY_SCHEME}']", NS
        )
        assert facility.get("nodeRepresentation") == "SA36"
        assert _values(facility, "rim:Name/rim:LocalizedString/@value") == ["Centre anti-cancer"]
        assert _values(
            etree.fromstring(cda),
            "h:componentOf/h:encompassingEncounter/h:location/h:healthCareFacility/h:code/@code",
        ) == ["SA36"]


def test_messages_of_one_version_are_distinct_submissions_of_one_entry(app, make):
    _signed_fiche(app, make)
    archives = _archives(app, 1)
    assert len(archives) == 3
    packages = [a["metadata"].find(".//rim:RegistryPackage", NS).get("id") for a in archives]
    unique_ids = [_external_id(a["metadata"], SET_UNIQUE_ID) for a in archives]
    assert len(set(packages)) == len(archives)
    assert len(set(unique_ids)) == len(archives)
    entries = {a["metadata"].find(".//rim:ExtrinsicObject", NS).get("id") for a in archives}
    assert len(entries) == 1


def test_amendment_archives_replace_the_previous_version_s_entry(app, make):
    world = _signed_fiche(app, make)
    first = _archives(app, 1)
    assert all(
        a["metadata"].findall(f".//rim:Association[@associationType='{RPLC}']", NS) == []
        for a in first
    )
    _amend(app, world)
    second = _archives(app, 2)
    assert second
    previous_entry = first[0]["metadata"].find(".//rim:ExtrinsicObject", NS).get("id")
    previous_unique_id = _external_id(first[0]["metadata"], ENTRY_UNIQUE_ID)
    for archive in second:
        root = archive["metadata"]
        (replacement,) = root.findall(f".//rim:Association[@associationType='{RPLC}']", NS)
        assert replacement.get("sourceObject") == root.find(".//rim:ExtrinsicObject", NS).get("id")
        assert replacement.get("targetObject") == previous_entry
        cda = etree.fromstring(archive["entries"]["IHE_XDM/SUBSET01/DOC0001.XML"])
        assert _values(cda, "h:relatedDocument[@typeCode='RPLC']/h:parentDocument/h:id/@root") == [
            previous_unique_id
        ]
