"""Patients: create, refuse, search, view, edit, audit, access."""

from datetime import date, timedelta
from html import unescape

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from rcp_app.patients import ins
from rcp_app.patients.models import Patient
from tests.support.html_forms import form_values, other_client

WIKI_INS = "269054958815780"  # F, born 05/1969


def form_data(**overrides):
    data = {
        "birth_name": "  Lefèvre ",
        "birth_first_names": "Élise  Marie",
        "first_birth_first_name": "Élise",
        "used_name": "",
        "used_first_name": "",
        "sex": "F",
        "birth_date": "1969-05-14",
        "birthplace_code": "49007",
        "identity_status": "QUAL",
        "ins_matricule": "2 69 05 49 588 157 80",
        "ins_oid": ins.OID_TEST_NIR,
        "ipp": "IPP-T-1",
    }
    data.update(overrides)
    return data


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def count_patients(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Patient))


def audit_rows(app, action):
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        ).all()
        return [(row.patient_id, row.object_id, row.details_dict()) for row in rows]


# --- creation ---------------------------------------------------------------------------------


def test_new_form_has_french_labels(client, login):
    login("physician")
    text = page_text(client.get("/patients/nouveau"))
    for label in (
        "Nom de naissance",
        "Prénoms de naissance (liste)",
        "Premier prénom de naissance",
        "Nom utilisé",
        "Prénom utilisé",
        "Sexe",
        "Date de naissance",
        "Code INSEE du lieu de naissance",
        "Statut de l'identité",
        "Matricule INS",
        "OID de l'INS",
        "IPP",
    ):
        assert f">{label}</label>" in text, label
    assert 'type="date"' in text and "Identité qualifiée (QUAL)" in text
    assert "INS-NIA (1.2.250.1.213.1.4.9)" in text


def test_create_patient(app, client, login):
    login("coordinator")
    response = client.post("/patients/nouveau", data=form_data())
    assert response.status_code == 302, page_text(response)[:2000]
    with app.app_context():
        patient = db.session.scalar(select(Patient))
        assert patient.birth_name == "LEFÈVRE"
        assert patient.birth_name_key == "LEFEVRE"
        assert patient.birth_first_names == "Élise Marie"
        assert patient.first_name_key == "ELISE"
        assert patient.used_name is None
        assert patient.ins_matricule == WIKI_INS
        assert patient.birth_date == date(1969, 5, 14)
        patient_id = patient.id
    assert response.headers["Location"].endswith(f"/patients/{patient_id}")
    assert audit_rows(app, "patient.create") == [
        (patient_id, str(patient_id), {"identity_status": "QUAL"})
    ]
    page = page_text(client.get(response.headers["Location"]))
    assert "LEFÈVRE Élise enregistré" in page
    assert WIKI_INS in page


def test_create_accepts_french_date_corsica_and_provisional_without_ins(app, client, login):
    login("physician")
    response = client.post(
        "/patients/nouveau",
        data=form_data(
            birth_date="14/05/1969",
            birthplace_code="2a004",
            identity_status="PROV",
            ins_matricule="",
            ins_oid="",
            ipp="",
            used_name="martin",
            used_first_name="Lise",
        ),
    )
    assert response.status_code == 302, page_text(response)[:2000]
    with app.app_context():
        patient = db.session.scalar(select(Patient))
        assert (patient.birthplace_code, patient.ins_matricule, patient.ipp) == (
            "2A004",
            None,
            None,
        )
        assert (patient.used_name, patient.used_name_key) == ("MARTIN", "MARTIN")


