"""A validated decision is read-only everywhere: the meeting page shows it signed, with the
fiche and the amendment, no editable field; every decision route refuses to change it."""

from __future__ import annotations

import lxml.html
import pytest
from sqlalchemy import select

from rcp_app.decisions.models import Decision
from rcp_app.extensions import db
from tests.fiches.support import READY, build_world, fiche_of, signed_world
from tests.support.factories import PASSWORD

CONTROLS = ("input", "select", "textarea", "button")


@pytest.fixture
def world(app, make):
    return signed_world(app, make)


def _meeting(client, world) -> str:
    response = client.get(f"/seances/{world.session_id}/reunion?dossier={world.item_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _editable_controls(html: str) -> list[str]:
    """Controls of the page's decision form a user could change or submit."""
    form = lxml.html.fromstring(html).get_element_by_id("decision-form")
    editable = []
    for control in form.iter(*CONTROLS):
        if control.get("type") == "hidden":
            continue
        if control.get("disabled") is not None:
            continue
        if any(f.get("disabled") is not None for f in control.iterancestors("fieldset")):
            continue
        editable.append(control.get("name") or control.get("id") or control.tag)
    return editable


def _state(app, world) -> tuple[str, str]:
    with app.app_context():
        row = db.session.scalar(select(Decision).where(Decision.item_id == world.item_id))
        return row.state, row.proposal_details


def test_meeting_page_shows_a_validated_decision_read_only(client, world, app):
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    html = _meeting(client, world)
    fiche = fiche_of(app, world.case_id)
    assert "Validée et signée" in html and "Décision validée et signée" in html
    assert "Saisie en cours" not in html
    assert f'href="/fiches/{fiche.id}"' in html
    assert f'href="/fiches/{fiche.id}/avenant"' in html  # the coordinating physician amends
    assert _editable_controls(html) == []
    assert "data-save-url" not in html and 'data-validated="true"' in html
    assert "Marquer prête pour validation" not in html
    # The stored decision is still shown (read-only), as it was signed.
    assert READY["proposal_details"] in html


def test_a_physician_who_may_not_amend_gets_no_amendment_link(client, world, app, login):
    login("physician")
    html = _meeting(client, world)
    fiche = fiche_of(app, world.case_id)
    assert f'href="/fiches/{fiche.id}"' in html
    assert "/avenant" not in html
    assert _editable_controls(html) == []


def test_the_case_page_links_its_signed_fiche(client, world, app):
    """cases/detail.html gets the fiche from the fiches package (a template global)."""
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    fiche = fiche_of(app, world.case_id)
    html = client.get(f"/dossiers/{world.case_id}").get_data(as_text=True)
    assert f'href="/fiches/{fiche.id}"' in html and "Fiche RCP signée (version 1)" in html


def test_an_editable_decision_has_editable_controls(client, app, make, login):
    """The read-only check above can fail: a decision being captured has live fields."""
    world = build_world(app, make, ready=False)
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    html = _meeting(client, world)
    assert "proposal_details" in _editable_controls(html)
    assert "data-save-url" in html and "data-validated" not in html


def _decision_posts(app) -> list[str]:
    """Every POST route of the decisions blueprint that acts on one agenda item."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("decisions.")
        and "POST" in rule.methods
        and "item_id" in rule.arguments
    )


def test_every_decision_route_refuses_a_validated_decision(client, world, app):
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    routes = _decision_posts(app)
    assert len(routes) >= 2  # save and mark ready, at least
    before = _state(app, world)
    for rule in routes:
        url = rule.replace("<int:session_id>", str(world.session_id)).replace(
            "<int:item_id>", str(world.item_id)
        )
        form = client.post(url, data={**READY, "proposal_details": "Autre", "version": "1"})
        assert form.status_code == 409, rule
        for version in (1, 2, 99):  # the page's version, whatever it was
            body = {**READY, "proposal_details": "Autre", "version": version}
            answer = client.post(url, json=body, headers={"Accept": "application/json"})
            assert answer.status_code == 409, rule
            if answer.is_json:
                # The page's script drops its local drafts on this answer and reloads.
                assert answer.get_json()["state"] == "validated", rule
                assert "stored" not in answer.get_json(), rule
    assert _state(app, world) == before == ("validated", READY["proposal_details"])
