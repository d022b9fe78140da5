"""Directory: establishments (FINESS), professionals (RPPS, MSSanté) and RCPs."""

from __future__ import annotations

from datetime import time
from html import unescape

import pytest
from sqlalchemy import func, select

from rcp_app.core.audit import AuditEntry
from rcp_app.directory import operations as ops
from rcp_app.directory.models import Establishment, Professional, Rcp, quorum_rule_label
from rcp_app.extensions import db
from tests.support.html_forms import form_values, other_client

ORGAN = "76752008"  # sein
THEME = "ORG-130"  # oncogériatrie
ONCO, RADIO, SURGERY = "G15_10/SM36", "G15_10/SM45", "G15_10/SM14"


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audit_rows(app, action: str, object_id) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.object_id == str(object_id))
            .order_by(AuditEntry.seq)
        ).all()
        return [row.details_dict() for row in rows]


def load(app, model, object_id):
    with app.app_context():
        obj = db.session.get(model, object_id)
        if isinstance(obj, Rcp):
            obj.required_specialty_codes  # noqa: B018  (load before leaving the session)
        db.session.expunge(obj)
        return obj


def text(response) -> str:
    return response.get_data(as_text=True)


def conflicting_edit(app, client, make, url, role, theirs: dict, mine: dict):
    """Open the edit form, let another user save ``theirs``, then submit ``mine`` on the
    now stale form (a None value unticks a checkbox). Returns the response."""
    form = form_values(text(client.get(url)))
    other = other_client(app, make, role)
    their_form = form_values(text(other.get(url)))
    their_form.update(theirs)
    saved = other.post(url, data={k: v for k, v in their_form.items() if v is not None})
    assert saved.status_code == 302, text(saved)
    form.update(mine)
    return client.post(url, data={k: v for k, v in form.items() if v is not None})


def stored_note(value: str) -> str:
    return f"Valeur enregistrée entre-temps : {value}"


# --- establishments ------------------------------------------------------------------------


