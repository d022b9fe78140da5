"""Relationship × route: who sees patient P's data, on every route that can show it (issue 13).

The routes come from the route table (every view marked ``shows_patient_data``,
tests/support/access_routes.py): a new route is tested the day it exists, with URLs built from
P's objects (tests/support/care_world.py names the relationships).

- Routes that name one of P's objects (patient, case, attachment, agenda line, fiche…): the
  care team (R, Q, M, V, K, A, CX, CE) gets past the door where its role may (the door is the
  role × route table of tests/test_access_matrix.py; ``WHO`` narrows it where only some of the
  team may act); O and CY get 403, O's 403 offering the exceptional access; the GP and the dpo
  get only their own pages; the admin nothing.
- A session's pages (its agenda) list several patients: a physician outside the team is
  refused, or shown the page without P; a coordinator of another RCP is refused.
- Lists, searches, dashboards and exports (the routes without an id): O's and CY's pages are
  the same before and after P exists (neither P nor a count including P); the searches, which
  find a patient to avoid duplicates, show P's identity but no clinical data.
- The JSON API's patient-data routes (/api/v1) are opened by a client's bearer token, never by
  a session: every relationship, the care team included, gets 401 there and nothing of P.
  Which client sees P is tests/api/test_api_access_table.py's table (by establishment).
"""

from __future__ import annotations

import difflib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, update

from rcp_app.cases.models import Case
from rcp_app.core.timeutil import utcnow
from rcp_app.directory.models import RcpMember
from rcp_app.extensions import db
from tests.followups.support import follow_up_of
from tests.pps.support import stored_plan_of
from tests.support.access_routes import (
    build_url,
    is_api_rule,
    login,
    patient_data_routes,
    visible_text,
    visit,
    web_patient_data_routes,
)
from tests.support.care_world import (
    CLINICAL_MARKERS,
    IN_TEAM,
    PATIENT_FIRST_NAME,
    PATIENT_NAME,
    RELATIONSHIPS,
    ROLE_OF,
    add_patient,
    base_world,
)
from tests.test_access_matrix import MATRIX

# Where only part of the care team may act (the door lets the role in, the rule narrows it).
EDITORS = frozenset({"R", "Q", "CX", "CE"})  # a case's authors and its RCP's secretariat
COORDINATION = frozenset({"CX", "CE", "K"})  # the secretariat, or the coordinating physician
VALIDATORS = frozenset({"K", "V"})  # the coordinating physician and the validation delegates
WHO: dict[tuple[str, str], frozenset[str]] = {
    ("cases.edit", "GET"): EDITORS,
    ("cases.edit", "POST"): EDITORS,
    ("cases.withdraw", "GET"): EDITORS,
    ("cases.withdraw", "POST"): EDITORS,
    ("cases.attachment_upload", "POST"): EDITORS,
    ("decisions.close", "GET"): COORDINATION,
    ("decisions.close", "POST"): COORDINATION,
    ("attendance.add", "POST"): COORDINATION,
    ("fiches.amend", "GET"): VALIDATORS,
    ("fiches.amend", "POST"): VALIDATORS,
    ("followups.record", "POST"): EDITORS,
    # The care programme: drafted by the case's authors and secretariat, signed by its
    # physicians (the door lets physicians only into the signature).
    ("pps.edit", "GET"): EDITORS,
    ("pps.edit", "POST"): EDITORS,
    ("pps.validate", "POST"): frozenset({"R", "Q"}),
    # Opening an exceptional access: physicians only; those of the team are sent to the record.
    ("access.exceptional_access", "GET"): frozenset({"R", "Q", "M", "V", "K", "A", "O"}),
    ("access.exceptional_access", "POST"): frozenset({"R", "Q", "M", "V", "K", "A", "O"}),
    # Who opened P's record: the data-protection officer's page, without clinical data.
    ("privacy.patient_accesses", "GET"): frozenset({"D"}),
    ("privacy.patient_accesses_csv", "GET"): frozenset({"D"}),
}

