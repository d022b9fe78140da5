"""Home pages: the physician's own cases and coordinated RCPs, the coordinator's next sessions;
both with a constant number of SQL queries, the physician's case list audited."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from rcp_app.cases.models import RcpRequiredItem
from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import format_date, format_datetime, utcnow
from rcp_app.extensions import db
from tests.test_cases_completeness import count_queries

SUBMITTED = {
    "status": "submitted",
    "gp_unknown": True,
}


def _submitted(make, **fields):
    return make.case(**SUBMITTED, submitted_at=utcnow(), **fields)


def _only_comorbidities_required(app, rcp_id: int) -> None:
    """A minimum data set of one item: the factory's cases are complete when they have it."""
    with app.app_context():
        db.session.add(RcpRequiredItem(rcp_id=rcp_id, item_code="comorbidities"))
        db.session.commit()


def _rows(html: str, table_start: str) -> list[str]:
    """The <tr> bodies of the table that follows ``table_start``."""
    table = html[html.index(table_start) :]
    table = table[: table.index("</table>")]
    return re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]


def _list_audits(app) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.list")))


# --- physician -------------------------------------------------------------------------------


def test_physician_sees_their_cases_newest_first(app, client, make, login):
    me = make.professional(last_name="Martin")
    user = login("physician", team=False, professional_id=me.id)  # "mine" is built here
    rcp = make.rcp(weekday=None, name="RCP Sénologie test")
    session = make.session(rcp.id)
    requested = make.case(rcp_id=rcp.id, session_id=session.id, requester_id=me.id)
    created = _submitted(make, rcp_id=rcp.id, created_by_id=user.id, is_late=True)
    someone_else = make.case(rcp_id=rcp.id)
    html = client.get("/").get_data(as_text=True)
    rows = _rows(html, 'aria-labelledby="my-cases-title"')
    assert [re.search(r"n° (\d+)", row).group(1) for row in rows] == [
        str(created.id),
        str(requested.id),
    ]
    assert f'/dossiers/{someone_else.id}"' not in html
    newest = rows[0]
    assert f'href="/dossiers/{created.id}"' in newest
    assert "RCP Sénologie test" in newest
    assert 'class="badge status-badge status-submitted">Soumis</span>' in newest
    assert 'class="badge status-badge status-late"' in newest and "Hors délai" in newest
    assert "élément" in newest and "manquant" in newest  # the factory's cases lack items
    assert 'class="badge status-badge status-draft">Brouillon</span>' in rows[1]
    with app.app_context():
        from rcp_app.meetings.models import MeetingSession

        starts = db.session.get(MeetingSession, session.id).starts_at
    assert format_date(starts) in rows[1] and re.search(r"\d\d/\d\d/\d{4}", rows[1])
    assert 'href="/dossiers/nouveau"' in html and "Inscrire un patient en RCP" in html
    assert 'href="/dossiers?mine=1"' in html


def test_physician_home_lists_the_20_most_recent_and_links_to_all(app, client, make, login):
    user = login("physician")
    rcp = make.rcp(weekday=None)
    ids = [make.case(rcp_id=rcp.id, created_by_id=user.id).id for _ in range(22)]
    html = client.get("/").get_data(as_text=True)
    rows = _rows(html, 'aria-labelledby="my-cases-title"')
    assert len(rows) == 20 and f"n° {ids[-1]}<" in rows[0]
    assert "Voir tous mes dossiers (22)" in html


def test_physician_home_is_audited_when_it_lists_cases(app, client, make, login):
    user = login("physician")
    client.get("/")
    assert _list_audits(app) == []  # nothing listed, no patient seen
    case = make.case(created_by_id=user.id)
    client.get("/")
    [entry] = _list_audits(app)
    assert entry.user_id == user.id
    assert entry.details_dict() == {
        "mine": True,
        "view": "home",
        "page": 1,
        "result_ids": [case.id],
        "patients": [case.patient_id],
    }


def test_physician_without_directory_entry_coordinates_nothing(client, make, login):
    make.rcp(name="RCP que personne ne coordonne")
    login("physician")  # no professional_id
    html = client.get("/").get_data(as_text=True)
    assert "Vous ne coordonnez aucune RCP." in html
    assert "RCP que personne ne coordonne" not in html


def test_coordinating_physician_sees_the_next_session_of_their_rcp(app, client, make, login):
    me = make.professional()
    login("physician", professional_id=me.id)
    mine = make.rcp(weekday=None, coordinator_id=me.id, name="RCP coordonnée", capacity=12)
    make.rcp(weekday=None, name="RCP d'un autre")
    session = make.session(mine.id, capacity=12)
    _submitted(make, rcp_id=mine.id, session_id=session.id)
    html = client.get("/").get_data(as_text=True)
    [row] = _rows(html, "Prochaine séance des RCP que vous coordonnez")
    assert "RCP coordonnée" in row and "RCP d&#39;un autre" not in html
    assert "1</span> / 12" in row and "1 incomplet" in row


