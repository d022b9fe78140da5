"""The GP's inbox and home page mark the fiches the GP has not opened yet (« Nouveau »): a
fiche is read once this GP has downloaded its current version; an amendment makes it new
again; someone else's download does not count. The home page entries open the fiche."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.extensions import db
from rcp_app.fiches import operations as fiche_ops
from rcp_app.fiches.models import Fiche
from tests.delivery.support import signed_fiche
from tests.fiches.support import CHEMOTHERAPY, READY, fiche_of
from tests.meetings_support import audits
from tests.support.factories import PASSWORD

# Both pages that list the GP's fiches.
PAGES = ["/", "/boite"]


def _client(app, user):
    client = app.test_client()
    client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    return client


@pytest.fixture
def inbox(app, make):
    world = signed_fiche(app, make)
    gp = make.user(role="gp", professional_id=world.gp_id)
    correspondent = make.user(role="gp", professional_id=world.correspondent_id)
    fiche = fiche_of(app, world.case_id)
    return world, _client(app, gp), _client(app, correspondent), fiche.id


def entry(html: str, fiche_id: int) -> str:
    """The list entry (table row or home list item) holding the fiche's download link."""
    link = f"/boite/fiches/{fiche_id}.pdf"
    for block in re.findall(r"<(?:tr|li)\b.*?</(?:tr|li)>", html, flags=re.S):
        if link in block:
            return block
    raise AssertionError(f"no entry links to {link}")


def is_new(client, path: str, fiche_id: int) -> bool:
    page = client.get(path)
    assert page.status_code == 200
    return "Nouveau" in entry(page.get_data(as_text=True), fiche_id)


@pytest.mark.parametrize("path", PAGES)
def test_a_fiche_is_new_until_this_gp_opens_it(inbox, path):
    _world, gp, correspondent, fiche_id = inbox
    assert is_new(gp, path, fiche_id)
    # Listing it (the inbox view is audited too) does not read it.
    assert is_new(gp, path, fiche_id)
    # Another recipient opening their copy does not read it for this GP.
    assert correspondent.get(f"/boite/fiches/{fiche_id}.pdf").status_code == 200
    assert not is_new(correspondent, path, fiche_id)
    assert is_new(gp, path, fiche_id)
    assert gp.get(f"/boite/fiches/{fiche_id}.pdf").status_code == 200
    assert not is_new(gp, path, fiche_id)


@pytest.mark.parametrize("during_sealing", [False, True], ids=["after", "during-sealing"])
def test_an_amendment_makes_the_fiche_new_again(app, inbox, during_sealing):
    """``during_sealing``: the GP downloaded version 1 after version 2 was validated but before
    it was stored (the web flow seals between two transactions): still not read."""
    world, gp, _correspondent, fiche_id = inbox
    assert gp.get(f"/boite/fiches/{fiche_id}.pdf").status_code == 200
    assert not is_new(gp, "/boite", fiche_id)
    with app.app_context():
        fiche = db.session.scalar(select(Fiche).where(Fiche.case_id == world.case_id))
        validator = db.session.get(User, world.validator_user_id)
        now = None
        if during_sealing:
            version_1 = fiche_ops.current_version(fiche).validated_at
            downloaded = audits(app, "fiche.download")[-1].at
            now = version_1 + (downloaded - version_1) / 2
        corrected = {**READY, "proposal_code": CHEMOTHERAPY, "proposal_details": "Chimiothérapie"}
        fiche_ops.amend(fiche, validator, corrected, "Erreur de saisie de la proposition", 1, now)
        db.session.commit()
        assert fiche_ops.current_version(fiche).version == 2
    for path in PAGES:
        assert is_new(gp, path, fiche_id)
    assert gp.get(f"/boite/fiches/{fiche_id}.pdf").status_code == 200
    for path in PAGES:
        assert not is_new(gp, path, fiche_id)


def test_home_entries_open_the_fiche(inbox):
    _world, gp, _correspondent, fiche_id = inbox
    item = entry(gp.get("/").get_data(as_text=True), fiche_id)
    href = re.search(r'<a href="([^"]+)"', item).group(1)
    assert href == f"/boite/fiches/{fiche_id}.pdf"
    assert "DUPONT Marie" in re.sub(r"<[^>]+>", "", item)
    download = gp.get(href)
    assert download.status_code == 200 and download.data.startswith(b"%PDF")


def test_inbox_rows_are_labelled_for_the_phone_cards(inbox):
    """Each cell names its column (data-label), shown above the value when the table turns
    into cards on a phone: the labels are exactly the column headers, in order."""
    _world, gp, _correspondent, fiche_id = inbox
    html = gp.get("/boite").get_data(as_text=True)
    table = re.search(r'<table class="[^"]*\btable-stack\b[^"]*">.*?</table>', html, re.S).group(0)
    headers = re.findall(r'<th scope="col">([^<]+)</th>', table)
    labels = re.findall(r'<td data-label="([^"]+)"', entry(table, fiche_id))
    assert headers and labels == headers
