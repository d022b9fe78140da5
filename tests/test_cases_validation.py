"""Every refusal: a precise French message next to the field, what was typed kept, nothing saved."""

from __future__ import annotations

import html as html_lib
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from rcp_app.cases.models import Case, Tumour
from rcp_app.core.timeutil import PARIS
from rcp_app.extensions import db
from tests.support.case_data import case_form, new_url, world

# The application's « today » is Paris's (near midnight UTC the two differ).
TOMORROW = (datetime.now(PARIS).date() + timedelta(days=1)).strftime("%d/%m/%Y")

REFUSALS = [
    # (field, typed value, message fragment)
    ("tumour_rows-0-diagnosis_date", TOMORROW, "La date du diagnostic"),
    ("tumour_rows-0-diagnosis_date", "31/02/2024", "n'est pas une date valide"),
    ("tumour_rows-0-topography_code", "C99.9", "Code de topographie CIM-10 inconnu"),
    ("tumour_rows-0-morphology_code", "9999/9", "Code de morphologie CIM-O-3 inconnu"),
    ("tumour_rows-0-laterality_code", "123", "Latéralité inconnue."),
    ("tumour_rows-0-clinical_t", "T5", "T clinique « T5 » impossible pour le site « sein »"),
    ("tumour_rows-0-pathological_n", "pN4", "N pathologique « N4 » impossible pour le site"),
    ("tumour_rows-0-clinical_m", "xyz", "n'est pas une catégorie M reconnue"),
    ("tumour_rows-0-bm_breast_her2", "4+", "Statut HER2 du sein : valeur « 4+ » inconnue"),
    ("tumour_rows-0-bm_breast_er", "120", "comprise entre 0 et 100 %"),
    ("tumour_rows-0-bm_breast_ki67", "beaucoup", "saisissez un nombre"),
    ("g8_score", "18", "Le score G8 est un nombre entier compris entre 0 et 17."),
    ("g8_score", "-1", "Le score G8 est un nombre entier compris entre 0 et 17."),
    ("performance_status", "5", "L'indice de performance OMS est compris entre 0 et 4."),
    ("session_id", "999999", "Séance inconnue pour cette RCP"),
    ("requester_id", "", "Choisissez le médecin demandeur"),
    ("treatment_rows-0-type_code", "ZZZ", "Type de traitement inconnu."),
    ("treatment_rows-0-status", "", "Précisez si le traitement est réalisé"),
    ("treatment_rows-0-treatment_date", TOMORROW, "La date du traitement"),
    ("pathology_date", TOMORROW, "ne peut pas être dans le futur"),
    ("patient_informed_on", "2024-13-01", "n'est pas une date valide"),
    ("relapse_date", "01/01/2024", "La date de rechute ne concerne qu'une rechute"),
    ("discovery_screening", "peut-être", "Découverte par dépistage"),
    ("organ_code", "41216001", "ne relève pas de l'appareil choisi"),
    ("appareil_code", "000", "Appareil inconnu"),
    ("nature", "autre", "Choisissez la nature de la discussion"),
]


def _field_error(page: str, name: str) -> str:
    """The messages shown right after the field named ``name``."""
    text = html_lib.unescape(page)
    match = re.search(r'name="' + re.escape(name) + r'"', text)
    assert match, f"no field {name} in page"
    after = text[match.start() : match.start() + 6000]
    return " ".join(re.findall(r'<div class="invalid-feedback d-block">([^<]*)</div>', after)[:3])


def _case_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


@pytest.mark.parametrize(("field", "value", "message"), REFUSALS)
def test_refusal_next_to_the_field(app, client, make, login, field, value, message):
    login("physician")
    ids = world(app, make)
    response = client.post(new_url(ids), data=case_form(ids, **{field: value}))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in _field_error(page, field), _field_error(page, field)
    assert "Rien n'a été enregistré" in html_lib.unescape(page)
    # What was typed is kept, elsewhere in the form too.
    assert "Indication d'une chimiothérapie adjuvante ?" in html_lib.unescape(page)
    selects = ("session_id", "performance_status", "nature", "discovery_screening")
    if value and field not in selects and "code" not in field:
        assert html_lib.escape(value, quote=True) in page or value in page
    assert _case_count(app) == 0