STATS_PERIOD = (
    f"periode=personnalisee&du={date.today() - timedelta(days=1)}"
    f"&au={date.today() + timedelta(days=60)}"
)
# Lists: the query strings each list is read with (default: none). Those naming P's objects
# are read only once P exists.
LIST_QUERIES: dict[str, tuple[str, ...]] = {
    "patients.index": (f"?q={PATIENT_NAME}",),
    "cases.index": ("", f"?q={PATIENT_NAME}", "?rcp={rcp}"),
    "cases.new": (
        f"?q={PATIENT_NAME}",
        "?patient_id={patient}",
        "?patient_id={patient}&rcp_id={rcp}",
    ),
    "delivery.dashboard": ("?etat=all", f"?etat=all&patient={PATIENT_NAME}"),
    "privacy.patients": (f"?q={PATIENT_NAME}",),
    "access.exceptional_review_list": ("", "?etat=all"),
    # P's follow-up is overdue: its referring physician's list, the RCP's « sans suivi ».
    "followups.index": ("",),
    "followups.unrecorded": ("", "?rcp={rcp}"),
    # The cases behind a statistic: the world's session is two weeks ahead.
    "reports.cases": (f"?population=presented&{STATS_PERIOD}",),
    "reports.cases_csv": (f"?population=presented&{STATS_PERIOD}",),
    "reports.cases_xlsx": (f"?population=presented&{STATS_PERIOD}",),
}
# Patient searches find a patient outside the care team, by identity only (issue 13, A: « to
# avoid duplicates »): P's name may show there, never P's clinical data nor a link to it.
IDENTITY_SEARCHES = frozenset({"patients.index", "cases.new", "privacy.patients"})
# POST routes without an id in the URL: the URL and form that make them show P.
POST_FORMS: dict[str, tuple[str, dict[str, str] | str]] = {
    "cases.new": ("/dossiers/nouveau?patient_id={patient}&rcp_id={rcp}", {"_": "1"}),
    # A new patient typed with P's INS: the refusal names the patient who has it.
    "patients.new": ("/patients/nouveau", "duplicate_form"),
}
OUTSIDERS = ("O", "CY")


@pytest.fixture(autouse=True)
def _errors_as_statuses(app, monkeypatch):
    # A page that crashes is one failure among the others (a 500), not the end of the table.
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)


@pytest.fixture
def world(app, make, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "RCP_MAILBOX_DIR", str(tmp_path))
    return _with_follow_up(app, add_patient(app, make, base_world(make), tmp_path))


def _with_follow_up(app, world):
    """P's fiche is stored as rows: its follow-up (overdue) and its care programme are added
    the same way."""
    world.ids["follow_up"] = follow_up_of(app, world["fiche"])
    world.ids["care_plan"] = stored_plan_of(app, world["fiche"])
    return world


def door_roles(endpoint: str, method: str) -> set[str] | None:
    """The roles tests/test_access_matrix.py lets past the door of this route (None: the
    route has no row there yet)."""
    rows = [expected for e, m, _, expected in MATRIX if (e, m) == (endpoint, method)]
    if not rows:
        return None
    return {
        role
        for expected in rows
        for role, status in expected.items()
        if role != "anonymous" and status != 403
    }


def who(route) -> frozenset[str] | None:
    """The relationships that get past the door of ``route`` for P's objects (None: unknown,
    the route has no row in the role table)."""
    if (route.endpoint, route.method) in WHO:
        return WHO[(route.endpoint, route.method)]
    door = door_roles(route.endpoint, route.method)
    if door is None:
        return None
    # The GP's and the dpo's own pages are not care-team pages: their door is the rule.
    return frozenset(
        r
        for r in RELATIONSHIPS
        if ROLE_OF[r] in door and (r in IN_TEAM or ROLE_OF[r] in ("gp", "dpo"))
    )


def addressed_routes(app):
    return [r for r in web_patient_data_routes(app) if r.arguments]