def establishment_data(**overrides):
    data = {
        "name": "Hôpital Saint-Éloi",
        "finess": "340780477",
        "city": "Montpellier",
        "active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_and_edits_an_establishment(app, client, login):
    login("admin")
    response = client.post("/annuaire/etablissements/nouveau", data=establishment_data())
    assert response.status_code == 302
    with app.app_context():
        establishment = db.session.scalar(
            select(Establishment).where(Establishment.finess == "340780477")
        )
        establishment_id, version = establishment.id, establishment.version
    created = audit_rows(app, "establishment.create", establishment_id)
    assert created and created[0]["finess"] == {"old": None, "new": "340780477"}

    page = client.get("/annuaire/etablissements")
    assert "Hôpital Saint-Éloi" in text(page)
    form = client.get(f"/annuaire/etablissements/{establishment_id}/modifier")
    assert form.status_code == 200 and "340780477" in text(form)

    response = client.post(
        f"/annuaire/etablissements/{establishment_id}/modifier",
        data=establishment_data(
            name="CHU de Montpellier", finess="2A0000017", active=None, version=version
        ),
    )
    assert response.status_code == 302
    saved = load(app, Establishment, establishment_id)
    assert (saved.name, saved.finess, saved.active) == ("CHU de Montpellier", "2A0000017", False)
    assert saved.version == version + 1
    [update] = audit_rows(app, "establishment.update", establishment_id)
    assert update["name"] == {"old": "Hôpital Saint-Éloi", "new": "CHU de Montpellier"}
    assert update["active"] == {"old": True, "new": False}
    assert "city" not in update


@pytest.mark.parametrize(
    "finess", ["34078047", "3407804770", "2C0000017", "AB0780477", "34078047X", "2a00000l7"]
)
def test_bad_finess_is_refused(app, client, login, finess):
    login("admin")
    before = count(app, Establishment)
    response = client.post(
        "/annuaire/etablissements/nouveau", data=establishment_data(finess=finess)
    )
    assert response.status_code == 200
    assert "Le numéro FINESS doit comporter 9 caractères" in text(response)
    assert "Rien n'a été enregistré" in text(response)
    assert finess in text(response)  # what was typed is kept
    assert count(app, Establishment) == before


def test_finess_accepts_spaces_and_lower_case_corsica(app, client, login):
    login("admin")
    response = client.post(
        "/annuaire/etablissements/nouveau", data=establishment_data(finess="2b 000 0017")
    )
    assert response.status_code == 302
    assert count(app, Establishment, Establishment.finess == "2B0000017") == 1


def test_duplicate_finess_is_refused(app, client, login, make):
    existing = make.establishment(name="Institut Bergonié", finess="330781360")
    login("admin")
    before = count(app, Establishment)
    response = client.post(
        "/annuaire/etablissements/nouveau", data=establishment_data(finess="330781360")
    )
    assert response.status_code == 200
    assert "déjà attribué à l&#39;établissement « Institut Bergonié »" in text(response)
    assert count(app, Establishment) == before

    other = make.establishment()
    response = client.post(
        f"/annuaire/etablissements/{other.id}/modifier",
        data=establishment_data(finess=existing.finess, version=1),
    )
    assert response.status_code == 200
    assert load(app, Establishment, other.id).finess == other.finess
    assert audit_rows(app, "establishment.update", other.id) == []


def test_establishment_edit_conflict_keeps_typed_values(app, client, login, make):
    establishment = make.establishment(name="Centre Léon Bérard", city="Lyon")
    login("admin")
    url = f"/annuaire/etablissements/{establishment.id}/modifier"
    response = conflicting_edit(
        app,
        client,
        make,
        url,
        "admin",
        theirs={"city": "Villeurbanne", "active": None},
        mine={"name": "CLB Lyon"},
    )
    page = unescape(text(response))
    assert response.status_code == 409
    assert (
        'role="alert">Cet établissement a été modifié par un autre utilisateur pendant que '
        "vous le modifiiez. Vos saisies sont conservées ci-dessous"
    ) in page
    assert 'value="CLB Lyon"' in page and 'value="Lyon"' in page
    for stored in ("Centre Léon Bérard", "Villeurbanne", "Non"):
        assert stored_note(stored) in page, stored
    assert stored_note(establishment.finess) not in page
    saved = load(app, Establishment, establishment.id)
    assert (saved.name, saved.city, saved.active, saved.version) == (
        "Centre Léon Bérard",
        "Villeurbanne",
        False,
        2,
    )
    assert len(audit_rows(app, "establishment.update", establishment.id)) == 1

    again = form_values(text(response))
    assert again["version"] == "2"
    assert client.post(url, data=again).status_code == 302
    saved = load(app, Establishment, establishment.id)
    assert (saved.name, saved.city, saved.active, saved.version) == ("CLB Lyon", "Lyon", True, 3)
    updates = audit_rows(app, "establishment.update", establishment.id)
    assert len(updates) == 2 and set(updates[-1]) == {"name", "city", "active"}


def test_establishment_edit_without_version_is_shown_again(app, client, login, make):
    establishment = make.establishment(name="Centre Léon Bérard")
    login("admin")
    response = client.post(
        f"/annuaire/etablissements/{establishment.id}/modifier",
        data=establishment_data(name="Autre nom", finess=establishment.finess),
    )
    assert response.status_code == 409
    assert 'value="Autre nom"' in text(response)
    assert form_values(text(response))["version"] == "1"
    assert load(app, Establishment, establishment.id).name == "Centre Léon Bérard"
    assert audit_rows(app, "establishment.update", establishment.id) == []


def test_unknown_establishment_is_404(client, login):
    login("admin")
    assert client.get("/annuaire/etablissements/999999/modifier").status_code == 404


# --- professionals -------------------------------------------------------------------------


def professional_data(**overrides):
    data = {
        "title": "Dr",
        "last_name": "Lefèvre",
        "first_name": "Hélène",
        "rpps": "10001234567",
        "specialty_code": ONCO,
        "mssante_address": "helene.lefevre@chu-test.mssante.fr",
        "phone": "+33 4 67 33 00 00",
        "establishment_id": "",
        "active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_professional_created_and_edited(app, client, login, make, role):
    establishment = make.establishment()
    login(role)
    response = client.post(
        "/annuaire/professionnels/nouveau",
        data=professional_data(establishment_id=str(establishment.id)),
    )
    assert response.status_code == 302, text(response)
    with app.app_context():
        professional = db.session.scalar(
            select(Professional).where(Professional.rpps == "10001234567")
        )
        assert professional.last_name_key == "LEFEVRE"
        assert professional.phone == "04 67 33 00 00"
        assert professional.establishment_id == establishment.id
        professional_id = professional.id
    [created] = audit_rows(app, "professional.create", professional_id)
    assert created["rpps"]["new"] == "10001234567"

    response = client.post(
        f"/annuaire/professionnels/{professional_id}/modifier",
        data=professional_data(
            last_name="Ébrard", title="Pr", mssante_address="", phone="", version="1"
        ),
    )
    assert response.status_code == 302
    saved = load(app, Professional, professional_id)
    assert (saved.title, saved.last_name, saved.last_name_key) == ("Pr", "Ébrard", "EBRARD")
    assert saved.mssante_address is None and saved.phone is None
    assert saved.establishment_id is None
    [update] = audit_rows(app, "professional.update", professional_id)
    assert update["last_name"] == {"old": "Lefèvre", "new": "Ébrard"}
    assert update["establishment_id"] == {"old": establishment.id, "new": None}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rpps": "1000123456"}, "exactement 11 chiffres"),
        ({"rpps": "100012345AB"}, "exactement 11 chiffres"),
        ({"rpps": "100012345678"}, "exactement 11 chiffres"),
        ({"mssante_address": "helene.lefevre@gmail.com"}, "mssante.fr"),
        ({"mssante_address": "helene.lefevre@faux-mssante.fr"}, "mssante.fr"),
        ({"mssante_address": "pas-une-adresse.mssante.fr"}, "mssante.fr"),
        ({"phone": "12 34"}, "Numéro de téléphone invalide"),
        ({"specialty_code": "XX"}, "choix valide"),
        ({"last_name": ""}, "Ce champ est requis"),
        ({"title": "Prof"}, "choix valide"),
        ({"establishment_id": "abc"}, "Choix non valide"),
    ],
)
def test_professional_refusals_save_nothing(app, client, login, overrides, message):
    login("coordinator")
    before = count(app, Professional)
    response = client.post("/annuaire/professionnels/nouveau", data=professional_data(**overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert count(app, Professional) == before
    assert count(app, AuditEntry, AuditEntry.action == "professional.create") == 0


def test_ans_test_rpps_without_luhn_key_is_accepted(app, client, login):
    login("admin")
    response = client.post(
        "/annuaire/professionnels/nouveau", data=professional_data(rpps="10000000001")
    )
    assert response.status_code == 302
    assert count(app, Professional, Professional.rpps == "10000000001") == 1


def test_mssante_sub_domain_or_root_domain_accepted(app):
    assert (
        ops.normalise_mssante(" Claire.Martin@CHU-Lyon.MSSante.fr ")
        == "Claire.Martin@chu-lyon.mssante.fr"
    )
    assert ops.normalise_mssante("c.martin@mssante.fr") == "c.martin@mssante.fr"
    assert ops.normalise_mssante("c.martin@notmssante.fr") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0467330000", "04 67 33 00 00"),
        ("04.67.33.00.00", "04 67 33 00 00"),
        ("+33 (0)4 67 33 00 00", "04 67 33 00 00"),
        ("0033467330000", "04 67 33 00 00"),
        ("00 67 33 00 00", None),
        ("+44 20 7946 0000", None),
        ("04673300", None),
    ],
)
def test_phone_normalisation(raw, expected):
    assert ops.normalise_phone(raw) == expected


