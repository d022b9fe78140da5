"""The RCP directory page shows the RCP's minimum data set and its upcoming sessions."""

from __future__ import annotations

from datetime import timedelta

from rcp_app.cases.models import RcpRequiredItem
from rcp_app.core.timeutil import format_datetime, utcnow
from rcp_app.extensions import db

REQUIRED_ITEMS_LINK = "donnees-minimales"


def test_default_minimum_data_set_in_french(client, make, login):
    login("physician")
    rcp = make.rcp(weekday=None)  # breast: the appareil's defaults
    html = client.get(f"/annuaire/rcp/{rcp.id}").get_data(as_text=True)
    assert "Données minimales exigées" in html
    assert "éléments par défaut de l&#39;appareil" in html
    for label in ("<li>Question posée</li>", "<li>Statut HER2 du sein</li>", "<li>Classification"):
        assert label in html
    assert REQUIRED_ITEMS_LINK not in html  # physicians read it, do not change it


def test_configured_minimum_data_set_and_link_for_editors(app, client, make, login):
    rcp = make.rcp(weekday=None)
    with app.app_context():
        db.session.add_all(
            RcpRequiredItem(rcp_id=rcp.id, item_code=code) for code in ("question", "comorbidities")
        )
        db.session.commit()
    for role in ("coordinator", "admin"):
        login(role)
        html = client.get(f"/annuaire/rcp/{rcp.id}").get_data(as_text=True)
        assert "<li>Comorbidités</li>" in html and "<li>Question posée</li>" in html
        assert "Statut HER2" not in html and "par défaut" not in html
        assert f'href="/annuaire/rcp/{rcp.id}/{REQUIRED_ITEMS_LINK}"' in html


def test_upcoming_sessions_with_dates_and_deadlines(client, make, login):
    login("physician")
    now = utcnow().replace(microsecond=0)
    rcp = make.rcp(weekday=None)
    past = make.session(rcp.id, starts_at=now - timedelta(days=1))
    later = make.session(rcp.id, starts_at=now + timedelta(days=9), capacity=12)
    sooner = make.session(rcp.id, starts_at=now + timedelta(days=2), status="agenda_published")
    closed = make.session(rcp.id, starts_at=now + timedelta(days=3), status="closed")
    html = client.get(f"/annuaire/rcp/{rcp.id}").get_data(as_text=True)
    section = html[html.index("Prochaines séances") :]
    assert format_datetime(past.starts_at) not in section
    assert format_datetime(closed.starts_at) not in section
    first, second = (
        section.index(format_datetime(sooner.starts_at)),
        section.index(format_datetime(later.starts_at)),
    )
    assert first < second
    assert format_datetime(later.deadline_at) in section and "12 dossiers" in section
    assert "Ordre du jour publié" in section and "Planifiée" in section


def test_no_upcoming_session(client, make, login):
    login("coordinator")
    rcp = make.rcp()  # weekly, but no session generated yet
    html = client.get(f"/annuaire/rcp/{rcp.id}").get_data(as_text=True)
    assert "Aucune séance à venir n'est planifiée" in html
    assert "à la première inscription d'un dossier" in html