def test_several_problems_are_reported_together(app, client, make, login):
    login("physician")
    ids = world(app, make)
    data = case_form(
        ids,
        g8_score="25",
        performance_status="7",
        **{"tumour_rows-0-clinical_t": "T9", "tumour_rows-0-topography_code": "C50.4"},
    )
    page = client.post(new_url(ids), data=data).get_data(as_text=True)
    for field in ("g8_score", "performance_status", "tumour_rows-0-clinical_t"):
        assert _field_error(page, field), field


def test_relapse_needs_its_date(app, client, make, login):
    login("physician")
    ids = world(app, make)
    page = client.post(new_url(ids), data=case_form(ids, phase_code="MED-244")).get_data(
        as_text=True
    )
    assert "Précisez la date de la rechute." in _field_error(page, "relapse_date")
    ok = client.post(
        new_url(ids), data=case_form(ids, phase_code="MED-244", relapse_date="03/03/2025")
    )
    assert ok.status_code == 302


def test_gp_must_be_a_general_practitioner(app, client, make, login):
    login("physician")
    ids = world(app, make)
    page = client.post(new_url(ids), data=case_form(ids, gp=str(ids["requester"]))).get_data(
        as_text=True
    )
    assert "n'est pas médecin généraliste" in _field_error(page, "gp")
    assert client.post(new_url(ids), data=case_form(ids, gp="unknown")).status_code == 302


def test_gleason_and_isup_must_agree(app, client, make, login):
    login("physician")
    ids = world(app, make, rcp_fields={"appareil_code": "90264002"})
    data = case_form(
        ids,
        appareil_code="90264002",
        organ_code="41216001",
        **{
            "tumour_rows-0-topography_code": "C61",
            "tumour_rows-0-morphology_code": "8140/3",
            "tumour_rows-0-pathological_t": "",
            "tumour_rows-0-pathological_n": "",
            "tumour_rows-0-bm_prostate_gleason_primary": "4",
            "tumour_rows-0-bm_prostate_gleason_secondary": "3",
            "tumour_rows-0-bm_prostate_isup": "2",
        },
    )
    page = client.post(new_url(ids), data=data).get_data(as_text=True)
    assert "ne correspond pas au score de Gleason 4 + 3 (groupe ISUP 3)" in _field_error(
        page, "tumour_rows-0-bm_prostate_isup"
    )


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("question", "La question posée est obligatoire pour soumettre le dossier."),
        ("synthesis", "La synthèse du dossier est obligatoire pour le soumettre."),
    ],
)
def test_question_and_synthesis_are_mandatory_to_submit(app, client, make, login, field, message):
    login("physician")
    ids = world(app, make)
    response = client.post(new_url(ids), data=case_form(ids, action="submit", **{field: ""}))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in _field_error(page, field)
    assert _case_count(app) == 0
    # A draft may be saved without them…
    assert client.post(new_url(ids), data=case_form(ids, **{field: ""})).status_code == 302
    with app.app_context():
        case = db.session.scalars(select(Case)).one()
        case_id, version = case.id, case.version
    # …but the submit button of the case page refuses, naming the reason.
    response = client.post(
        f"/dossiers/{case_id}/soumettre", data={"version": version}, follow_redirects=True
    )
    assert message in html_lib.unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Case, case_id).status == "draft"


def test_gp_or_unknown_is_mandatory_to_submit(app, client, make, login):
    login("physician")
    ids = world(app, make)
    page = client.post(new_url(ids), data=case_form(ids, action="submit", gp="")).get_data(
        as_text=True
    )
    assert "Indiquez le médecin traitant, ou « inconnu »" in _field_error(page, "gp")


def test_empty_rows_are_ignored_and_removed_rows_dropped(app, client, make, login):
    login("physician")
    ids = world(app, make)
    data = case_form(
        ids,
        **{
            "tumour_rows-1-diagnosis_date": "",
            "tumour_rows-1-topography_code": "",
            "tumour_rows-2-topography_code": "C50.1",
            "tumour_rows-2-remove": "y",
            "treatment_rows-1-type_code": "",
            "treatment_rows-1-status": "",
        },
    )
    assert client.post(new_url(ids), data=data).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Tumour)) == 1


def test_invalid_page_and_filters_never_fail(app, client, make, login):
    login("coordinator")
    for query in ("page=abc", "page=-3", "rcp=xyz", "statut=bidon", "rcp=99999&page=999"):
        assert client.get(f"/dossiers?{query}").status_code == 200