def leaks(html: str, world, *, identity: bool = True, typed: str = "") -> list[str]:
    """What of P a response shows: clinical texts, links to P's case or fiche, and unless
    ``identity`` is allowed, P's identity (what the user ``typed``, echoed, does not count)."""
    text = visible_text(html)
    found = [marker for marker in CLINICAL_MARKERS if marker in text]
    for link in (f"/dossiers/{world['case']}", f"/fiches/{world['fiche']}"):
        if re.search(re.escape(link) + r"(?![0-9])", html):
            found.append(link)
    if identity:
        found += [
            marker
            for marker in (PATIENT_NAME, PATIENT_FIRST_NAME, world["ipp"])
            if marker in text and marker not in typed
        ]
    elif re.search(rf'href="[^"]*/patients/{world["patient"]}"', html):
        found.append("a link to P's record")
    return found


def offers_exceptional_access(text: str, world) -> bool:
    return f"/patients/{world['patient']}/acces-exceptionnel" in text


def check(
    app, client, world, route, relationship: str, team: frozenset[str], outside: bool = False
) -> list[str]:
    """The failures of one visit: ``team``, the relationships that get past; ``outside``: the
    relationship is outside P's care team now (O always; M once removed from the RCP…)."""
    through = relationship in team
    outside = outside or relationship not in IN_TEAM
    url = build_url(app, route, world.ids)
    seen = visit(app, client, route.method, url)
    label = f"{relationship}: {route.method} {url} ({route.endpoint}): {seen.describe()}"
    if through:
        return [] if seen.through else [f"{label}, expected the page"]
    # Any physician may read a session's agenda (rcp_app/access/rules.py), without the
    # patients outside their care teams; a coordinator reads only the RCPs they run.
    if (
        route.session_page
        and route.method == "GET"
        and seen.through
        and ROLE_OF[relationship] == "physician"
    ):
        shown = leaks(seen.text, world)
        return [f"{label} shows {shown}"] if shown else []  # P left out of the agenda
    if not seen.refused:
        shown = leaks(seen.text, world) if seen.through else []
        return [f"{label}, expected 403" + (f"; it shows {shown}" if shown else "")]
    # A physician whose role reaches the page but who is outside the team: the offer.
    if (
        ROLE_OF[relationship] == "physician"
        and outside
        and any(ROLE_OF[r] == "physician" for r in team)
        and route.method == "GET"
        and seen.status == 403
        and not route.session_page
        and not offers_exceptional_access(seen.text, world)
    ):
        return [f"{label} without the exceptional-access offer"]
    return []


@pytest.mark.parametrize("relationship", RELATIONSHIPS)
def test_relationship_route_table(app, make, world, relationship):
    client = login(app, world.users[relationship])
    routes = addressed_routes(app)
    assert routes, "no patient-data route with an id: the route table was not read"
    failures = []
    for route in routes:
        team = who(route)
        if team is None:
            failures.append(f"{route}: no row in tests/test_access_matrix.py MATRIX nor in WHO")
            continue
        failures += check(app, client, world, route, relationship, team)
    assert failures == [], "\n".join(failures)


def _view_routes(app, relationship="M"):
    """The routes a member of the RCP reaches for P's record (reading, not editing; not the
    exceptional-access page, open to every physician)."""
    return [
        r
        for r in addressed_routes(app)
        if relationship in (who(r) or ()) and not r.endpoint.startswith("access.")
    ]


def _team(*relationships):
    return frozenset(relationships)


def _case_update(app, case_id, **values):
    with app.app_context():
        db.session.execute(update(Case).where(Case.id == case_id).values(**values))
        db.session.commit()


def test_objection_to_sharing_leaves_only_the_treating_team(app, world):
    """P objects to sharing beyond the treating team: the RCP's members and delegates no
    longer see P; the coordinating physician, the attendee and the referring physician do."""
    _case_update(app, world["case"], patient_sharing_objection=True)
    failures = []
    for relationship in ("M", "V", "K", "A", "R"):
        client = login(app, world.users[relationship])
        for route in _view_routes(app):
            if route.method != "GET":
                continue
            kept = _team("K", "A", "R")
            failures += check(
                app, client, world, route, relationship, kept, outside=relationship not in kept
            )
    assert failures == [], "\n".join(failures)