def test_duplicate_rpps_is_refused(app, client, login, make):
    existing = make.professional(last_name="Dubois", first_name="Agnès")
    login("admin")
    before = count(app, Professional)
    response = client.post(
        "/annuaire/professionnels/nouveau", data=professional_data(rpps=existing.rpps)
    )
    assert response.status_code == 200
    assert f"Le numéro RPPS {existing.rpps} est déjà attribué à Dr DUBOIS Agnès" in text(response)
    assert count(app, Professional) == before


def test_professional_edit_conflict_keeps_typed_values(app, client, login, make):
    curie = make.establishment(name="Institut Curie", city="Paris")
    professional = make.professional(specialty_code=ONCO)
    login("coordinator")
    url = f"/annuaire/professionnels/{professional.id}/modifier"
    response = conflicting_edit(
        app,
        client,
        make,
        url,
        "admin",
        theirs={"specialty_code": RADIO, "establishment_id": str(curie.id)},
        mine={"first_name": "Élisa", "phone": "01 23 45 67 89"},
    )
    page = unescape(text(response))
    assert response.status_code == 409
    assert (
        'role="alert">La fiche de ce professionnel a été modifiée par un autre utilisateur '
        "pendant que vous la modifiiez."
    ) in page
    assert 'value="Élisa"' in page and 'value="01 23 45 67 89"' in page
    for stored in ("Élise", "(vide)", "Radiothérapie", "Institut Curie (Paris)"):
        assert stored_note(stored) in page, stored
    saved = load(app, Professional, professional.id)
    assert (saved.first_name, saved.phone, saved.specialty_code, saved.version) == (
        "Élise",
        None,
        RADIO,
        2,
    )
    assert len(audit_rows(app, "professional.update", professional.id)) == 1

    again = form_values(text(response))
    assert again["version"] == "2" and again["specialty_code"] == ONCO
    assert client.post(url, data=again).status_code == 302
    saved = load(app, Professional, professional.id)
    assert (saved.first_name, saved.phone, saved.specialty_code) == (
        "Élisa",
        "01 23 45 67 89",
        ONCO,
    )
    assert saved.establishment_id is None and saved.version == 3
    updates = audit_rows(app, "professional.update", professional.id)
    assert len(updates) == 2
    assert set(updates[-1]) == {"first_name", "phone", "specialty_code", "establishment_id"}


def test_professional_edit_with_garbage_version_is_shown_again(app, client, login, make):
    professional = make.professional()
    login("coordinator")
    data = professional_data(rpps=professional.rpps, last_name="Autre", version="abc")
    response = client.post(f"/annuaire/professionnels/{professional.id}/modifier", data=data)
    assert response.status_code == 409 and 'value="Autre"' in text(response)
    assert stored_note("Lefèvre") in text(response)
    assert form_values(text(response))["version"] == "1"
    assert load(app, Professional, professional.id).last_name == "Lefèvre"


