"""Who sees which statistics: a coordinator, the RCPs they run; a physician, the RCPs they
coordinate; nobody else. The figures, the lists behind them and the exports all obey it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rcp_app.core.timeutil import utcnow
from rcp_app.decisions.models import Decision
from rcp_app.extensions import db
from rcp_app.reports import drill
from tests.support.factories import PASSWORD
from tests.test_reports_followups import FollowUps

PAST = utcnow().replace(microsecond=0) - timedelta(days=3)
PERIOD = (
    f"periode=personnalisee&du={(PAST - timedelta(days=2)).date()}"
    f"&au={(PAST + timedelta(days=2)).date()}"
)


def _presented(app, make, rcp, name: str, minutes: int = 0):
    starts = PAST + timedelta(minutes=minutes)
    session = make.session(
        rcp.id, starts_at=starts, status="closed", deadline_at=starts - timedelta(hours=48)
    )
    patient = make.patient(birth_name=name, first_birth_first_name="Alix")
    case = make.submitted_case(
        rcp_id=rcp.id,
        session_id=session.id,
        patient_id=patient.id,
        status="discussed",
        submitted_at=PAST - timedelta(days=5),
    )
    item = make.agenda_item(session.id, case.id)
    with app.app_context():
        db.session.add(Decision(item_id=item.id, outcome="discussed", updated_at=utcnow()))
        db.session.commit()
    return patient


@pytest.fixture
def world(app, make):
    physician_a = make.physician(last_name="Coordonnatrice")
    rcp_a = make.rcp(name="RCP Alpha", coordinator_id=physician_a.professional_id)
    rcp_b = make.rcp(name="RCP Bêta")
    _presented(app, make, rcp_a, "ALPHAPATIENT")
    _presented(app, make, rcp_b, "BETAPATIENT")
    _presented(app, make, rcp_b, "BETASECOND", minutes=30)
    coordinator_b = make.user(role="coordinator")
    make.coordinator_scope(coordinator_b.id, rcp_id=rcp_b.id)
    return {
        "rcp_a": rcp_a.id,
        "rcp_b": rcp_b.id,
        "physician_a": physician_a,
        "coordinator_b": coordinator_b,
        "outsider": make.physician(last_name="Extérieur"),
        "unscoped": make.user(role="coordinator"),
        "gp": make.user(role="gp"),
        "admin": make.user(role="admin"),
        "dpo": make.user(role="dpo"),
    }


def _client(app, user):
    client = app.test_client()
    response = client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _figure(html: str, key: str) -> str:
    marker = f'id="figure-{key.replace(".", "-")}"'
    block = html.split(marker, 1)[1]
    return block.split('fs-4 fw-semibold">', 1)[1].split("</div>", 1)[0]


@pytest.mark.parametrize(
    ("who", "presented", "names", "hidden"),
    [
        ("physician_a", "1", ["RCP Alpha"], ["RCP Bêta"]),
        ("coordinator_b", "2", ["RCP Bêta"], ["RCP Alpha"]),
        ("outsider", "—", [], ["RCP Alpha", "RCP Bêta"]),
        ("unscoped", "—", [], ["RCP Alpha", "RCP Bêta"]),
    ],
)
def test_each_user_counts_only_their_rcps(app, world, who, presented, names, hidden):
    client = _client(app, world[who])
    html = client.get(f"/statistiques?{PERIOD}").get_data(as_text=True)
    shown = _figure(html, "activity.cases_presented")
    assert (presented in shown) if presented != "—" else ("0" in shown)
    for name in names:
        assert name in html
    for name in hidden:
        assert name not in html


@pytest.mark.parametrize("who", ["gp", "admin", "dpo"])
def test_other_roles_are_refused(app, world, who):
    client = _client(app, world[who])
    for url in (
        "/statistiques",
        "/statistiques/indicateurs.xlsx",
        "/statistiques/dossiers?population=presented",
    ):
        assert client.get(url).status_code == 403, url


def test_another_secretariats_rcp_is_unknown_not_shown(app, world):
    client = _client(app, world["coordinator_b"])
    html = client.get(f"/statistiques?{PERIOD}&rcp={world['rcp_a']}").get_data(as_text=True)
    assert "RCP inconnue parmi celles que vous suivez." in html
    assert "RCP Alpha" not in html
    refused = client.get(
        f"/statistiques/dossiers.csv?population=presented&{PERIOD}&rcp={world['rcp_a']}"
    )
    assert refused.status_code == 400
    assert "ALPHAPATIENT" not in refused.get_data(as_text=True)


def test_the_list_behind_a_figure_names_only_the_users_rcps(app, world):
    client = _client(app, world["coordinator_b"])
    html = client.get(f"/statistiques/dossiers?population=presented&{PERIOD}").get_data(
        as_text=True
    )
    assert "BETAPATIENT" in html and "BETASECOND" in html
    assert "ALPHAPATIENT" not in html
    csv = client.get(f"/statistiques/dossiers.csv?population=presented&{PERIOD}").data.decode(
        "utf-8-sig"
    )
    assert "BETAPATIENT" in csv and "ALPHAPATIENT" not in csv


def test_lines_the_user_may_not_open_carry_a_pseudonym(app, world):
    from rcp_app.reports import scope as scopes
    from rcp_app.reports.period import from_args

    period = from_args(dict(p.split("=") for p in PERIOD.split("&")))
    with app.test_request_context():
        rcps = scopes.visible_rcps(None)
        scope = scopes.from_args({}, rcps, scopes.choices(rcps))
        found = drill.lines("presented", period, scope, limit=10)
        seen_by_outsider = drill.name_patients(world["outsider"], found)
        seen_by_coordinator = drill.name_patients(world["coordinator_b"], found)
    assert len(found) == 3
    assert all(line.patient.startswith("PSN-") for line in seen_by_outsider)
    assert not any(line.identified for line in seen_by_outsider)
    # A patient keeps their pseudonym; two patients do not share one.
    assert len({line.patient for line in seen_by_outsider}) == 3
    named = {line.patient.split(" ")[0] for line in seen_by_coordinator if line.identified}
    assert named == {"BETAPATIENT", "BETASECOND"}


def test_the_report_issues_a_fixed_number_of_queries(app, make):
    """Every figure is an aggregate computed by the database: the number of SQL statements does
    not grow with the number of RCPs, sessions or cases."""
    from sqlalchemy import event

    from rcp_app.reports import indicators
    from rcp_app.reports import scope as scopes
    from rcp_app.reports.period import from_args

    period = from_args(dict(p.split("=") for p in PERIOD.split("&")))

    def statements() -> int:
        seen = []
        with app.test_request_context():
            rcps = scopes.visible_rcps(None)
            scope = scopes.from_args({}, rcps, scopes.choices(rcps))
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                indicators.compute_report(period, scope)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    follow_ups = FollowUps(app, make)
    first = make.rcp(name="RCP Une")
    _presented(app, make, first, "UNPATIENT")
    follow_ups.add(first, PAST)
    small = statements()
    # More RCPs, cases and follow-ups of every kind (the closed-loop section included).
    outcomes = (
        ("started_as_proposed", {"option_rank": 0, "started_on": PAST.date()}),
        ("started_other", {"deviation_reason": "other", "started_on": PAST.date(),
                           "other_treatment": "Radiothérapie"}),
        ("not_started", {"deviation_reason": "patient_choice"}),
        ("lost", {}),
    )  # fmt: skip
    for index in range(3):
        rcp = make.rcp(name=f"RCP Plus {index}")
        for minutes in range(4):
            _presented(app, make, rcp, f"PLUS{index}X{minutes}", minutes=minutes)
        for state, fields in outcomes:
            follow_ups.add(rcp, PAST, state, **fields)
    assert statements() == small
