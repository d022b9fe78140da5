"""The closed loop in a browser: dr.martin validates a fiche, the referring physician drafts and
validates the care programme (PPS), prints it, and a month later (the test moves the clock)
records the treatment start from the reminder's link."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import time_machine
from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.cases.models import Case
from rcp_app.core.timeutil import PARIS
from rcp_app.delivery.models import Transmission
from rcp_app.demo.loader import DEMO_PASSWORD
from rcp_app.extensions import db
from rcp_app.followups.models import FollowUp
from rcp_app.followups.reminders import queue_due_reminders
from rcp_app.meetings.models import AgendaItem

from .conftest import login_on
from .helpers import expect
from .test_meeting_validated import ready_session

REQUESTER = "dr.nguyen"  # the referring physician, who writes the PPS and records the outcome
NURSE_PHONE = "02 99 41 27 63"
PENDING_TOTAL = re.compile(r"\((\d+) en attente de suivi au total\)")


def _requested_by(app, item_id: int, username: str) -> int:
    """The ready case becomes ``username``'s: its referring physician and author."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        case = db.session.get(Case, db.session.get(AgendaItem, item_id).case_id)
        case.requester_id, case.created_by_id = user.professional_id, user.id
        db.session.commit()
        return case.id


def _day(days: int = 0) -> str:
    """A day from today in France (the clock the test may have moved), as typed."""
    return (datetime.now(PARIS).date() + timedelta(days=days)).strftime("%d/%m/%Y")


def _pending_total(page) -> int:
    """The home page's « Propositions à suivre »: how many wait for their follow-up."""
    page.goto("/")
    due = page.locator("#follow-ups-due")
    if not due.count():
        return 0
    expect(due).to_contain_text("Propositions à suivre")
    return int(PENDING_TOTAL.search(due.inner_text()).group(1))


def _validate_fiche(page, session_id: int) -> int:
    """dr.martin signs the session's ready fiche from its fiches page; returns the fiche id."""
    login_on(page, "dr.martin")
    page.goto(f"/seances/{session_id}/fiches")
    form = page.locator("form[data-sign-item]")
    page.once("dialog", lambda dialog: dialog.accept())
    form.get_by_role("button", name="Valider et signer").click()
    expect(page.get_by_role("status").filter(has_text="Fiche validée et signée")).to_be_visible()
    fiche_id = int(re.search(r"/fiches/(\d+)", page.url).group(1))
    page.get_by_role("button", name="Se déconnecter").click()
    return fiche_id


def _write_and_sign_pps(page, fiche_id: int, screenshot_dir) -> None:
    page.goto(f"/fiches/{fiche_id}")
    page.get_by_role("link", name="Rédiger le PPS").click()
    page.get_by_role("button", name="Rédiger le programme personnalisé de soins").click()
    expect(page).to_have_url(re.compile(r"/pps/\d+/modifier$"))
    expect(page.get_by_role("status")).to_contain_text("pré-rempli depuis la décision")
    treatments = page.locator("#treatment_rows")
    treatments.get_by_label("Début prévu").first.fill(_day(12))
    page.get_by_label("Infirmier(ère) de coordination").fill(
        "Mme LE GOFF Anne, infirmière de coordination"
    )
    page.get_by_label("Téléphone de l'infirmier(ère)").fill(NURSE_PHONE)
    appointments = page.locator("#appointment_rows")
    appointments.get_by_label("Date").first.fill(_day(5))
    appointments.get_by_label("Heure").first.fill("9h30")
    appointments.get_by_label("Type").first.select_option(label="Consultation")
    appointments.get_by_label("Objet").first.fill("Consultation avec le chirurgien")
    page.screenshot(path=str(screenshot_dir / "pps-brouillon.png"), full_page=True)
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Enregistrer, valider et signer").click()
    expect(page.get_by_text("Validé et signé", exact=True)).to_be_visible()
    assert questions and "Valider et signer le programme" in questions[0]
    expect(page.get_by_role("status").filter(has_text="Programme validé et signé")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "pps-valide.png"), full_page=True)


def _print_pps(page) -> None:
    """« Imprimer pour le patient » opens the signed PDF inline in a new tab (headless Chromium
    may download it instead: the response is checked either way)."""
    link = page.get_by_role("link", name="Imprimer pour le patient")
    href = link.get_attribute("href")
    with (
        page.context.expect_event("response", lambda r: r.url.endswith(href)) as answered,
        page.expect_popup() as opened,
    ):
        link.click()
    response = answered.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    opened.value.close()
    pdf = page.request.get(href)  # the same session: the bytes the tab received
    assert pdf.ok and pdf.body().startswith(b"%PDF")


def _reminder_path(app, fiche_id: int) -> str:
    """The reminders run; the link of this follow-up's e-mail, on the live server."""
    with app.app_context():
        queue_due_reminders()
        db.session.commit()
        follow_up = db.session.scalar(select(FollowUp).where(FollowUp.fiche_id == fiche_id))
        assert follow_up.state == "pending" and follow_up.reminder_queued_at is not None
        payloads = db.session.scalars(
            select(Transmission.payload).where(
                Transmission.kind == "followup_reminder",
                Transmission.patient_id == follow_up.patient_id,
            )
        ).all()
    [body] = [json.loads(payload)["body"] for payload in payloads]
    return urlsplit(re.search(r"https?://\S+/suivis/fiche/\d+", body).group(0)).path


def _log_in_again(page) -> None:
    """A month later the session has expired: the login form, then back to the link."""
    expect(page).to_have_url(re.compile(r"/connexion"))
    page.get_by_label("Identifiant").fill(REQUESTER)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_validate_write_the_pps_and_record_the_start_from_the_reminder(
    page, live_server, screenshot_dir
):
    app = live_server.app
    session_id, (item_id,) = ready_session(live_server, 1)
    _requested_by(app, item_id, REQUESTER)
    fiche_id = _validate_fiche(page, session_id)

    login_on(page, REQUESTER)
    pending = _pending_total(page)
    assert pending >= 1  # the follow-up opened by the signature
    _write_and_sign_pps(page, fiche_id, screenshot_dir)
    _print_pps(page)

    with time_machine.travel(datetime.now(UTC) + timedelta(days=31), tick=True):
        path = _reminder_path(app, fiche_id)
        assert path == f"/suivis/fiche/{fiche_id}"
        page.goto(path)
        _log_in_again(page)
        expect(page).to_have_url(re.compile(r"/suivis/\d+$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Suivi de la proposition")
        page.get_by_label("Traitement proposé commencé", exact=True).check()
        page.get_by_role("radio", name=re.compile("^Proposition de la RCP")).check()
        page.get_by_label("Date de début du traitement").fill(_day(-3))
        page.get_by_role("button", name="Enregistrer le suivi").click()
        expect(
            page.get_by_role("status").filter(has_text="Suivi enregistré : « Traitement proposé")
        ).to_be_visible()
        recorded = page.get_by_role("region", name="Suivi enregistré")
        expect(recorded).to_contain_text("Traitement proposé commencé")
        expect(recorded).to_contain_text(_day(-3))
        page.screenshot(path=str(screenshot_dir / "suivi-enregistre.png"), full_page=True)
        assert _pending_total(page) == pending - 1
    assert page.problems.unexpected() == []