# --- coordinator -----------------------------------------------------------------------------


def test_coordinator_sees_each_active_rcp_next_session(app, client, make, login):
    login("coordinator")
    now = utcnow().replace(microsecond=0)
    rcp = make.rcp(weekday=None, name="A RCP digestive", capacity=3)
    _only_comorbidities_required(app, rcp.id)
    past = make.session(rcp.id, starts_at=now - timedelta(days=2))
    nxt = make.session(rcp.id, starts_at=now + timedelta(days=5), capacity=3)
    later = make.session(rcp.id, starts_at=now + timedelta(days=12))
    for _ in range(2):
        _submitted(make, rcp_id=rcp.id, session_id=nxt.id, comorbidities="HTA")
    _submitted(make, rcp_id=rcp.id, session_id=nxt.id, is_late=True)
    make.case(rcp_id=rcp.id, session_id=nxt.id)  # a draft: not submitted
    _submitted(make, rcp_id=rcp.id, session_id=later.id)
    _submitted(make, rcp_id=rcp.id, session_id=past.id)
    empty = make.rcp(weekday=None, name="B RCP sans séance")
    make.rcp(weekday=None, name="C RCP inactive", active=False)

    html = client.get("/").get_data(as_text=True)
    rows = _rows(html, "Prochaine séance de chaque RCP active")
    assert "C RCP inactive" not in html
    first = next(row for row in rows if "A RCP digestive" in row)
    assert format_datetime(nxt.starts_at) in first
    assert format_datetime(nxt.deadline_at) in first
    assert "3</span> / 3" in first
    assert "1 incomplet<" in first  # the late one lacks its comorbidities
    assert "1 hors délai" in first and "status-late" in first
    assert f'href="/dossiers?rcp={rcp.id}&amp;statut=submitted"' in first
    second = next(row for row in rows if "B RCP sans séance" in row)
    assert "Aucune séance planifiée." in second
    assert f'href="/dossiers?rcp={empty.id}&amp;statut=submitted"' in second
    assert _list_audits(app) == []  # counts only: no patient shown


def test_coordinator_home_flags_a_passed_deadline_and_overbooking(app, client, make, login):
    login("coordinator")
    now = utcnow().replace(microsecond=0)
    rcp = make.rcp(weekday=None, capacity=1)
    session = make.session(
        rcp.id,
        starts_at=now + timedelta(hours=10),
        deadline_at=now - timedelta(hours=2),
        capacity=1,
    )
    for _ in range(2):
        _submitted(make, rcp_id=rcp.id, session_id=session.id)
    html = client.get("/").get_data(as_text=True)
    assert "Dépassée" in html and "Capacité dépassée" in html


def test_filtered_link_opens_the_submitted_cases(app, client, make, login):
    login("coordinator")
    rcp = make.rcp(weekday=None)
    session = make.session(rcp.id)
    case = _submitted(make, rcp_id=rcp.id, session_id=session.id)
    draft = make.case(rcp_id=rcp.id, session_id=session.id)
    listing = client.get(f"/dossiers?rcp={rcp.id}&statut=submitted").get_data(as_text=True)
    assert (
        f'href="/dossiers/{case.id}"' in listing and f'href="/dossiers/{draft.id}"' not in listing
    )


# --- constant number of queries --------------------------------------------------------------


def _fill_rcps(app, make, coordinator_id, count: int, cases_per_session: int):
    for _ in range(count):
        rcp = make.rcp(weekday=None, coordinator_id=coordinator_id)
        session = make.session(rcp.id)
        for i in range(cases_per_session):
            _submitted(make, rcp_id=rcp.id, session_id=session.id, is_late=bool(i % 2))


def test_coordinator_home_uses_a_constant_number_of_queries(app, client, make, login):
    login("coordinator")
    _fill_rcps(app, make, None, 1, 1)
    with count_queries() as few:
        assert client.get("/").status_code == 200
    _fill_rcps(app, make, None, 5, 4)
    with count_queries() as many:
        response = client.get("/")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("/ 20") >= 6
    assert len(many) == len(few), "\n".join(many)


def test_physician_home_uses_a_constant_number_of_queries(app, client, make, login):
    me = make.professional()
    user = login("physician", team=False, professional_id=me.id)  # "mine" is built here
    _fill_rcps(app, make, me.id, 1, 1)
    make.case(created_by_id=user.id)
    with count_queries() as few:
        assert client.get("/").status_code == 200
    _fill_rcps(app, make, me.id, 4, 3)
    for _ in range(6):
        make.case(requester_id=me.id)
        _submitted(make, created_by_id=user.id, is_late=True)
    with count_queries() as many:
        response = client.get("/")
    html = response.get_data(as_text=True)
    assert len(_rows(html, 'aria-labelledby="my-cases-title"')) == 13
    assert len(many) == len(few), "\n".join(many)