REFUSALS = [
    (
        {"ins_matricule": "269054958815781"},
        "ins_matricule",
        "La clé du matricule INS (81) ne correspond pas aux 13 premiers caractères",
    ),
    ({"ins_matricule": "26905495881578"}, "ins_matricule", "15 caractères (clé comprise) ; 14"),
    (
        {"birth_date": "2000-02-31", "identity_status": "PROV", "ins_matricule": "", "ins_oid": ""},
        "birth_date",
        "Date invalide « 2000-02-31 » : saisissez une date existante au format jj/mm/aaaa.",
    ),
    ({"birth_date": "31/02/2000"}, "birth_date", "Date invalide"),
    (
        {
            "birth_date": (date.today() + timedelta(days=2)).isoformat(),
            "identity_status": "PROV",
            "ins_matricule": "",
            "ins_oid": "",
        },
        "birth_date",
        "est dans le futur",
    ),
    (
        {"birth_date": "1899-12-31", "identity_status": "PROV", "ins_matricule": "", "ins_oid": ""},
        "birth_date",
        "antérieure au 01/01/1900",
    ),
    ({"identity_status": "XXX"}, "identity_status", "Statut de l'identité inconnu (« XXX »)"),
    (
        {"sex": "M"},
        "ins_matricule",
        "Le matricule INS désigne une personne de sexe féminin, ce qui ne correspond pas",
    ),
    ({"sex": "Z"}, "sex", "Sexe inconnu (« Z »)"),
    ({"birth_date": "1970-05-14"}, "ins_matricule", "L'année de naissance du matricule INS (69)"),
    ({"birth_date": "1969-06-14"}, "ins_matricule", "Le mois de naissance du matricule INS (05)"),
    (
        {"identity_status": "RECUP", "ins_matricule": "", "ins_oid": ""},
        "ins_matricule",
        "Une identité récupérée doit porter son matricule INS.",
    ),
    (
        {"identity_status": "QUAL", "ins_oid": ""},
        "ins_oid",
        "Une identité qualifiée doit porter l'OID de son INS.",
    ),
    ({"ins_oid": ins.OID_NIA}, "ins_oid", "réservé aux numéros provisoires"),
    ({"identity_status": "VALI", "ins_matricule": ""}, "ins_oid", "OID d'INS est choisi sans"),
    (
        {"first_birth_first_name": "Marie"},
        "first_birth_first_name",
        "doit être le premier de la liste des prénoms de naissance (« Élise »)",
    ),
    ({"birth_name": ""}, "birth_name", "Le nom de naissance est obligatoire."),
    ({"birth_name": "Dupont2"}, "birth_name", "ne peut contenir que des lettres"),
    ({"birthplace_code": "2C004"}, "birthplace_code", "Le code INSEE du lieu de naissance"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), REFUSALS)
def test_create_refusals(app, client, login, overrides, field, message):
    login("coordinator")
    response = client.post("/patients/nouveau", data=form_data(**overrides))
    text = page_text(response)
    assert response.status_code == 200
    assert "Rien n'a été enregistré" in text
    after_field = text[text.index(f'id="{field}"') :]
    assert message in after_field[: after_field.index('class="mb-3')]  # next to its field
    typed = form_data(**overrides)["birth_name"]
    assert f'value="{typed}"' in text or not typed  # the form keeps what was typed
    assert count_patients(app) == 0
    assert audit_rows(app, "patient.create") == []


def test_duplicate_ins_refused(app, client, login, make):
    other = make.patient(birth_date=date(1969, 5, 14), ins_matricule=WIKI_INS, ipp="IPP-A")
    login("coordinator")
    response = client.post("/patients/nouveau", data=form_data())
    text = page_text(response)
    assert response.status_code == 200
    assert "Ce matricule INS est déjà attribué à un autre dossier patient (IPP IPP-A)" in text
    assert other.birth_name not in text.split("<main")[1].split("Ce matricule")[0]
    assert count_patients(app) == 1


def test_duplicate_ipp_refused(app, client, login, make):
    make.patient(ipp="IPP-T-1")
    login("coordinator")
    response = client.post("/patients/nouveau", data=form_data())
    assert "L'IPP IPP-T-1 est déjà attribué à un autre dossier patient." in page_text(response)
    assert count_patients(app) == 1


# --- search -----------------------------------------------------------------------------------


def search(client, **params):
    response = client.get("/patients", query_string=params)
    assert response.status_code == 200
    return page_text(response)


def test_search_by_ins(client, login, make):
    make.patient(birth_name="LEFÈVRE", birth_date=date(1969, 5, 14), ins_matricule=WIKI_INS)
    make.patient(birth_name="AUTRE")
    login("coordinator")
    for query in ("2 69 05 49 588 157 80", WIKI_INS, WIKI_INS[:13]):
        text = search(client, q=query)
        assert "LEFÈVRE" in text and "AUTRE" not in text, query
    assert "Aucun patient" in search(client, q="279035121518989")


def test_search_by_name_ignores_accents_and_case(client, login, make):
    make.patient(birth_name="LEFÈVRE", first_birth_first_name="Élise", birth_first_names="Élise")
    make.patient(birth_name="DUPONT")
    login("physician")
    for query in ("lefevre", "LEFÈVRE", "Lefèv", "lef", "  LEF  "):
        text = search(client, q=query)
        assert "LEFÈVRE" in text and "DUPONT" not in text, query
    assert "Aucun patient ne correspond" in search(client, q="efevre")


def test_search_by_used_name(client, login, make):
    make.patient(birth_name="MARTIN", used_name="DURAND-ÉVRARD", used_first_name="Zoé")
    login("coordinator")
    text = search(client, q="durand-ev")
    assert "MARTIN" in text and "DURAND-ÉVRARD Zoé" in text