def test_professional_search_by_prefix_accents_and_specialty(app, client, login, make):
    make.professional(last_name="Éluard", first_name="Paul", specialty_code=RADIO)
    make.professional(last_name="Elbaz", first_name="Sarah", specialty_code=ONCO)
    make.professional(last_name="Martin", first_name="Claire", specialty_code=ONCO)
    make.professional(last_name="El_ghazi", first_name="Nadia", specialty_code=ONCO)
    login("coordinator")
    page = text(client.get("/annuaire/professionnels?q=el"))
    assert "ÉLUARD Paul" in page and "ELBAZ Sarah" in page and "MARTIN" not in page
    page = text(client.get("/annuaire/professionnels?q=ÉLU"))
    assert "ÉLUARD" in page and "ELBAZ" not in page
    page = text(client.get(f"/annuaire/professionnels?q=el&specialty={RADIO}"))
    assert "ÉLUARD" in page and "ELBAZ" not in page
    page = text(client.get("/annuaire/professionnels?q=el_"))  # "_" is not a wildcard
    assert "EL_GHAZI" in page and "ELBAZ" not in page
    bad = client.get("/annuaire/professionnels?specialty=nope&page=-3")
    assert bad.status_code == 200 and "N&#39;est pas un choix valide" in text(bad)


def test_professionals_are_paginated(app, client, login, make):
    for n in range(27):
        make.professional(last_name=f"Zorn{n:02d}")
    login("admin")
    first = text(client.get("/annuaire/professionnels?q=zorn"))
    assert "Page 1 / 2" in first and "ZORN00" in first and "ZORN26" not in first
    second = text(client.get("/annuaire/professionnels?q=zorn&page=2"))
    assert "ZORN26" in second and "ZORN00" not in second
    assert client.get("/annuaire/professionnels?page=abc").status_code == 200


# --- RCPs ----------------------------------------------------------------------------------