def test_a_member_removed_from_the_rcp_is_refused_at_once(app, world):
    client = login(app, world.users["M"])
    routes = [r for r in _view_routes(app) if r.method == "GET"]
    failures = [f for r in routes for f in check(app, client, world, r, "M", _team("M"))]
    assert failures == [], "\n".join(failures)
    with app.app_context():
        db.session.execute(
            delete(RcpMember).where(
                RcpMember.rcp_id == world["rcp"],
                RcpMember.professional_id == world.users["M"].professional_id,
            )
        )
        db.session.commit()
    # Same login, next request: no cache of the membership survives.
    failures = [
        f for r in routes for f in check(app, client, world, r, "M", _team("R"), outside=True)
    ]
    assert failures == [], "\n".join(failures)


def test_exceptional_access_opens_the_record_until_it_expires(app, make, world, monkeypatch):
    client = login(app, world.users["O"])
    routes = [r for r in _view_routes(app) if r.method == "GET"]
    make.exceptional_access(world.users["O"].id, world["patient"], hours=12)
    failures = [f for r in routes for f in check(app, client, world, r, "O", _team("O"))]
    assert failures == [], "\n".join(failures)
    # Thirteen hours later the access has expired: refused again.
    later = utcnow() + timedelta(hours=13)
    monkeypatch.setattr("rcp_app.access.care_team.utcnow", lambda: later)
    failures = [f for r in routes for f in check(app, client, world, r, "O", _team("R"))]
    assert failures == [], "\n".join(failures)


def test_an_expired_exceptional_access_opens_nothing(app, make, world):
    opened = utcnow() - timedelta(days=2)
    make.exceptional_access(world.users["O"].id, world["patient"], opened_at=opened, hours=12)
    client = login(app, world.users["O"])
    routes = [r for r in _view_routes(app) if r.method == "GET"]
    failures = [f for r in routes for f in check(app, client, world, r, "O", _team("R"))]
    assert failures == [], "\n".join(failures)


def test_a_draft_case_is_not_shown_to_the_rcp(app, make, world):
    patient = make.patient(birth_name="BROUILLON", first_birth_first_name="Irène")
    draft = make.case(rcp_id=world["rcp"], session_id=world["session"], patient_id=patient.id)
    client = login(app, world.users["M"])
    urls = [f"/dossiers/{draft.id}", f"/patients/{patient.id}"]
    statuses = [visit(app, client, "GET", url).status for url in urls]
    assert statuses == [403, 403], f"a member of the RCP opened the draft: {statuses}"
    _case_update(
        app, draft.id, status="submitted", submitted_at=utcnow(), gp_unknown=True
    )  # submitted to the RCP: now its members see it
    statuses = [visit(app, client, "GET", url).status for url in urls]
    assert statuses == [200, 200], f"a member could not open the submitted case: {statuses}"


# --- lists, searches, counts, exports ---------------------------------------------------------


def list_urls(app, ids: dict, *, with_patient: bool) -> list[tuple[str, str]]:
    """(endpoint, url) of every list: the GET patient-data routes without an id in the URL."""
    urls = []
    for route in web_patient_data_routes(app):
        if route.arguments or route.method != "GET":
            continue
        for query in LIST_QUERIES.get(route.endpoint, ("",)):
            names_patient = "{patient}" in query
            if names_patient and not with_patient:
                continue
            urls.append((route.endpoint, route.rule + query.format(**ids)))
    return urls


def _text_change(before: str, after: str) -> str:
    words = difflib.ndiff(before.split(), after.split())
    changed = [w for w in words if w[:1] in "+-"]
    return " ".join(changed[:12])


# Who sees P on a list: the referring physician, the secretariat, the coordinating physician
# (exceptional accesses to review), the GP (inbox), the dpo (their search).
IN_TEAM_VIEWERS = ("R", "CX", "K", "G", "D")


def _shows_p(app, client, url: str, world) -> bool:
    seen = visit(app, client, "GET", url)
    return seen.through and bool(leaks(seen.text, world, typed=url))


