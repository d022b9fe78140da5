"""The FHIR document Bundle of every sample snapshot: it parses with the FHIR models, is a
well-formed document (Composition first, every reference inside, every Coding with a system),
is deterministic, shares the INS only for a qualified identity, and says what the CDA of the
same snapshot says."""

from __future__ import annotations

import base64
import hashlib

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.coding import Coding

from rcp_app.fhir.bundle import build_bundle, bundle_json
from rcp_app.fiches.cda import build_cda
from tests.fhir.support import (
    CANONICAL,
    bundle_facts,
    cda_facts,
    fresh,
    loads,
    of_type,
    resolve,
    resources,
    sample_builders,
    walk_json,
    walk_models,
)
from tests.fiches import samples

BASE_URL = "https://rcp.example.fr"
PDF = b"%PDF-1.7\n% fiche signee de test\n%%EOF\n"
BUILDERS = sample_builders()
INS_OIDS = {"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10",
            "1.2.250.1.213.1.4.11"}  # fmt: skip


@pytest.fixture(scope="module")
def built():
    """(snapshot, bundle JSON bytes) of every sample, built once for the module."""
    result = {}
    for name, builder in BUILDERS.items():
        snapshot = builder()
        result[name] = (snapshot, bundle_json(fresh(snapshot), PDF, base_url=BASE_URL))
    return result


def test_every_sample_of_the_samples_module_is_covered():
    # Derived from the module: a new sample builder is tested without editing this file.
    assert {"organ_snapshot", "minimal_snapshot", "amendment_snapshot"} <= set(BUILDERS)
    assert len(BUILDERS) >= 10 + 5


@pytest.mark.parametrize("name", BUILDERS)
def test_bundle_parses_as_a_fhir_document(built, name):
    _snapshot, data = built[name]
    bundle = Bundle.model_validate(loads(data))
    assert bundle.type == "document"
    assert bundle.entry[0].resource.get_resource_type() == "Composition"
    assert [e.resource.get_resource_type() for e in bundle.entry].count("Composition") == 1
    assert bundle.identifier.system == "urn:ietf:rfc:3986"
    full_urls = [e.fullUrl for e in bundle.entry]
    assert len(set(full_urls)) == len(full_urls)
    assert all(url.startswith("urn:uuid:") for url in full_urls)


@pytest.mark.parametrize("name", BUILDERS)
def test_every_reference_resolves_inside_the_bundle(built, name):
    bundle = loads(built[name][1])
    full_urls = set(resources(bundle))
    found = [value for key, value in walk_json(bundle) if key == "reference"]
    assert found, "a document without references"
    assert [r for r in found if r not in full_urls] == []


@pytest.mark.parametrize("name", BUILDERS)
def test_every_entry_is_reachable_from_the_composition(built, name):
    bundle = loads(built[name][1])
    by_url = resources(bundle)
    first = bundle["entry"][0]["fullUrl"]
    seen, pending = {first}, [first]
    while pending:
        resource = by_url[pending.pop()]
        for key, value in walk_json(resource):
            if key == "reference" and value not in seen:
                seen.add(value)
                pending.append(value)
    assert set(by_url) - seen == set()


@pytest.mark.parametrize("name", BUILDERS)
def test_every_coding_has_a_system_and_the_canonical_one(built, name):
    bundle = Bundle.model_validate(loads(built[name][1]))
    codings = [m for m in walk_models(bundle) if isinstance(m, Coding)]
    assert len(codings) > 10
    assert [c for c in codings if not c.system or not c.code] == []
    oids = {c.system.removeprefix("urn:oid:") for c in codings if c.system.startswith("urn:oid:")}
    # An OID is never written where its code system has a FHIR URL.
    assert oids & set(CANONICAL) == set()
    assert all(c.system.startswith(("http://", "https://", "urn:oid:")) for c in codings)


@pytest.mark.parametrize("name", BUILDERS)
def test_the_bundle_agrees_with_the_cda_of_the_same_snapshot(built, name):
    snapshot, data = built[name]
    cda = cda_facts(build_cda(fresh(snapshot)))
    facts = bundle_facts(loads(data), len(cda["plan"]["treatments"]))
    assert facts == cda


@pytest.mark.parametrize("name", BUILDERS)
def test_same_snapshot_same_bytes(built, name):
    snapshot, data = built[name]
    assert bundle_json(fresh(snapshot), PDF, base_url=BASE_URL) == data
    assert data.decode("utf-8")  # compact UTF-8, accents kept as they are
    assert b"\n" not in data and "é".encode() in data


def test_another_version_has_other_entry_ids():
    first = loads(bundle_json(samples.organ_snapshot(), PDF, base_url=BASE_URL))
    second = loads(bundle_json(samples.amendment_snapshot(), PDF, base_url=BASE_URL))
    assert set(resources(first)).isdisjoint(resources(second))


def _ins_identifiers(bundle: dict) -> list[dict]:
    (patient,) = of_type(bundle, "Patient")
    return [i for i in patient["identifier"] if i["system"].removeprefix("urn:oid:") in INS_OIDS]