def test_search_name_then_first_name(client, login, make):
    make.patient(
        birth_name="DUPONT", first_birth_first_name="Marie", birth_first_names="Marie Hélène"
    )
    make.patient(birth_name="DUPONT", first_birth_first_name="Jeanne", birth_first_names="Jeanne")
    make.patient(birth_name="LE GOFF", first_birth_first_name="Anne", birth_first_names="Anne")
    login("coordinator")
    text = search(client, q="dupont mar")
    assert "Marie" in text and "Jeanne" not in text
    assert "Jeanne" in search(client, q="dupont")
    assert "LE GOFF" in search(client, q="le goff")
    assert "LE GOFF" in search(client, q="le go an")


def test_search_by_birth_date(client, login, make):
    make.patient(birth_name="ANCIEN", birth_date=date(1956, 4, 12))
    make.patient(birth_name="RECENT", birth_date=date(1980, 1, 2))
    login("coordinator")
    for value in ("12/04/1956", "1956-04-12"):
        text = search(client, birth_date=value)
        assert "ANCIEN" in text and "RECENT" not in text
    assert "RECENT" in search(client, q="rec", birth_date="02/01/1980")
    assert "Aucun patient" in search(client, q="rec", birth_date="12/04/1956")


@pytest.mark.parametrize("bad", ["31/02/2020", "demain", "2020-13-01", "1/1/20000"])
def test_search_bad_birth_date_is_a_french_message(app, client, login, bad):
    login("coordinator")
    text = search(client, q="dupont", birth_date=bad)
    assert "Date invalide" in text or "caractères" in text
    assert audit_rows(app, "patient.search") == []


def test_search_pagination(app, client, login, make, monkeypatch):
    monkeypatch.setitem(app.config, "RCP_PAGE_SIZE", 2)
    for name in ("PAGEA", "PAGEB", "PAGEC"):
        make.patient(birth_name=name)
    login("coordinator")
    first = search(client, q="page")
    assert "PAGEA" in first and "PAGEB" in first and "PAGEC" not in first
    assert "Page 1 / 2 · 3 résultats" in first
    second = search(client, q="page", page="2")
    assert "PAGEC" in second and "PAGEA" not in second
    for bad in ("abc", "-1", "0", "99999999999"):
        assert "PAGEA" in search(client, q="page", page=bad)
    assert "PAGEC" in search(client, q="page", page="50")  # past the end: last page
    pages = [details["page"] for _pid, _oid, details in audit_rows(app, "patient.search")]
    assert pages[:2] == [1, 2]


def test_search_is_audited(app, client, login, make):
    patient = make.patient(birth_name="AUDITÉ")
    login("coordinator")
    search(client, q="audite", birth_date="12/04/1956")
    assert audit_rows(app, "patient.search") == [
        (
            None,
            None,
            {
                "criteria": ["name", "birth_date"],
                "page": 1,
                "results": 1,
                "patients": [patient.id],
            },
        )
    ]


def test_listing_without_criteria_shows_recent_patients_and_is_audited(app, client, login, make):
    older = make.patient(birth_name="ANCIEN")
    newer = make.patient(birth_name="NOUVEAU")
    login("physician")
    text = search(client)
    assert "Patients modifiés récemment" in text
    assert text.index("NOUVEAU") < text.index("ANCIEN")
    [(_pid, _oid, details)] = audit_rows(app, "patient.search")
    assert details["criteria"] == [] and details["patients"][:2] == [newer.id, older.id]


# --- INS shown only for qualified identities ----------------------------------------------------


@pytest.mark.parametrize("status", ["PROV", "RECUP", "VALI"])
def test_ins_hidden_unless_qualified(client, login, make, status):
    patient = make.patient(
        birth_name="CACHÉ",
        identity_status=status,
        birth_date=date(1969, 5, 14),
        ins_matricule=WIKI_INS,
    )
    login("coordinator")
    assert "CACHÉ" in search(client, q="cache")
    assert WIKI_INS not in search(client, q="cache")
    detail = page_text(client.get(f"/patients/{patient.id}"))
    assert "CACHÉ" in detail and WIKI_INS not in detail
    assert "l'identité n'est pas qualifiée" in detail


def test_ins_shown_when_qualified(client, login, make):
    patient = make.patient(
        birth_name="VISIBLE", birth_date=date(1969, 5, 14), ins_matricule=WIKI_INS
    )
    login("coordinator")
    assert WIKI_INS in search(client, q="visible")
    detail = page_text(client.get(f"/patients/{patient.id}"))
    assert WIKI_INS in detail and "INS-NIR de test" in detail