def test_lists_and_counts_leave_out_patients_outside_the_team(app, make, tmp_path, monkeypatch):
    """O's and CY's lists read the same before and after P exists: P is neither listed nor
    counted (the same page, word for word, dates and times aside); searches may show P's
    identity, never P's clinical data nor a link to P's record."""
    monkeypatch.setitem(app.config, "RCP_MAILBOX_DIR", str(tmp_path))
    world = base_world(make)
    clients = {name: login(app, world.users[name]) for name in OUTSIDERS + IN_TEAM_VIEWERS}
    before = {
        (name, url): visible_text(visit(app, clients[name], "GET", url).text)
        for name in OUTSIDERS
        for endpoint, url in list_urls(app, world.ids, with_patient=False)
        if endpoint not in IDENTITY_SEARCHES
    }
    _with_follow_up(app, add_patient(app, make, world, tmp_path))
    failures = []
    lists = list_urls(app, world.ids, with_patient=True)
    assert lists, "no list route: the route table was not read"
    for endpoint, url in lists:
        identity_search = endpoint in IDENTITY_SEARCHES
        for name in OUTSIDERS:
            seen = visit(app, clients[name], "GET", url)
            label = f"{name}: GET {url} ({endpoint}): {seen.describe()}"
            if seen.refused:
                continue
            if not seen.through:
                failures.append(f"{label}, expected the page or 403")
                continue
            shown = leaks(seen.text, world, identity=not identity_search, typed=url)
            if shown:
                failures.append(f"{label} shows {shown}")
            if (name, url) in before and before[(name, url)] != visible_text(seen.text):
                change = _text_change(before[(name, url)], visible_text(seen.text))
                failures.append(f"{label} changed once P existed: {change}")
        # Someone in the team sees P here: otherwise the check above proves nothing.
        if not any(_shows_p(app, clients[name], url, world) for name in IN_TEAM_VIEWERS):
            failures.append(
                f"GET {url} ({endpoint}): nobody in P's care team sees P there, so the check "
                "proves nothing: give it a query in LIST_QUERIES"
            )
    assert failures == [], "\n".join(failures)


def test_forms_without_an_id_show_no_clinical_data_outside_the_team(app, world):
    forms = {
        "duplicate_form": {
            "birth_name": "NOUVELLE",
            "birth_first_names": "Irène",
            "first_birth_first_name": "Irène",
            "sex": world["sex"],
            "birth_date": world["birth_date"],
            "identity_status": "VALI",
            "ins_matricule": world["ins_matricule"],
            "ins_oid": world["ins_oid"],
        }
    }
    routes = [r for r in web_patient_data_routes(app) if not r.arguments and r.method == "POST"]
    missing = sorted({r.endpoint for r in routes} - set(POST_FORMS))
    assert missing == [], "POST patient-data routes without an id: add them to POST_FORMS"
    failures = []
    for name in OUTSIDERS:
        client = login(app, world.users[name])
        for route in routes:
            template, data = POST_FORMS[route.endpoint]
            url = template.format(**world.ids)
            seen = visit(app, client, "POST", url, forms[data] if isinstance(data, str) else data)
            shown = leaks(seen.text, world, identity=False) if seen.through else []
            if shown:
                failures.append(f"{name}: POST {url}: {seen.describe()} shows {shown}")
    assert failures == [], "\n".join(failures)


def test_a_session_never_opens_the_api(app, world):
    """Every API patient-data route, with P's ids, as every relationship logged in: 401, a
    problem document, and nothing of P (not even to the care team)."""
    from rcp_app.fiches.models import Fiche

    with app.app_context():
        ids = {**world.ids, "decision": db.session.get(Fiche, world["fiche"]).decision_id}
    routes = [r for r in patient_data_routes(app) if is_api_rule(r.rule)]
    assert routes, "no API patient-data route: the route table was not read"
    failures = []
    for relationship in RELATIONSHIPS:
        client = login(app, world.users[relationship])
        for route in routes:
            url = build_url(app, route, ids)
            seen = visit(app, client, route.method, url)
            label = f"{relationship}: {route.method} {url} ({route.endpoint}): {seen.describe()}"
            if seen.status != 401:
                failures.append(f"{label}, expected 401")
            elif leaks(seen.text, world):
                failures.append(f"{label} shows {leaks(seen.text, world)}")
    assert failures == [], "\n".join(failures)
