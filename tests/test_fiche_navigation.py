"""After signing a fiche: breadcrumbs back to the session, and the next fiche to sign."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import lxml.html
import pytest
from sqlalchemy import select

from rcp_app.cases.models import Tumour
from rcp_app.decisions import operations as decisions
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche
from rcp_app.meetings.models import AgendaItem, MeetingSession
from tests.fiches.support import READY, build_world
from tests.support.factories import PASSWORD


@pytest.fixture
def world(app, make):
    """Three cases on the agenda of one session, each with a decision ready for validation."""
    world = build_world(app, make)
    items = [world.item_id]
    with app.app_context():
        rcp_id = db.session.get(MeetingSession, world.session_id).rcp_id
    for _ in range(2):
        case = make.submitted_case(rcp_id=rcp_id, session_id=world.session_id, status="scheduled")
        item = make.agenda_item(world.session_id, case.id)
        with app.app_context():
            db.session.add(Tumour(case_id=case.id, rank=1, topography_code="C50.4"))
            row = db.session.get(AgendaItem, item.id)
            decisions.save_decision(row, READY, 0, world.validator_user_id)
            assert decisions.mark_ready(row) == []
            db.session.commit()
        items.append(item.id)
    world.items = items
    return world


def _sign(client, world, item_id) -> str:
    """Sign one fiche as the page's form does; the fiche page it leads to."""
    response = client.post(f"/seances/{world.session_id}/fiches/{item_id}/valider")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _next_form(html: str) -> str | None:
    """The action of the « Fiche suivante à signer » validation form, if any."""
    tree = lxml.html.fromstring(html)
    panel = tree.xpath('//*[@id="next-to-sign"]')
    if not panel or "Fiche suivante à signer" not in panel[0].text_content():
        return None
    (form,) = panel[0].iter("form")
    return form.get("action")


def _validate_url(world, item_id) -> str:
    return f"/seances/{world.session_id}/fiches/{item_id}/valider"


def test_fiche_page_has_breadcrumbs_back_to_its_session(app, client, world):
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    html = _sign(client, world, world.items[0])
    with app.app_context():
        starts = db.session.get(MeetingSession, world.session_id).starts_at
    day = starts.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Europe/Paris"))
    crumbs = lxml.html.fromstring(html).xpath('//nav[@aria-label="Fil d\'Ariane"]//li')
    assert [(li.text_content().strip(), li.xpath("string(a/@href)")) for li in crumbs[:3]] == [
        ("Accueil", "/"),
        (f"Séance du {day:%d/%m/%Y}", f"/seances/{world.session_id}"),
        ("Fiches de la séance", f"/seances/{world.session_id}/fiches"),
    ]
    assert crumbs[3].text_content().strip().startswith("Fiche RCP — ")
    assert crumbs[3].get("aria-current") == "page"


def test_next_fiche_to_sign_follows_the_agenda_then_wraps(app, client, world):
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    first, second, third = world.items
    # Signing the second: the third comes next (agenda order), then the first (wrapping).
    assert _next_form(_sign(client, world, second)) == _validate_url(world, third)
    assert _next_form(_sign(client, world, third)) == _validate_url(world, first)
    last = _sign(client, world, first)
    assert _next_form(last) is None
    assert "Aucune autre fiche de cette séance n'attend de signature." in last
    with app.app_context():
        fiches = db.session.scalars(select(Fiche).where(Fiche.session_id == world.session_id))
        assert len(fiches.all()) == 3


def test_no_next_fiche_for_who_may_not_sign(app, client, world, login):
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    _sign(client, world, world.items[0])
    with app.app_context():
        fiche_id = db.session.scalar(select(Fiche.id).where(Fiche.session_id == world.session_id))
    client.post("/deconnexion")
    login("coordinator")  # sees the fiche, does not sign
    html = client.get(f"/fiches/{fiche_id}").get_data(as_text=True)
    assert "Fiches de la séance" in html  # the breadcrumbs are there for everyone
    assert _next_form(html) is None and "Fiche suivante" not in html