# --- view and edit ----------------------------------------------------------------------------


def test_detail_is_audited(app, client, login, make):
    patient = make.patient(used_name="MARTIN")
    login("coordinator")
    text = page_text(client.get(f"/patients/{patient.id}"))
    assert "DUPONT" in text and "MARTIN Marie" in text and "12/04/1956" in text
    assert audit_rows(app, "patient.view") == [(patient.id, str(patient.id), {})]


def test_unknown_patient_is_404(app, client, login):
    login("coordinator")
    assert client.get("/patients/999999").status_code == 404
    assert client.get("/patients/999999/modifier").status_code == 404
    assert audit_rows(app, "patient.view") == []


def test_edit_form_is_audited_and_prefilled(app, client, login, make):
    patient = make.patient(birth_name="EDITÉ")
    login("physician")
    text = page_text(client.get(f"/patients/{patient.id}/modifier"))
    assert 'value="EDITÉ"' in text and 'name="version"' in text and 'value="1956-04-12"' in text
    assert audit_rows(app, "patient.view") == [(patient.id, str(patient.id), {"context": "edit"})]


def edit_data(patient, **overrides):
    data = {
        field: getattr(patient, field) or ""
        for field in (
            "birth_name",
            "birth_first_names",
            "first_birth_first_name",
            "used_name",
            "used_first_name",
            "sex",
            "birthplace_code",
            "identity_status",
            "ins_matricule",
            "ins_oid",
            "ipp",
        )
    }
    data["birth_date"] = patient.birth_date.isoformat()
    data["version"] = str(patient.version)
    data.update(overrides)
    return data


def test_edit_saves_and_audits_changes(app, client, login, make):
    patient = make.patient()
    login("coordinator")
    new_ins = ins.make_matricule("2", 1956, 4, "2A", "004", 1)
    response = client.post(
        f"/patients/{patient.id}/modifier",
        data=edit_data(patient, used_name="Martin", ins_matricule=new_ins),
    )
    assert response.status_code == 302, page_text(response)[:2000]
    with app.app_context():
        saved = db.session.get(Patient, patient.id)
        assert (saved.used_name, saved.used_name_key, saved.ins_matricule, saved.version) == (
            "MARTIN",
            "MARTIN",
            new_ins,
            2,
        )
    [(pid, _oid, details)] = audit_rows(app, "patient.update")
    assert pid == patient.id
    assert details == {"fields": ["used_name", "ins_matricule"]}  # names, never values
    assert new_ins not in str(details) and patient.ins_matricule not in str(details)


def test_edit_without_change_writes_nothing(app, client, login, make):
    patient = make.patient()
    login("coordinator")
    response = client.post(
        f"/patients/{patient.id}/modifier", data=edit_data(patient), follow_redirects=True
    )
    assert "Aucune modification" in page_text(response)
    assert audit_rows(app, "patient.update") == []


def test_edit_refusal_keeps_typed_values(app, client, login, make):
    patient = make.patient()
    login("coordinator")
    response = client.post(
        f"/patients/{patient.id}/modifier",
        data=edit_data(patient, used_name="Nouveau", identity_status="INCONNU"),
    )
    text = page_text(response)
    assert response.status_code == 200 and "Statut de l'identité inconnu" in text
    assert 'value="Nouveau"' in text
    with app.app_context():
        assert db.session.get(Patient, patient.id).used_name is None


CONFLICT_BANNER = (
    "Ce dossier patient a été modifié par un autre utilisateur pendant que vous le modifiiez. "
    "Vos saisies sont conservées ci-dessous ; les valeurs enregistrées entre-temps sont "
    "indiquées sous les champs concernés. Enregistrez à nouveau pour confirmer vos valeurs, "
    "ou annulez."
)


