"""The « Dossiers RCP » list: a search by patient (name with accents and case ignored, name
then first name, or INS), combined with the other filters, audited without what was typed,
with a constant number of queries; refused input gets a French message, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from tests.test_patients_search_queries import count_queries


@pytest.fixture
def world(make):
    rcp = make.rcp(weekday=None)
    other_rcp = make.rcp(weekday=None)
    helene = make.patient(birth_name="Lefèvre", first_birth_first_name="Hélène")
    used = make.patient(birth_name="Martin", used_name="Éluard", first_birth_first_name="Anne")
    other = make.patient(birth_name="Durand", first_birth_first_name="Paul", sex="M")
    return {
        "rcp": rcp,
        "other_rcp": other_rcp,
        "helene": helene,
        "used": used,
        "other": other,
        "c_helene": make.case(rcp_id=rcp.id, patient_id=helene.id),
        "c_helene2": make.case(rcp_id=other_rcp.id, patient_id=helene.id),
        "c_used": make.case(rcp_id=rcp.id, patient_id=used.id),
        "c_other": make.case(rcp_id=rcp.id, patient_id=other.id),
    }


def _ids(page: str, world) -> set[str]:
    return {
        key
        for key in ("c_helene", "c_helene2", "c_used", "c_other")
        if f'href="/dossiers/{world[key].id}"' in page
    }


@pytest.mark.parametrize(
    "query, expected",
    [
        ("lefevre", {"c_helene", "c_helene2"}),  # accents ignored
        ("LEFÈ", {"c_helene", "c_helene2"}),  # a prefix, case ignored
        ("lefevre hel", {"c_helene", "c_helene2"}),  # name then first-name prefix
        ("lefevre paul", set()),
        ("eluard", {"c_used"}),  # the used name too
        ("  durand  ", {"c_other"}),
        ("", {"c_helene", "c_helene2", "c_used", "c_other"}),
    ],
)
def test_search_by_name(client, login, world, query, expected):
    login("physician")
    page = client.get("/dossiers", query_string={"q": query}).get_data(as_text=True)
    assert _ids(page, world) == expected


def test_search_by_ins_whole_or_spaced(client, login, world):
    login("physician")
    matricule = world["helene"].ins_matricule
    spaced = " ".join([matricule[:1], matricule[1:3], matricule[3:5], matricule[5:]])
    for query in (matricule, spaced, matricule[:13]):
        page = client.get("/dossiers", query_string={"q": query}).get_data(as_text=True)
        assert _ids(page, world) == {"c_helene", "c_helene2"}, query


def test_search_combines_with_the_other_filters_and_pages(app, client, login, world):
    login("physician")
    page = client.get(
        "/dossiers", query_string={"q": "lefevre", "rcp": str(world["rcp"].id)}
    ).get_data(as_text=True)
    assert _ids(page, world) == {"c_helene"}
    assert 'value="lefevre"' in page  # the search stays in the box


def test_search_is_audited_without_the_text(app, client, login, world):
    login("coordinator")
    client.get("/dossiers", query_string={"q": "Lefèvre"})
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "case.list")
            .order_by(AuditEntry.seq.desc())
        ).first()
        details = entry.details_dict()
    assert details["patient_search"] == ["name"]
    assert "lef" not in entry.details.lower()
    assert set(details["patients"]) == {world["helene"].id}


@pytest.mark.parametrize(
    "query, message",
    [
        ("x" * 101, "100 caractères au plus"),
        ("dupont\x07", "invisible non autorisé"),
    ],
)
def test_refused_search_gets_a_french_message(client, login, world, query, message):
    login("physician")
    response = client.get("/dossiers", query_string={"q": query})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert _ids(page, world) == {"c_helene", "c_helene2", "c_used", "c_other"}  # ignored


def test_search_uses_a_constant_number_of_queries(client, login, make, world):
    login("physician")

    def fill(count):
        for i in range(count):
            patient = make.patient(birth_name="Bénard", first_birth_first_name=f"Zoé{i}")
            make.case(rcp_id=world["rcp"].id, patient_id=patient.id)

    fill(2)
    with count_queries() as few:
        assert client.get("/dossiers?q=bena").status_code == 200
    fill(20)
    with count_queries() as many:
        response = client.get("/dossiers?q=bena")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("BÉNARD") >= 22
    assert len(many) == len(few), "\n".join(many)
