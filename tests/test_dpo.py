"""The data-protection officer: the audit log with identities, who opened a patient's record
(and its CSV export), and no clinical content anywhere."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from tests.support.factories import PASSWORD

JOURNAL = "/protection-des-donnees/journal"
SEARCH = "/protection-des-donnees/patients"


def client_for(app, user):
    client = app.test_client()
    response = client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def world(app, make):
    """A patient whose record a coordinator opened; a dpo."""
    patient = make.patient(
        birth_name="CONFIDENTIELLE", birth_first_names="Agathe", first_birth_first_name="Agathe"
    )
    other = make.patient(birth_name="TEMOIN", first_birth_first_name="Paul")
    case = make.submitted_case(patient_id=patient.id)
    # A name a spreadsheet would read as a formula (CSV injection).
    coordinator = make.user(role="coordinator", display_name="=HYPERLINK(1) Secrétaire")
    with app.app_context():
        from rcp_app.core import audit

        actor = audit.Actor(coordinator.id, coordinator.username, None)
        audit.record("patient.view", "patient", patient.id, patient_id=patient.id, actor=actor)
        audit.record("case.list", details={"patients": [other.id, patient.id]}, actor=actor)
        audit.record("patient.view", "patient", other.id, patient_id=other.id, actor=actor)
        db.session.commit()
    return {
        "patient": patient,
        "other": other,
        "case": case,
        "coordinator": coordinator,
        "dpo": make.user(role="dpo", display_name="Délégué Protection"),
    }


def last_row(app, action) -> AuditEntry:
    with app.app_context():
        return db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc())
        )


def test_the_journal_shows_identities_and_is_audited(app, world):
    client = client_for(app, world["dpo"])
    response = client.get(JOURNAL, query_string={"patient_id": world["patient"].id})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "CONFIDENTIELLE" in html and "12/04/1956" in html
    assert "Consultation de l&#39;identité du patient" in html
    assert f'href="/protection-des-donnees/patients/{world["patient"].id}/acces"' in html
    assert f'href="/patients/{world["patient"].id}"' not in html
    row = last_row(app, "privacy.audit_log")
    assert world["patient"].id in row.details_dict()["patients"]


def test_the_journal_filters_by_action_and_user(app, world):
    client = client_for(app, world["dpo"])
    html = client.get(JOURNAL, query_string={"action": "case.list"}).get_data(as_text=True)
    assert "Liste des dossiers RCP" in html and "TEMOIN" in html
    assert "Consultation de l&#39;identité" not in html
    html = client.get(
        JOURNAL, query_string={"user": world["dpo"].username, "action": "patient."}
    ).get_data(as_text=True)
    assert "CONFIDENTIELLE" not in html


def test_the_search_shows_identities_linking_to_the_accesses_only(app, world):
    client = client_for(app, world["dpo"])
    html = client.get(SEARCH, query_string={"q": "confidentielle"}).get_data(as_text=True)
    assert "CONFIDENTIELLE" in html and "TEMOIN" not in html
    assert f'href="/protection-des-donnees/patients/{world["patient"].id}/acces"' in html
    assert f'href="/patients/{world["patient"].id}"' not in html
    assert last_row(app, "patient.search").details_dict()["patients"] == [world["patient"].id]


def test_who_opened_the_record(app, world):
    patient = world["patient"]
    client = client_for(app, world["dpo"])
    response = client.get(f"/protection-des-donnees/patients/{patient.id}/acces")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "=HYPERLINK(1) Secrétaire" in html
    assert "Liste des dossiers RCP (le patient y figurait)" in html
    assert "Consultation de l&#39;identité du patient" in html
    assert "carcinome" not in html and "Quel traitement" not in html
    assert last_row(app, "privacy.patient_accesses").patient_id == patient.id


def test_the_csv_export_for_the_patient(app, world):
    patient = world["patient"]
    client = client_for(app, world["dpo"])
    response = client.get(f"/protection-des-donnees/patients/{patient.id}/acces.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "Date (heure de Paris)",
        "Utilisateur",
        "Identifiant",
        "Rôle",
        "Action",
        "Objet",
    ]
    mine = [r for r in rows[1:] if r[2] == world["coordinator"].username]
    actions = sorted(r[4] for r in mine)
    assert "Consultation de l'identité du patient" in actions
    assert "Liste des dossiers RCP (le patient y figurait)" in actions
    # The other patient's own view is not in this patient's list.
    assert len([r for r in mine if r[4] == "Consultation de l'identité du patient"]) == 1
    assert all(r[1] == "'=HYPERLINK(1) Secrétaire" for r in mine)
    assert all(r[3] == "Coordination (3C / secrétariat RCP)" for r in mine)
    assert all(len(r[0]) == 19 and r[0][2] == "/" for r in rows[1:])
    export = last_row(app, "privacy.patient_accesses_export")
    assert export.patient_id == patient.id


def test_the_list_names_only_rows_of_this_patient(app, world):
    other = world["other"]
    client = client_for(app, world["dpo"])
    body = client.get(f"/protection-des-donnees/patients/{other.id}/acces.csv").get_data()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))[1:]
    # Its own view and the list it was on; not the first patient's view.
    assert sorted(r[4] for r in rows if r[2] == world["coordinator"].username) == [
        "Consultation de l'identité du patient",
        "Liste des dossiers RCP (le patient y figurait)",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/patients",
        "/patients/{patient}",
        "/dossiers",
        "/dossiers/{case}",
        "/seances",
        "/patients/{patient}/acces-exceptionnel",
    ],
)
def test_the_dpo_reaches_no_clinical_page(app, world, path):
    client = client_for(app, world["dpo"])
    url = path.format(patient=world["patient"].id, case=world["case"].id)
    response = client.get(url)
    assert response.status_code == 403
    assert "CONFIDENTIELLE" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "coordinator", "physician", "gp"])
def test_only_the_dpo_opens_the_privacy_pages(app, make, world, role):
    client = client_for(app, make.user(role=role))
    for path in (JOURNAL, SEARCH, f"/protection-des-donnees/patients/{world['patient'].id}/acces"):
        assert client.get(path).status_code == 403, path
    assert client.get(f"{SEARCH}/{world['patient'].id}/acces.csv").status_code == 403


def test_the_dpo_menu(app, world):
    html = client_for(app, world["dpo"]).get("/compte").get_data(as_text=True)
    assert f'href="{JOURNAL}"' in html and f'href="{SEARCH}"' in html
    assert 'href="/acces-exceptionnels"' in html
