"""The follow-up screen: the page, recording, each refusal with its French message, and who
may open it (403 outside the care team, 404 for nothing)."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from rcp_app.followups.models import FollowUp
from tests.followups.support import follow_up_world, load, today
from tests.support.access_routes import login


def _day(days_ago: int) -> str:
    return (today() - timedelta(days=days_ago)).strftime("%d/%m/%Y")


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def world(app, make):
    return follow_up_world(
        app,
        make,
        patient_fields={"birth_name": "SUIVIÈRE", "first_birth_first_name": "Odile"},
    )


def _url(world) -> str:
    return f"/suivis/{world.follow_up_id}"


def _post(client, world, **data):
    data.setdefault("version", str(load(client.application, world.follow_up_id).version))
    return client.post(_url(world), data=data)


def test_the_page_shows_patient_proposal_and_links(app, world):
    client = login(app, world.requester)
    response = client.get(_url(world))
    assert response.status_code == 200
    text = _text(response)
    assert "SUIVIÈRE" in text and "Odile" in text
    assert "Proposition de la RCP : Intervention chirurgicale — Tumorectomie" in text
    assert "Alternative 1 : Chimiothérapie — Néoadjuvante" in text
    assert "Alternative 2 : Radiothérapie" in text
    assert f'href="/fiches/{world.fiche_id}"' in text
    assert f'href="/dossiers/{world.case_id}"' in text
    assert "En retard de 1 jour" in text
    assert 'name="state"' in text and "Enregistrer le suivi" in text
    with app.app_context():
        row = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "followup.view")
            .order_by(AuditEntry.seq.desc())
        ).first()
    assert row.patient_id == world.patient_id


def test_recording_the_proposal_started(app, world):
    client = login(app, world.requester)
    response = _post(
        client, world, state="started_as_proposed", option_rank="1", started_on=_day(2)
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_url(world))
    stored = load(app, world.follow_up_id)
    assert (stored.state, stored.option_rank) == ("started_as_proposed", 1)
    text = _text(client.get(_url(world)))
    assert "Suivi enregistré : « Traitement proposé commencé »." in text
    assert "Alternative 1 : Chimiothérapie" in text and _day(2) in text
    # Its author may still correct it: the form is there, saying so.
    assert "Corriger votre saisie" in text


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({}, 400, "Choisissez ce qu'il est advenu de la proposition de la RCP."),
        (
            {"state": "started_other", "started_on": _day(1), "deviation_reason": "other"},
            400,
            "Indiquez le traitement commencé à la place.",
        ),
        (
            {"state": "started_other", "other_treatment": "Hormonothérapie"},
            400,
            "Indiquez la date de début du traitement.",
        ),
        (
            {"state": "started_as_proposed", "option_rank": "0", "started_on": _day(-3)},
            400,
            "ne peut pas être dans le futur",
        ),
        (
            {"state": "not_started", "deviation_reason": "other"},
            400,
            "Précisez le motif (« Autre raison »).",
        ),
        ({"state": "pending"}, 400, "Choisissez ce qu'il est advenu"),
        ({"state": "lost", "details": "nul\x00"}, 400, "Précisions"),
    ],
)
def test_each_refusal_comes_back_with_its_message(app, world, data, status, message):
    client = login(app, world.requester)
    response = _post(client, world, **data)
    assert response.status_code == status
    text = _text(response)
    assert message in text
    assert "Il y a un problème" in text  # the error summary
    assert load(app, world.follow_up_id).state == "pending"
    if "other_treatment" in data:
        assert data["other_treatment"] in text  # what was typed is kept


def test_a_stale_form_keeps_what_was_typed(app, world):
    client = login(app, world.requester)
    version = str(load(app, world.follow_up_id).version)
    other = login(app, world.coordinator)
    assert _post(other, world, state="lost").status_code == 302
    response = _post(
        client,
        world,
        version=version,
        state="started_other",
        other_treatment="Hormonothérapie tapée",
    )
    assert response.status_code == 409
    text = _text(response)
    assert "Vos saisies sont conservées" in text
    assert "Hormonothérapie tapée" in text
    assert "Valeur enregistrée entre-temps : Patient perdu de vue" in text
    assert load(app, world.follow_up_id).state == "lost"


def test_a_closed_follow_up_refuses_someone_else(app, world):
    requester = login(app, world.requester)
    assert _post(requester, world, state="deceased").status_code == 302
    coordinator = login(app, world.coordinator)
    page = _text(coordinator.get(_url(world)))
    assert "Le suivi est clos" in page and 'name="state"' not in page
    response = _post(coordinator, world, state="lost")
    assert response.status_code == 409
    assert "Seule la personne qui l'a saisi peut le corriger" in _text(response)
    assert load(app, world.follow_up_id).state == "deceased"


def test_a_member_of_the_rcp_reads_but_does_not_record(app, world):
    client = login(app, world.member)
    page = client.get(_url(world))
    assert page.status_code == 200
    assert 'name="state"' not in _text(page)
    assert "Le suivi est renseigné par le médecin demandeur" in _text(page)
    assert _post(client, world, state="lost").status_code == 403
    assert load(app, world.follow_up_id).state == "pending"


def test_outside_the_care_team_403_and_unknown_404(app, make, world):
    client = login(app, world.outsider)
    response = client.get(_url(world))
    assert response.status_code == 403
    assert f"/patients/{world.patient_id}/acces-exceptionnel" in _text(response)
    assert _post(client, world, state="lost").status_code == 403
    assert client.get(f"/suivis/fiche/{world.fiche_id}").status_code == 403
    assert client.post(f"/suivis/{world.follow_up_id}/representer").status_code == 403
    assert client.get("/suivis/999999999").status_code == 404
    assert client.get("/suivis/fiche/999999999").status_code == 404
    gp = make.user(role="gp")
    assert login(app, gp).get(_url(world)).status_code == 403


def test_the_link_of_the_emails_opens_the_follow_up(app, make, world):
    client = login(app, world.requester)
    response = client.get(f"/suivis/fiche/{world.fiche_id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_url(world))
    anonymous = app.test_client().get(f"/suivis/fiche/{world.fiche_id}")
    assert anonymous.status_code == 302 and "/connexion" in anonymous.headers["Location"]
    with app.app_context():  # a fiche without follow-up (none opened for it): 404
        db.session.delete(db.session.get(FollowUp, world.follow_up_id))
        db.session.commit()
    assert client.get(f"/suivis/fiche/{world.fiche_id}").status_code == 404