def test_edit_conflict_keeps_typed_values_and_shows_stored_ones(app, client, login, make):
    patient = make.patient()
    login("coordinator")
    url = f"/patients/{patient.id}/modifier"
    mine = form_values(client.get(url).get_data(as_text=True))
    assert mine["version"] == "1"
    # Meanwhile another user saves the same identity.
    other = other_client(app, make, "physician")
    make.submitted_case(patient_id=patient.id, created_by_id=other.user.id)  # theirs too
    theirs = form_values(other.get(url).get_data(as_text=True))
    theirs.update(birth_date="1956-04-20", identity_status="VALI", ipp="IPP-AUTRE")
    assert other.post(url, data=theirs).status_code == 302

    mine.update(used_name="Martin", used_first_name="Lou")
    response = client.post(url, data=mine)
    text = page_text(response)
    assert response.status_code == 409
    assert 'role="alert">' + CONFLICT_BANNER in text
    assert 'value="Martin"' in text and 'value="Lou"' in text  # what was typed is kept
    assert f'value="{patient.ipp}"' in text and 'value="1956-04-12"' in text
    for stored in ("20/04/1956", "Identité validée (VALI)", "IPP-AUTRE", "(vide)"):
        assert f"Valeur enregistrée entre-temps : {stored}" in text, stored
    assert "Valeur enregistrée entre-temps : DUPONT" not in text  # same as typed: no note
    with app.app_context():
        saved = db.session.get(Patient, patient.id)
        assert (saved.used_name, saved.ipp, saved.identity_status, saved.version) == (
            None,
            "IPP-AUTRE",
            "VALI",
            2,
        )
    assert len(audit_rows(app, "patient.update")) == 1
    assert audit_rows(app, "patient.view")[-1] == (
        patient.id,
        str(patient.id),
        {"context": "edit_conflict"},
    )

    # Submitting the page again confirms the user's values against the current version.
    again = form_values(response.get_data(as_text=True))
    assert again["version"] == "2" and again["used_name"] == "Martin"
    assert client.post(url, data=again).status_code == 302
    with app.app_context():
        saved = db.session.get(Patient, patient.id)
        assert (saved.used_name, saved.used_first_name, saved.ipp, saved.version) == (
            "MARTIN",
            "Lou",
            patient.ipp,
            3,
        )
        assert (saved.birth_date, saved.identity_status) == (date(1956, 4, 12), "QUAL")
    updates = audit_rows(app, "patient.update")
    assert len(updates) == 2
    assert updates[-1][2]["fields"] == [
        "used_name",
        "used_first_name",
        "birth_date",
        "identity_status",
        "ipp",
    ]


@pytest.mark.parametrize("version", ["abc", None])
def test_edit_with_bad_or_missing_version_is_shown_again(app, client, login, make, version):
    patient = make.patient()
    login("coordinator")
    data = edit_data(patient, used_name="Trois", version=version)
    if version is None:
        del data["version"]
    response = client.post(f"/patients/{patient.id}/modifier", data=data)
    text = page_text(response)
    assert response.status_code == 409 and CONFLICT_BANNER in text
    assert 'value="Trois"' in text and "Valeur enregistrée entre-temps : (vide)" in text
    assert form_values(response.get_data(as_text=True))["version"] == "1"
    with app.app_context():
        assert db.session.get(Patient, patient.id).used_name is None
    assert audit_rows(app, "patient.update") == []


# --- access -----------------------------------------------------------------------------------


def _urls(patient_id):
    return [
        ("get", "/patients"),
        ("get", "/patients/nouveau"),
        ("post", "/patients/nouveau"),
        ("get", f"/patients/{patient_id}"),
        ("get", f"/patients/{patient_id}/modifier"),
        ("post", f"/patients/{patient_id}/modifier"),
    ]


@pytest.mark.parametrize("role", ["admin", "gp"])
def test_other_roles_are_refused(app, client, login, make, role):
    patient = make.patient()
    login(role)
    for method, url in _urls(patient.id):
        response = getattr(client, method)(url, data=form_data())
        assert response.status_code == 403, (method, url)
    assert count_patients(app) == 1
    assert audit_rows(app, "patient.view") == [] and audit_rows(app, "patient.search") == []


def test_anonymous_is_redirected_to_login(client, make):
    patient = make.patient()
    for method, url in _urls(patient.id):
        response = getattr(client, method)(url, data=form_data())
        assert response.status_code == 302, (method, url)
        assert "/connexion" in response.headers["Location"]


def test_identity_macros(app, make):
    qualified = make.patient(
        used_name="MARTIN", birth_date=date(1969, 5, 14), ins_matricule=WIKI_INS
    )
    validated = make.patient(identity_status="VALI")
    template = (
        '{% from "patients/_identity.html" import identity_block, identity_line %}'
        "{{ identity_block(p) }}|{{ identity_line(p, link='/x') }}"
    )
    with app.test_request_context():
        shown = unescape(render_template_string(template, p=qualified))
        hidden = unescape(render_template_string(template, p=validated))
    assert "DUPONT" in shown and "MARTIN Marie" in shown and "14/05/1969" in shown
    assert shown.count(WIKI_INS) == 2 and "Identité qualifiée" in shown
    assert validated.ins_matricule not in hidden and "Identité validée" in hidden