def rcp_data(establishment, **overrides):
    data = {
        "name": "RCP sénologie",
        "national_id": "RCP-34-SEIN-01",
        "establishment_id": str(establishment),
        "nature": "organ",
        "appareil_code": ORGAN,
        "theme_code": "",
        "is_recourse": "y",
        "coordinator_id": "",
        "weekday": "1",
        "start_time": "14:30",
        "place": "Salle Curie",
        "video_url": "https://visio.chu.fr/sein",
        "capacity": "25",
        "deadline_hours": "48",
        "required_specialty_codes": [ONCO, RADIO],
        "min_specialties": "3",
        "notes": "",
        "active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_rcp_created_shown_and_edited(app, client, login, make, role):
    establishment = make.establishment(name="CHU de Nîmes")
    coordinator = make.professional(last_name="Carré", first_name="Inès")
    login(role)
    response = client.post(
        "/annuaire/rcp/nouvelle",
        data=rcp_data(establishment.id, coordinator_id=str(coordinator.id)),
    )
    assert response.status_code == 302, text(response)
    with app.app_context():
        rcp_id = db.session.scalar(select(Rcp.id).where(Rcp.national_id == "RCP-34-SEIN-01"))
    rcp = load(app, Rcp, rcp_id)
    assert rcp.start_time == time(14, 30) and rcp.weekday == 1 and rcp.is_recourse
    assert not rcp.is_paediatric and rcp.coordinator_id == coordinator.id
    assert rcp.required_specialty_codes == [ONCO, RADIO]
    [created] = audit_rows(app, "rcp.create", rcp_id)
    assert created["required_specialties"] == {"old": None, "new": [ONCO, RADIO]}

    detail = text(client.get(f"/annuaire/rcp/{rcp_id}"))
    assert (
        "Quorum : au moins 3 spécialités distinctes, dont Oncologie médicale, Radiothérapie"
    ) in detail
    assert "le mardi à 14h30" in detail and "Dr CARRÉ Inès" in detail

    form = text(client.get(f"/annuaire/rcp/{rcp_id}/modifier"))
    assert 'selected value="G15_10/SM36"' in form or f'value="{ONCO}" selected' in form

    response = client.post(
        f"/annuaire/rcp/{rcp_id}/modifier",
        data=rcp_data(
            establishment.id,
            nature="transversal",
            appareil_code="",
            theme_code=THEME,
            required_specialty_codes=[SURGERY, ONCO, RADIO],
            min_specialties="2",
            weekday="",
            start_time="",
            video_url="",
            version="1",
        ),
    )
    assert response.status_code == 302, text(response)
    rcp = load(app, Rcp, rcp_id)
    assert (rcp.nature, rcp.appareil_code, rcp.theme_code) == ("transversal", None, THEME)
    assert rcp.weekday is None and rcp.start_time is None and rcp.video_url is None
    [update] = audit_rows(app, "rcp.update", rcp_id)
    assert update["required_specialties"] == {"old": [ONCO, RADIO], "new": [SURGERY, ONCO, RADIO]}
    assert update["start_time"] == {"old": "14:30", "new": None}
    assert update["coordinator_id"] == {"old": coordinator.id, "new": None}
    detail = text(client.get(f"/annuaire/rcp/{rcp_id}"))
    assert (
        "Quorum : au moins 3 spécialités distinctes, dont Chirurgie viscérale et "
        "digestive, Oncologie médicale, Radiothérapie"
    ) in detail
    assert "Sans jour fixe" in detail


def test_rcp_edit_conflict_keeps_typed_values(app, client, login, make):
    rcp = make.rcp(required_specialties=[ONCO], capacity=20)
    login("coordinator")
    url = f"/annuaire/rcp/{rcp.id}/modifier"
    response = conflicting_edit(
        app,
        client,
        make,
        url,
        "admin",
        theirs={
            "weekday": "3",
            "start_time": "16:30",
            "required_specialty_codes": [ONCO, RADIO],
            "is_recourse": "y",
        },
        mine={"place": "Salle Pasteur", "capacity": "30"},
    )
    page = unescape(text(response))
    assert response.status_code == 409
    assert (
        'role="alert">Cette RCP a été modifiée par un autre utilisateur pendant que vous la '
        "modifiiez."
    ) in page
    assert 'value="Salle Pasteur"' in page and 'value="30"' in page
    for stored in (
        "Salle Curie",
        "20",
        "jeudi",
        "16h30",
        "Oncologie médicale, Radiothérapie",
        "Oui",
    ):
        assert stored_note(stored) in page, stored
    saved = load(app, Rcp, rcp.id)
    assert (saved.place, saved.capacity, saved.weekday, saved.version) == ("Salle Curie", 20, 3, 2)
    assert saved.required_specialty_codes == [ONCO, RADIO]
    assert len(audit_rows(app, "rcp.update", rcp.id)) == 1

    again = form_values(text(response))
    assert again["version"] == "2" and again["required_specialty_codes"] == ONCO
    assert client.post(url, data=again).status_code == 302
    saved = load(app, Rcp, rcp.id)
    assert (saved.place, saved.capacity, saved.weekday, saved.start_time) == (
        "Salle Pasteur",
        30,
        1,
        time(14, 0),
    )
    assert saved.required_specialty_codes == [ONCO] and not saved.is_recourse
    assert saved.version == 3
    updates = audit_rows(app, "rcp.update", rcp.id)
    assert len(updates) == 2
    assert set(updates[-1]) == {
        "place",
        "capacity",
        "weekday",
        "start_time",
        "is_recourse",
        "required_specialties",
    }


def test_changing_only_required_specialties_bumps_the_version(app, client, login, make):
    rcp = make.rcp(required_specialties=[ONCO])
    login("coordinator")
    data = rcp_data(
        rcp.establishment_id,
        name=rcp.name,
        national_id=rcp.national_id,
        is_recourse=None,
        start_time="14:00",
        video_url="",
        capacity="20",
        required_specialty_codes=[ONCO, RADIO],
        version="1",
    )
    assert client.post(f"/annuaire/rcp/{rcp.id}/modifier", data=data).status_code == 302
    saved = load(app, Rcp, rcp.id)
    assert saved.required_specialty_codes == [ONCO, RADIO] and saved.version == 2
    stale = client.post(
        f"/annuaire/rcp/{rcp.id}/modifier", data={**data, "required_specialty_codes": [ONCO]}
    )
    assert stale.status_code == 409
    assert load(app, Rcp, rcp.id).required_specialty_codes == [ONCO, RADIO]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"appareil_code": ""}, "Une RCP d&#39;organe doit préciser son appareil"),
        ({"theme_code": THEME}, "Une RCP d&#39;organe n&#39;a pas de thème transversal"),
        (
            {"nature": "transversal", "theme_code": THEME},
            "Une RCP transversale n&#39;a pas d&#39;appareil",
        ),
        (
            {"nature": "transversal", "appareil_code": ""},
            "Une RCP transversale doit préciser son thème",
        ),
        ({"video_url": "http://visio.chu.fr/sein"}, "commençant par https://"),
        ({"video_url": "https://"}, "commençant par https://"),
        ({"capacity": "0"}, "entre 1 et 200 dossiers"),
        ({"capacity": "201"}, "entre 1 et 200 dossiers"),
        ({"capacity": "vingt"}, "N&#39;est pas un entier valide"),
        ({"deadline_hours": "721"}, "entre 0 et 720 heures"),
        ({"deadline_hours": "-1"}, "entre 0 et 720 heures"),
        ({"min_specialties": "0"}, "entre 1 et 20"),
        ({"min_specialties": "21"}, "entre 1 et 20"),
        ({"establishment_id": ""}, "Ce champ est requis"),
        ({"establishment_id": "999999"}, "choix valide"),
        ({"weekday": "9"}, "choix valide"),
        ({"start_time": "25:00"}, "N&#39;est pas un horaire valide"),
        ({"required_specialty_codes": ["XX"]}, "choix valide"),
        ({"nature": "autre"}, "choix valide"),
        ({"national_id": ""}, "Ce champ est requis"),
    ],
)
def test_rcp_refusals_save_nothing(app, client, login, make, overrides, message):
    establishment = make.establishment()
    login("coordinator")
    before = count(app, Rcp)
    response = client.post("/annuaire/rcp/nouvelle", data=rcp_data(establishment.id, **overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert "RCP sénologie" in text(response)  # what was typed is kept
    assert count(app, Rcp) == before
    assert count(app, AuditEntry, AuditEntry.action == "rcp.create") == 0


def test_operations_refuse_what_the_database_would_refuse(app, make):
    """The domain layer refuses first, with French messages, whoever the caller is."""
    establishment = make.establishment()
    with app.app_context():
        from rcp_app.core.errors import DomainError

        values = {
            "name": "RCP thorax",
            "national_id": "RCP-THX",
            "nature": "organ",
            "establishment_id": establishment.id,
            "appareil_code": None,
            "theme_code": None,
            "capacity": 10,
            "deadline_hours": 24,
            "min_specialties": 3,
        }
        with pytest.raises(DomainError) as refusal:
            ops.create_rcp(**values)
        assert refusal.value.field == "appareil_code"
        with pytest.raises(DomainError) as refusal:
            ops.create_rcp(**{**values, "appareil_code": ORGAN, "capacity": True})
        assert refusal.value.field == "capacity"
        db.session.rollback()


def test_inactive_professional_cannot_become_coordinator(app, client, login, make):
    establishment = make.establishment()
    retired = make.professional(active=False)
    login("admin")
    response = client.post(
        "/annuaire/rcp/nouvelle", data=rcp_data(establishment.id, coordinator_id=str(retired.id))
    )
    assert response.status_code == 200
    assert count(app, Rcp, Rcp.national_id == "RCP-34-SEIN-01") == 0


def test_duplicate_national_id_is_refused(app, client, login, make):
    existing = make.rcp(name="RCP digestive", national_id="RCP-DIG-01")
    login("admin")
    response = client.post(
        "/annuaire/rcp/nouvelle", data=rcp_data(existing.establishment_id, national_id="RCP-DIG-01")
    )
    assert response.status_code == 200
    assert "déjà utilisé par la RCP « RCP digestive »" in text(response)
    assert count(app, Rcp, Rcp.national_id == "RCP-DIG-01") == 1


def test_unique_guard_turns_a_race_into_a_french_message(app, make):
    """Two creations racing past the pre-check: the database refuses, the user reads French."""
    existing = make.establishment(finess="130000011")
    with app.app_context():
        from rcp_app.core.errors import DomainError

        establishment = Establishment(name="Doublon", finess=existing.finess, city="")
        with (
            pytest.raises(DomainError) as refusal,
            ops._unique_guard("Le numéro FINESS est déjà attribué.", "finess"),
        ):
            db.session.add(establishment)
        assert refusal.value.field == "finess"
        # The savepoint was rolled back: the session is still usable.
        assert db.session.scalar(select(func.count()).select_from(Establishment)) >= 1
        db.session.rollback()


def test_rcp_list_filters(app, client, login, make):
    chu = make.establishment(name="CHU Alpha")
    clinic = make.establishment(name="Clinique Bêta")
    make.rcp(name="RCP sein Alpha", establishment_id=chu.id)
    make.rcp(name="RCP digestif Bêta", establishment_id=clinic.id, appareil_code="86762007")
    make.rcp(
        name="RCP oncogériatrie",
        establishment_id=chu.id,
        nature="transversal",
        appareil_code=None,
        theme_code=THEME,
        active=False,
    )
    login("physician")
    page = text(client.get(f"/annuaire/rcp?establishment={chu.id}"))
    assert "RCP sein Alpha" in page and "RCP oncogériatrie" in page
    assert "RCP digestif Bêta" not in page
    page = text(client.get("/annuaire/rcp?nature=transversal"))
    assert "RCP oncogériatrie" in page and "RCP sein Alpha" not in page
    page = text(client.get("/annuaire/rcp?appareil=86762007"))
    assert "RCP digestif Bêta" in page and "RCP sein Alpha" not in page
    page = text(client.get(f"/annuaire/rcp?theme={THEME}&active=non"))
    assert "RCP oncogériatrie" in page and "RCP sein Alpha" not in page
    page = text(client.get(f"/annuaire/rcp?establishment={chu.id}&active=oui"))
    assert "RCP sein Alpha" in page and "RCP oncogériatrie" not in page
    assert "Nouvelle RCP" not in page  # physicians read only
    for junk in (
        "establishment=abc",
        "nature=x",
        "appareil=inconnu",
        "active=peut-etre",
        "page=0",
        "page=99999999999",
    ):
        assert client.get(f"/annuaire/rcp?{junk}").status_code == 200, junk


def test_quorum_rule_label(app, make):
    rcp = make.rcp(required_specialties=[ONCO], min_specialties=1)
    with app.app_context():
        rcp = db.session.get(Rcp, rcp.id)
        labels = {ONCO: "Oncologie médicale"}
        assert (
            quorum_rule_label(rcp, labels)
            == "Quorum : au moins 1 spécialité distincte, dont Oncologie médicale"
        )
        rcp.min_specialties = 3
        rcp.required_specialties = []
        assert quorum_rule_label(rcp, labels) == "Quorum : au moins 3 spécialités distinctes"
        db.session.rollback()


# --- access --------------------------------------------------------------------------------

READ_RCP = ["/annuaire/rcp", "/annuaire/rcp/{rcp}"]
EDIT_RCP = ["/annuaire/rcp/nouvelle", "/annuaire/rcp/{rcp}/modifier"]
PROFESSIONALS = [
    "/annuaire/professionnels",
    "/annuaire/professionnels/nouveau",
    "/annuaire/professionnels/{professional}/modifier",
]
ESTABLISHMENTS = [
    "/annuaire/etablissements",
    "/annuaire/etablissements/nouveau",
    "/annuaire/etablissements/{establishment}/modifier",
]
ALLOWED = {
    "admin": READ_RCP + EDIT_RCP + PROFESSIONALS + ESTABLISHMENTS,
    "coordinator": READ_RCP + EDIT_RCP + PROFESSIONALS,
    "physician": READ_RCP,
    "gp": [],
}


@pytest.mark.parametrize("role", ["admin", "coordinator", "physician", "gp", None])
def test_access_by_role(app, client, login, make, role):
    rcp = make.rcp()
    ids = {
        "rcp": rcp.id,
        "professional": make.professional().id,
        "establishment": rcp.establishment_id,
    }
    if role:
        login(role)
    for template in READ_RCP + EDIT_RCP + PROFESSIONALS + ESTABLISHMENTS:
        url = template.format(**ids)
        response = client.get(url)
        if role is None:
            assert response.status_code == 302, url
            assert "/connexion" in response.headers["Location"]
        elif template in ALLOWED[role]:
            assert response.status_code == 200, (role, url)
        else:
            assert response.status_code == 403, (role, url)
    if role in ("physician", "gp", None):
        before = load(app, Rcp, rcp.id)
        response = client.post(
            f"/annuaire/rcp/{rcp.id}/modifier", data=rcp_data(rcp.establishment_id, version="1")
        )
        assert response.status_code == (302 if role is None else 403)
        assert load(app, Rcp, rcp.id).name == before.name


def test_rcp_delegates_fiche_validation(app, client, login, make):
    establishment = make.establishment()
    delegate = make.professional(last_name="Delmas", first_name="Paul")
    retired = make.professional(last_name="Ancien", first_name="Jean", active=False)
    login("coordinator")
    response = client.post(
        "/annuaire/rcp/nouvelle",
        data=rcp_data(establishment.id, validator_ids=[str(delegate.id)]),
    )
    assert response.status_code == 302, text(response)
    with app.app_context():
        rcp = db.session.scalar(select(Rcp).where(Rcp.national_id == "RCP-34-SEIN-01"))
        rcp_id, delegates = rcp.id, rcp.validator_ids
    assert delegates == [delegate.id]
    [created] = audit_rows(app, "rcp.create", rcp_id)
    assert created["validators"] == {"old": None, "new": [delegate.id]}
    # Only active professionals of the directory may be chosen.
    refused = client.post(
        f"/annuaire/rcp/{rcp_id}/modifier",
        data=rcp_data(establishment.id, validator_ids=[str(retired.id)], version="1"),
    )
    assert refused.status_code == 200
    assert "n&#39;est pas un choix valide pour ce champ." in text(refused)
    response = client.post(
        f"/annuaire/rcp/{rcp_id}/modifier",
        data=rcp_data(establishment.id, validator_ids=[], version="1"),
    )
    assert response.status_code == 302, text(response)
    with app.app_context():
        assert db.session.get(Rcp, rcp_id).validator_ids == []
    [update] = audit_rows(app, "rcp.update", rcp_id)
    assert update["validators"] == {"old": [delegate.id], "new": []}


def test_rcp_usual_participants(app, client, login, make):
    establishment = make.establishment()
    member = make.professional(last_name="Habitué", first_name="Luc")
    login("coordinator")
    response = client.post(
        "/annuaire/rcp/nouvelle", data=rcp_data(establishment.id, member_ids=[str(member.id)])
    )
    assert response.status_code == 302, text(response)
    with app.app_context():
        rcp = db.session.scalar(select(Rcp).where(Rcp.national_id == "RCP-34-SEIN-01"))
        assert rcp.member_ids == [member.id]
        rcp_id = rcp.id
    [created] = audit_rows(app, "rcp.create", rcp_id)
    assert created["members"] == {"old": None, "new": [member.id]}
    form = text(client.get(f"/annuaire/rcp/{rcp_id}/modifier"))
    assert f'value="{member.id}" selected' in form or f'selected value="{member.id}"' in form


# --- FRCP identifiers and the establishment's category (migration 0014) -------------------

NATIONAL_IDS = {"network_id": "5201", "manager_id": "520114", "registry_id": "27011113"}


def test_establishment_category_is_chosen_from_the_value_set(app, client, login):
    login("admin")
    form = client.get("/annuaire/etablissements/nouveau")
    assert 'value="SA36"' in text(form) and "Centre anti-cancer" in text(form)
    response = client.post(
        "/annuaire/etablissements/nouveau", data=establishment_data(facility_type_code="SA36")
    )
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.scalar(select(Establishment).where(Establishment.finess == "340780477"))
        assert saved.facility_type_code == "SA36"
        establishment_id = saved.id
    [created] = audit_rows(app, "establishment.create", establishment_id)
    assert created["facility_type_code"] == {"old": None, "new": "SA36"}
    assert "Centre anti-cancer" in text(client.get("/annuaire/etablissements"))


@pytest.mark.parametrize("code", ["SA99", "EXP_PATIENT", ""])
def test_unknown_establishment_category_is_refused(app, client, login, code):
    login("admin")
    before = count(app, Establishment)
    response = client.post(
        "/annuaire/etablissements/nouveau", data=establishment_data(facility_type_code=code)
    )
    assert response.status_code == 200
    assert count(app, Establishment) == before


def test_establishment_category_offers_the_imported_value_set(app, client, login):
    """Once JDV_J02 is imported, its establishment categories are the choices."""
    from rcp_app.terminology.importer import read_value_sets
    from rcp_app.terminology.operations import import_value_sets
    from tests.fiches.conformance import ans_cisis_dir

    path = ans_cisis_dir() / "jeuxDeValeurs" / "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml"
    if not path.is_file():
        pytest.skip("ANS value sets absent")
    with app.app_context():
        import_value_sets(read_value_sets(path))
        db.session.commit()
    login("admin")
    page = text(client.get("/annuaire/etablissements/nouveau"))
    assert 'value="SA69"' in page  # not in the built-in subset
    assert 'value="EXP_PATIENT"' not in page  # a code of another system (not a category)
    response = client.post(
        "/annuaire/etablissements/nouveau", data=establishment_data(facility_type_code="SA69")
    )
    assert response.status_code == 302


def test_rcp_national_identifiers_are_saved_and_shown(app, client, login, make):
    establishment = make.establishment()
    login("coordinator")
    form = text(client.get("/annuaire/rcp/nouvelle"))
    for name in NATIONAL_IDS:
        assert f'name="{name}"' in form
    data = rcp_data(establishment.id, **{k: f" {v} " for k, v in NATIONAL_IDS.items()})
    response = client.post("/annuaire/rcp/nouvelle", data=data)
    assert response.status_code == 302, text(response)
    with app.app_context():
        rcp = db.session.scalar(select(Rcp).where(Rcp.national_id == "RCP-34-SEIN-01"))
        assert {k: getattr(rcp, k) for k in NATIONAL_IDS} == NATIONAL_IDS
        rcp_id = rcp.id
    page = text(client.get(f"/annuaire/rcp/{rcp_id}"))
    assert all(value in page for value in NATIONAL_IDS.values())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("network_id", "520", "comporte exactement 4 chiffres"),
        ("network_id", "52A1", "comporte exactement 4 chiffres"),
        ("manager_id", "52011", "comporte exactement 6 chiffres"),
        ("manager_id", "5201140", "comporte exactement 6 chiffres"),
        ("registry_id", "27011", "de 6 à 10 chiffres"),
        ("registry_id", "RCP-27011113", "de 6 à 10 chiffres"),
    ],
)
def test_rcp_national_identifier_formats_are_checked(
    app, client, login, make, field, value, message
):
    establishment = make.establishment()
    login("coordinator")
    response = client.post(
        "/annuaire/rcp/nouvelle", data=rcp_data(establishment.id, **{field: value})
    )
    assert response.status_code == 200
    assert message in text(response)
    assert value in text(response)  # what was typed is kept
    assert count(app, Rcp, Rcp.national_id == "RCP-34-SEIN-01") == 0


def test_rcp_national_identifier_is_unique(app, client, login, make):
    existing = make.rcp(name="RCP digestive", registry_id="27011113")
    login("coordinator")
    response = client.post(
        "/annuaire/rcp/nouvelle",
        data=rcp_data(existing.establishment_id, registry_id="27011113"),
    )
    assert response.status_code == 200
    assert "déjà attribué à la RCP « RCP digestive »" in text(response)
    assert count(app, Rcp, Rcp.registry_id == "27011113") == 1
