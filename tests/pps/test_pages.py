"""The care programme pages, as the referring physician uses them: open from the fiche, fill
in, add a line, get refusals next to their fields, validate and sign, print, update."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from rcp_app.pps.models import CarePlan
from tests.pps.support import FORM, in_days, plan_world
from tests.support.factories import PASSWORD


@pytest.fixture
def world(app, make):
    return plan_world(app, make)


@pytest.fixture
def browser(app, world):
    client = app.test_client()
    response = client.post(
        "/connexion", data={"username": world.requester_username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def _plan_id(app, world) -> int:
    with app.app_context():
        return db.session.scalar(select(CarePlan.id).where(CarePlan.fiche_id == world.fiche_id))


def _form(app, world, **changes) -> dict:
    with app.app_context():
        plan = db.session.get(CarePlan, _plan_id(app, world))
        version = plan.lock_version
    return {**FORM, "referent_id": str(world.requester_id), "version": str(version), **changes}


def _open(browser, app, world) -> int:
    page = browser.get(f"/fiches/{world.fiche_id}")
    assert "Rédiger le PPS" in page.get_data(as_text=True)
    opening = browser.get(f"/fiches/{world.fiche_id}/pps")
    assert "Rédiger le programme personnalisé de soins" in opening.get_data(as_text=True)
    response = browser.post(f"/fiches/{world.fiche_id}/pps", data={"_": "1"})
    plan_id = _plan_id(app, world)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/pps/{plan_id}/modifier")
    return plan_id


def test_the_physician_opens_fills_validates_and_prints(app, browser, world):
    plan_id = _open(browser, app, world)
    page = browser.get(f"/pps/{plan_id}/modifier").get_data(as_text=True)
    assert "Tumorectomie et ganglion sentinelle" in page  # the RCP's proposal, pre-filled
    assert "01 23 45 67 89" in page or "0123456789" in page  # the referent's phone
    # One more appointment line, nothing saved.
    more = browser.post(
        f"/pps/{plan_id}/modifier", data={**_form(app, world), "action": "add_appointments"}
    ).get_data(as_text=True)
    assert 'name="appointment_rows-1-date"' in more
    saved = browser.post(f"/pps/{plan_id}/modifier", data={**_form(app, world), "action": "save"})
    assert saved.status_code == 302
    signed = browser.post(f"/pps/{plan_id}/valider", data=_form(app, world))
    assert signed.status_code == 302, signed.get_data(as_text=True)[:2000]
    detail = browser.get(f"/pps/{plan_id}").get_data(as_text=True)
    assert "Validé et signé" in detail and "En vigueur" in detail
    printed = browser.get(f"/pps/{plan_id}/v1/imprimer")
    assert printed.mimetype == "application/pdf"
    assert printed.headers["Content-Disposition"].startswith("inline;")
    downloaded = browser.get(f"/pps/{plan_id}/v1.xml")
    assert downloaded.headers["Content-Disposition"].startswith("attachment;")
    assert b"ClinicalDocument" in downloaded.data
    with app.app_context():
        actions = set(
            db.session.scalars(
                select(AuditEntry.action).where(AuditEntry.object_id == str(plan_id))
            )
        )
    assert {"pps.open", "pps.save", "pps.validate", "pps.view", "pps.print"} <= actions


def test_refusals_are_shown_next_to_their_fields_and_the_typing_is_kept(app, browser, world):
    plan_id = _open(browser, app, world)
    response = browser.post(
        f"/pps/{plan_id}/modifier",
        data={
            **_form(app, world),
            "treatment_rows-0-planned_start": "32/13/2026",
            "nurse_phone": "12",
            "action": "save",
        },
    )
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "n'est pas une date valide" in page and "10 chiffres" in page
    field = re.search(r'<input[^>]*id="treatment_rows-0-planned_start"[^>]*>', page).group(0)
    assert 'value="32/13/2026"' in field  # shown again as typed
    assert 'aria-invalid="true"' in field


def test_validation_refused_for_an_incomplete_programme_keeps_the_draft(app, browser, world):
    plan_id = _open(browser, app, world)
    response = browser.post(
        f"/pps/{plan_id}/valider",
        data=_form(app, world, referent_phone="", nurse_name="", nurse_phone=""),
    )
    assert response.status_code == 400
    assert "au moins un numéro de téléphone" in html.unescape(response.get_data(as_text=True))
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        assert plan.state == "draft"
        assert plan.draft_dict()["appointments"][0]["description"] == (
            "Consultation avec le chirurgien"
        )


def test_an_update_needs_a_motive_and_makes_version_2(app, browser, world):
    plan_id = _open(browser, app, world)
    assert browser.post(f"/pps/{plan_id}/valider", data=_form(app, world)).status_code == 302
    with app.app_context():
        version = db.session.get(CarePlan, plan_id).lock_version
    assert browser.get(f"/pps/{plan_id}/modifier").status_code == 302  # validated: not editable
    browser.post(f"/pps/{plan_id}/mise-a-jour", data={"version": str(version)})
    moved = {"treatment_rows-0-planned_start": in_days(8)}
    refused = browser.post(f"/pps/{plan_id}/valider", data=_form(app, world, **moved))
    assert refused.status_code == 400
    assert "motif de la mise à jour" in html.unescape(refused.get_data(as_text=True))
    done = browser.post(
        f"/pps/{plan_id}/valider",
        data=_form(app, world, reason="Opération avancée", motive="GEN-176", **moved),
    )
    assert done.status_code == 302
    detail = browser.get(f"/pps/{plan_id}").get_data(as_text=True)
    assert "Opération avancée" in detail and "Remplacée" in detail


def test_someone_outside_the_case_cannot_open_it(app, make, world):
    outsider = make.user(role="physician", professional_id=make.professional().id)
    client = app.test_client()
    client.post("/connexion", data={"username": outsider.username, "password": PASSWORD})
    assert client.get(f"/fiches/{world.fiche_id}/pps").status_code == 403
    assert client.post(f"/fiches/{world.fiche_id}/pps", data={"_": "1"}).status_code == 403


def test_my_follow_ups_say_where_each_programme_stands(app, browser, world):
    listed = browser.get("/suivis").get_data(as_text=True)
    assert f'href="/fiches/{world.fiche_id}/pps">À rédiger' in listed
    plan_id = _open(browser, app, world)
    assert f'href="/pps/{plan_id}/modifier">Brouillon' in browser.get("/suivis").get_data(
        as_text=True
    )
    assert browser.post(f"/pps/{plan_id}/valider", data=_form(app, world)).status_code == 302
    listed = browser.get("/suivis").get_data(as_text=True)
    assert f'href="/pps/{plan_id}">Validé (version 1)' in listed
