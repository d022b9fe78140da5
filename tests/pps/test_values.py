"""The care programme's value sets are the official CANCER-PPS ones: every code, its code
system and its display name as the ANS value set files give them."""

from __future__ import annotations

import pytest
from lxml import etree

from rcp_app.pps import values
from tests.fiches.conformance import ans_cisis_dir

SVS = "{urn:ihe:iti:svs:2008}"
FILES = {
    "JDV_TypeTraitementPPS_CISIS": values.TREATMENT_KINDS,
    "JDV_SoinsOncoDeSupport_CISIS": values.SUPPORTIVE_CARE,
    "JDV_TypeAccompagnementSocioPro_CISIS": values.SOCIAL_SUPPORT,
    "JDV_TypeDeSuivi_CISIS": values.APPOINTMENT_KINDS,
    "JDV_MotifMiseAJour_CISIS": values.UPDATE_MOTIVES,
}


def _official(name: str) -> dict[str, tuple[str, str]]:
    tree = etree.parse(str(ans_cisis_dir() / "jeuxDeValeurs" / f"{name}.xml"))
    return {
        concept.get("code"): (concept.get("codeSystem"), concept.get("displayName"))
        for concept in tree.iter(f"{SVS}Concept")
    }


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_code_is_the_official_one(name):
    official = _official(name)
    ours = FILES[name]
    assert set(ours) == set(official), "codes missing from, or added to, the official list"
    for code, entry in ours.items():
        assert (entry.system, entry.display) == official[code], code


def test_every_rcp_proposal_has_a_treatment_kind():
    proposals = _official("JDV_TypeTraitement_FRCP_CISIS")
    for code in proposals:
        assert values.pps_treatment_code(code) in values.TREATMENT_KINDS, code
    assert values.pps_treatment_code("C547") == "C15445"  # hormonothérapie, coded differently
    assert values.pps_treatment_code(None) is None