@pytest.mark.parametrize("name", BUILDERS)
def test_the_ins_leaves_only_with_a_qualified_identity(built, name):
    snapshot, data = built[name]
    patient = snapshot["patient"]
    bundle = loads(data)
    if patient["identity_status"] == "QUAL" and patient.get("ins"):
        (ins,) = _ins_identifiers(bundle)
        assert ins["value"] == patient["ins"]["matricule"]
        assert ins["system"] == f"urn:oid:{patient['ins']['oid']}"
    else:
        assert _ins_identifiers(bundle) == []
        if patient.get("ins"):  # nowhere in the document, not only not as an identifier
            assert patient["ins"]["matricule"].encode() not in data
    (ipp,) = [
        i for i in of_type(bundle, "Patient")[0]["identifier"] if i["value"] == patient["ipp"]
    ]
    assert ipp["system"] == f"urn:oid:{snapshot['document']['oid_root']}.1"


def test_unqualified_identity_variant_keeps_the_ins_home():
    snapshot = samples.organ_snapshot()
    matricule = snapshot["patient"]["ins"]["matricule"]
    for status in ("PROV", "RECUP", "VALI"):
        variant = fresh(snapshot)
        variant["patient"]["identity_status"] = status  # the INS left in the snapshot
        data = bundle_json(variant, PDF, base_url=BASE_URL)
        assert matricule.encode() not in data
        status_coding = of_type(loads(data), "Patient")[0]["extension"][0]["extension"][0]
        assert status_coding["valueCoding"]["code"] == status
    assert matricule.encode() in bundle_json(snapshot, PDF, base_url=BASE_URL)


def test_nia_is_a_temporary_identifier():
    bundle = loads(bundle_json(BUILDERS["nia_sexe_indetermine"](), PDF, base_url=BASE_URL))
    (nia,) = _ins_identifiers(bundle)
    assert nia["use"] == "temp"
    assert nia["type"]["coding"][0]["code"] == "INS-NIA"


def test_the_signed_pdf_travels_inline_with_its_sha1():
    bundle = build_bundle(samples.organ_snapshot(), PDF, base_url=BASE_URL)
    (reference,) = of_type(bundle, "DocumentReference")
    attachment = reference["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert base64.b64decode(attachment["data"]) == PDF
    assert attachment["size"] == len(PDF)
    assert base64.b64decode(attachment["hash"]) == hashlib.sha1(PDF, usedforsecurity=False).digest()
    composition = bundle["entry"][0]["resource"]
    pdf_sections = [s for s in composition["section"] if "PDF" in s["title"]]
    assert [resolve(bundle, e) for s in pdf_sections for e in s["entry"]] == [reference]


def test_without_a_pdf_no_document_reference():
    bundle = build_bundle(samples.organ_snapshot(), None, base_url=BASE_URL)
    assert of_type(bundle, "DocumentReference") == []
    assert all("PDF" not in s["title"] for s in bundle["entry"][0]["resource"]["section"])


def test_amendment_replaces_the_previous_version():
    composition = build_bundle(samples.amendment_snapshot(), PDF, base_url=BASE_URL)["entry"][0]
    assert composition["resource"]["status"] == "amended"
    first = build_bundle(samples.organ_snapshot(), PDF, base_url=BASE_URL)
    assert first["entry"][0]["resource"]["status"] == "final"
    (relation,) = composition["resource"]["relatesTo"]
    assert relation["code"] == "replaces"
    assert relation["targetIdentifier"] == first["identifier"]


def test_a_code_without_system_keeps_its_label_only():
    bundle = build_bundle(BUILDERS["codes_sans_systeme"](), PDF, base_url=BASE_URL)
    (plan,) = of_type(bundle, "CarePlan")
    proposal = plan["activity"][0]["detail"]
    assert "coding" not in proposal["code"]
    assert proposal["code"]["text"] == "XYZ"


def test_biomarker_values_follow_the_registry_kind():
    bundle = build_bundle(BUILDERS["tnm_pathologique_et_biomarqueurs"](), None, base_url=BASE_URL)
    values = {
        o["code"]["coding"][0]["code"]: {k: v for k, v in o.items() if k.startswith("value")}
        for o in of_type(bundle, "Observation")
        if o["code"]["coding"][0]["system"] == f"{BASE_URL}/fhir/CodeSystem/biomarqueurs"
    }
    assert values == {
        "breast.er": {
            "valueQuantity": {
                "value": 90,
                "unit": "%",
                "system": "http://unitsofmeasure.org",
                "code": "%",
            }
        },
        "breast.her2": {"valueString": "2+ ISH−"},
        "breast.ki67": {
            "valueQuantity": {
                "value": 12.5,
                "unit": "%",
                "system": "http://unitsofmeasure.org",
                "code": "%",
            }
        },
        "prostate.isup": {"valueInteger": 3},
        "prostate.psa": {
            "valueQuantity": {
                "value": 7.2,
                "unit": "ng/mL",
                "system": "http://unitsofmeasure.org",
                "code": "ng/mL",
            }
        },
    }


def test_the_stage_group_gathers_its_categories():
    bundle = build_bundle(BUILDERS["tnm_pathologique_et_biomarqueurs"](), None, base_url=BASE_URL)
    observations = {o["code"]["coding"][0]["code"]: o for o in of_type(bundle, "Observation")}
    group = observations["21902-2"]  # pathological stage group
    members = [resolve(bundle, m)["code"]["coding"][0]["code"] for m in group["hasMember"]]
    assert members == ["21899-0", "21900-6"]  # pT and pN; pM was not given
    assert "21908-9" not in observations  # no clinical stage group beside it
    (condition,) = of_type(bundle, "Condition")
    assert condition["stage"][0]["assessment"][0]["reference"] in {
        e["fullUrl"] for e in bundle["entry"] if e["resource"] is group
    }
