"""A coordinator builds and publishes an agenda, then records attendance until the quorum.

The data are the test's own (a new RCP, two submitted cases of unique patients waiting in its
pool: other tests may change the shared demo database); the session is created, the agenda
built and published, and the attendance recorded through the pages, as the coordinator would.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from rcp_app.directory.models import Professional
from rcp_app.extensions import db
from tests.support.factories import Factories

from .helpers import expect, scope_demo_coordinator

ONCOLOGY, RADIOTHERAPY, GYNAECOLOGY_SURGERY = "G15_10/SM36", "G15_10/SM37", "G15_10/SM20"


def _demo_professional(app, first_name: str, last_name: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Professional.id).where(
                Professional.first_name == first_name, Professional.last_name == last_name
            )
        )


def _data(live_server):
    """An RCP (surgeon, oncologist, radiotherapist required) with two submitted cases."""
    make = Factories(live_server.app)
    tag = uuid.uuid4().hex[:8]
    rcp = make.rcp(
        name=f"RCP coordination e2e {tag}",
        national_id=f"RCP-E2E-COORD-{tag}",
        required_specialties=(GYNAECOLOGY_SURGERY, ONCOLOGY, RADIOTHERAPY),
        capacity=12,
    )
    scope_demo_coordinator(live_server.app, rcp.id)
    names = []
    for index, first_name in enumerate(("Agathe", "Berthe")):
        birth_name = f"COORD{tag.upper()}{'AB'[index]}"
        patient = make.patient(birth_name=birth_name, first_birth_first_name=first_name)
        make.submitted_case(rcp_id=rcp.id, session_id=None, patient_id=patient.id)
        names.append(f"{birth_name} {first_name}")
    return rcp.name, names


def _add_attendee(page, professional_id: int, expected_name: str) -> None:
    page.get_by_label("Professionnel présent").select_option(str(professional_id))
    page.get_by_role("button", name="Enregistrer la présence").click()
    message = f"Présence de {expected_name} enregistrée."
    expect(page.get_by_role("status").filter(has_text=message)).to_be_visible()


def test_coordinator_builds_publishes_agenda_and_records_attendance(
    page, live_server, login_as, screenshot_dir
):
    rcp_name, (first, second) = _data(live_server)
    oncologist = _demo_professional(live_server.app, "Claire", "Martin")
    radiotherapist = _demo_professional(live_server.app, "Benoît", "Lefèvre")
    surgeon = _demo_professional(live_server.app, "Julien", "Nguyen")
    page.on("dialog", lambda dialog: dialog.accept())

    login_as("coordination")
    page.get_by_role("link", name="Séances", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Séances")
    page.get_by_label("RCP", exact=True).select_option(label=rcp_name)
    page.get_by_role("button", name="Filtrer").click()
    page.get_by_role("link", name="Créer une séance ponctuelle").click()

    # A new ad hoc session in a month; deadline two days before.
    starts = date.today() + timedelta(days=30)
    page.get_by_label("Date de la séance").fill(starts.isoformat())
    page.get_by_label("Heure de début").fill("17:00")
    page.get_by_label("Date limite d'inscription").fill((starts - timedelta(days=2)).isoformat())
    page.get_by_label("Heure limite").fill("12:00")
    page.get_by_label("Lieu").fill("Salle e2e coordination")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{rcp_name} — séance du")
    agenda_url = page.url
    assert re.search(r"/seances/\d+$", agenda_url)

    # Both cases wait in the pool; put them on the agenda (dispensation when incomplete).
    pool = page.get_by_role("region", name=re.compile(r"Dossiers en attente"))
    expect(pool.locator(".pool-row")).to_have_count(2)
    for name in (first, second):
        row = page.locator(".pool-row").filter(has_text=name)
        override = row.get_by_label("Motif de la dérogation (dossier incomplet)")
        if override.count():
            override.fill("Dossier complété en séance (test e2e)")
            override.press("Enter")
        else:
            row.get_by_role("button", name="Inscrire").click()
        expect(page.get_by_text("Dossier inscrit à l'ordre du jour.")).to_be_visible()
    rows = page.locator("#agenda-body .agenda-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(first)
    expect(rows.nth(1)).to_contain_text(second)
    expect(page.locator(".pool-row")).to_have_count(0)

    # The second one is « enregistré » (standard situation) with the guideline it follows.
    row = rows.filter(has_text=second)
    summary = row.locator("summary", has_text="Modifier, reporter, refuser")
    summary.focus()
    page.keyboard.press("Enter")
    row.get_by_label("Mode").select_option(label="Enregistré")
    guideline = row.get_by_label("Référentiel cité (obligatoire si enregistré)")
    guideline.fill("Référentiel régional sein 2025, chapitre 4")
    guideline.press("Enter")
    expect(page.get_by_text("Dossier mis à jour.")).to_be_visible()
    expect(rows.filter(has_text=second)).to_contain_text("Enregistré")
    registered = page.get_by_role("heading", name="Dossiers enregistrés (situations standard)")
    expect(registered).to_be_visible()
    expect(page.locator("h3 + ul")).to_contain_text(
        f"{second} — Référentiel régional sein 2025, chapitre 4"
    )

    # Publish (the confirm dialog is accepted).
    page.get_by_role("button", name="Publier l'ordre du jour").click()
    expect(page.get_by_role("status").filter(has_text="Ordre du jour publié.")).to_be_visible()
    expect(page.locator(".badge", has_text="Ordre du jour publié")).to_be_visible()
    expect(page.get_by_role("button", name="Publier l'ordre du jour")).to_have_count(0)
    expect(page.get_by_role("link", name="Mode réunion")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "coordinator-agenda.png"), full_page=True)

    pdf_href = page.get_by_role("link", name="Ordre du jour (PDF)").get_attribute("href")
    response = page.request.get(pdf_href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body().startswith(b"%PDF")

    # Attendance: the quorum is reached only with the three required specialties.
    page.get_by_role("link", name="Présences et quorum").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Présences et quorum")
    quorum = page.locator("#quorum-session")
    expect(quorum).to_contain_text("Quorum inconnu")
    _add_attendee(page, oncologist, "Dr MARTIN Claire")
    expect(quorum).to_contain_text("Quorum non atteint")
    _add_attendee(page, radiotherapist, "Dr LEFÈVRE Benoît")
    expect(quorum).to_contain_text("Quorum non atteint")
    expect(quorum).to_contain_text("il manque Gynécologie-obstétrique")
    _add_attendee(page, surgeon, "Dr NGUYEN Julien")
    expect(quorum).to_contain_text("Quorum atteint")
    expect(quorum).not_to_contain_text("non atteint")
    presents = page.get_by_role("region", name=re.compile(r"Présents \(3\)"))
    expect(presents.get_by_role("row")).to_have_count(4)
    page.screenshot(path=str(screenshot_dir / "coordinator-attendance.png"), full_page=True)
