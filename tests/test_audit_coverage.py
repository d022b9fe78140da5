"""Every route that can show patient data writes an audit row naming the patient(s).

The list of routes comes from the route table: each view carries a marker
(rcp_app/core/patient_data.py), a view without one fails ``test_every_view_is_classified``, and
every (endpoint, method) of a patient-data view needs a visit in ``VISITS`` (the page, and for
a form, a refused submission shown again). Each visit, by an entitled user on seeded data, must
render (no redirect, no 403) and leave a new audit row naming its patient(s): ``patient_id``,
or the ids under ``details["patients"]`` for a page that lists several.

The JSON API's patient-data operations are driven with a bearer token instead, by their
example requests (tests/api/examples.py, whose ``patients`` say whom each response shows):
each call's ``api.call`` row names the client and those patients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from rcp_app.api.models import ApiClient
from rcp_app.core.audit import AuditEntry
from rcp_app.core.patient_data import marker_of, patient_data_methods
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from tests.api.conftest import api  # noqa: F401 (a fixture)
from tests.api.examples import EXAMPLES, Context
from tests.api.examples import world as api_world
from tests.followups.support import follow_up_for
from tests.support.access_routes import api_operations, is_api_rule, rolled_back
from tests.support.factories import PASSWORD, stored_care_plan, stored_fiche_version

# Flask's own static files: CSS and JS, nothing about patients.
UNMARKED = {"static"}


@dataclass(frozen=True)
class Visit:
    role: str  # "coordinator", "physician" (the RCP's coordinating physician) or "gp"
    method: str
    url: str  # formatted with the world's ids
    patients: tuple[str, ...]  # world keys of the patients the response must name
    data: dict | str = field(default_factory=dict)  # a str: the world key of the form data
    # World key of a text proving the page shows the patient (default: their names).
    shown: str | None = None


def get(role, url, *patients):
    return Visit(role, "GET", url, patients)


def post(role, url, data, *patients, shown=None):
    return Visit(role, "POST", url, patients, data, shown)


S = "/seances/{session}"
# (endpoint) -> its visits. The POSTs are refused ones: the page is shown again.
# A period from today to two months ahead (the world's session is two weeks ahead).
STATS_PERIOD = (
    f"periode=personnalisee&du={date.today() - timedelta(days=1)}"
    f"&au={date.today() + timedelta(days=60)}"
)
VISITS: dict[str, list[Visit]] = {
    "main.home": [get("physician", "/", "p1"), get("gp", "/", "p1")],
    "patients.index": [get("coordinator", "/patients?q=AUDITEUR", "p1")],
    "patients.detail": [get("coordinator", "/patients/{p1}", "p1")],
    # A new patient typed with patient 1's INS: the refusal names patient 1's record (IPP).
    "patients.new": [
        post("coordinator", "/patients/nouveau", "duplicate_form", "p1", shown="p1_ipp"),
    ],
    "patients.edit": [
        get("coordinator", "/patients/{p1}/modifier", "p1"),
        post(
            "coordinator",
            "/patients/{p1}/modifier",
            {"birth_name": "AUDITEUR", "version": "1"},
            "p1",
        ),
    ],
    "cases.index": [get("coordinator", "/dossiers", "p1")],
    "cases.new": [
        get("coordinator", "/dossiers/nouveau?q=AUDITEUR", "p1"),
        get("coordinator", "/dossiers/nouveau?patient_id={p1}", "p1"),
        get("coordinator", "/dossiers/nouveau?patient_id={p1}&rcp_id={rcp}", "p1"),
        post("coordinator", "/dossiers/nouveau?patient_id={p1}&rcp_id={rcp}", {"_": "1"}, "p1"),
        post(
            "coordinator",
            "/dossiers/nouveau?patient_id={p1}&rcp_id={rcp}",
            {"action": "add_tumour"},
            "p1",
        ),
    ],
    "cases.detail": [get("coordinator", "/dossiers/{draft}", "p1")],
    "cases.edit": [
        get("coordinator", "/dossiers/{draft}/modifier", "p1"),
        post("coordinator", "/dossiers/{draft}/modifier", {"action": "add_tumour"}, "p1"),
        post("coordinator", "/dossiers/{draft}/modifier", {"_": "1"}, "p1"),  # no version: 409
    ],
    "cases.withdraw": [
        get("coordinator", "/dossiers/{draft}/retirer", "p1"),
        post("coordinator", "/dossiers/{draft}/retirer", {"reason": "", "version": "1"}, "p1"),
    ],
    "cases.attachment_upload": [
        post("coordinator", "/dossiers/{draft}/pieces-jointes", {"_": "1"}, "p1"),
    ],
    "cases.attachment_download": [
        get("coordinator", "/dossiers/{draft}/pieces-jointes/{attachment}", "p1"),
    ],
    "cases.attachment_withdraw": [
        post("coordinator", "/dossiers/{draft}/pieces-jointes/{attachment}/retirer", {}, "p1"),
    ],
    "attendance.page": [get("coordinator", S + "/presences", "p1", "p2")],
    "attendance.add": [post("coordinator", S + "/presences", {"_": "1"}, "p1", "p2")],
    "meetings.detail": [get("coordinator", S, "p1", "p2")],
    "meetings.assign": [post("coordinator", S + "/ordre-du-jour/ajouter", {"_": "1"}, "p1", "p2")],
    "meetings.unassign": [
        post("coordinator", S + "/ordre-du-jour/999999999/retirer", {"_": "1"}, "p1", "p2")
    ],
    "meetings.update_item": [
        post("coordinator", S + "/ordre-du-jour/{item1}/modifier", {"_": "1"}, "p1", "p2")
    ],
    "meetings.move": [
        post("coordinator", S + "/ordre-du-jour/{item1}/deplacer", {"_": "1"}, "p1", "p2")
    ],
    "meetings.postpone": [
        post("coordinator", S + "/dossiers/{case1}/reporter", {"_": "1"}, "p1", "p2")
    ],
    "meetings.refuse": [
        post("coordinator", S + "/dossiers/{case1}/refuser", {"_": "1"}, "p1", "p2")
    ],
    "meetings.publish": [post("coordinator", S + "/publier", {"_": "1"}, "p1", "p2")],
    "meetings.agenda_pdf": [get("coordinator", S + "/ordre-du-jour.pdf", "p1", "p2")],
    "decisions.meeting": [
        get("coordinator", S + "/reunion", "p1", "p2"),
        get("coordinator", S + "/reunion?dossier={item2}", "p1", "p2"),
    ],
    "decisions.save": [
        # A refused save without JavaScript: the whole meeting page (case 2 in full) again.
        post("coordinator", S + "/reunion/{item2}/decision", {"outcome": "inconnu"}, "p2"),  # stale
        post(
            "coordinator",
            S + "/reunion/{item2}/decision",
            {"outcome": "inconnu", "version": "0"},  # not stale: refused for the outcome
            "p2",
        ),
    ],
    "decisions.close": [
        get("coordinator", S + "/cloture", "p2"),
        post("coordinator", S + "/cloture", {"version": "{session_version}"}, "p2"),
    ],
    "fiches.session_fiches": [get("coordinator", S + "/fiches", "p1", "p2")],
    "fiches.preview": [get("coordinator", S + "/fiches/{item1}/apercu.pdf", "p1")],
    "fiches.detail": [get("coordinator", "/fiches/{fiche}", "p1")],
    "fiches.download_pdf": [get("coordinator", "/fiches/{fiche}/v1.pdf", "p1")],
    "fiches.download_cda": [get("coordinator", "/fiches/{fiche}/v1.xml", "p1")],
    "fhir.download": [get("coordinator", "/fiches/{fiche}/v1.fhir.json", "p1")],
    "fiches.amend": [
        get("physician", "/fiches/{fiche}/avenant", "p1"),
        post("physician", "/fiches/{fiche}/avenant", {"expected_version": "1", "reason": ""}, "p1"),
    ],
    # The care programme: case 1's fiche has none yet (the opening page); a second fiche of
    # patient 1, referred by « referrer », has one being amended.
    "pps.for_fiche": [get("coordinator", "/fiches/{fiche}/pps", "p1")],
    "pps.edit": [
        get("referrer", "/pps/{care_plan}/modifier", "p1"),
        post("referrer", "/pps/{care_plan}/modifier", {"version": "0"}, "p1"),  # stale
    ],
    "pps.validate": [post("referrer", "/pps/{care_plan}/valider", {"version": "0"}, "p1")],
    "pps.detail": [get("coordinator", "/pps/{care_plan}", "p1")],
    "pps.download_pdf": [get("coordinator", "/pps/{care_plan}/v1.pdf", "p1")],
    "pps.download_cda": [get("coordinator", "/pps/{care_plan}/v1.xml", "p1")],
    "pps.print_pdf": [get("referrer", "/pps/{care_plan}/v1/imprimer", "p1")],
    # Follow-ups: case 1's fiche has one, overdue (« sans suivi »); its RCP's secretariat
    # records it (the refused POST: no outcome chosen).
    "followups.index": [get("coordinator", "/suivis", "p1")],
    "followups.unrecorded": [get("coordinator", "/suivis/sans-suivi", "p1")],
    "followups.record": [
        get("coordinator", "/suivis/{follow_up}", "p1"),
        post("coordinator", "/suivis/{follow_up}", {"state": "", "version": "1"}, "p1"),
    ],
    "delivery.dashboard": [get("coordinator", "/diffusion?etat=all", "p1")],
    "delivery.gp_inbox": [get("gp", "/boite", "p1")],
    "delivery.gp_download": [get("gp", "/boite/fiches/{fiche}.pdf", "p1")],
    "delivery.gp_care_plan": [get("gp", "/boite/pps/{care_plan}.pdf", "p1")],
    "delivery.mailbox_index": [get("coordinator", "/dev/courriels", "p1")],
    "delivery.mailbox_message": [get("coordinator", "/dev/courriels/{message}", "p1")],
    "delivery.mailbox_source": [get("coordinator", "/dev/courriels/{message}/source", "p1")],
    "delivery.mailbox_attachment": [get("coordinator", "/dev/courriels/{message}/pieces/1", "p1")],
    "access.exceptional_access": [
        get("outsider", "/patients/{p1}/acces-exceptionnel", "p1"),
        post("outsider", "/patients/{p1}/acces-exceptionnel", {"reason": "other"}, "p1"),
    ],
    "access.exceptional_review_list": [get("physician", "/acces-exceptionnels", "p1")],
    # The cases behind a statistic: the world's session is two weeks ahead.
    "reports.cases": [
        get("coordinator", "/statistiques/dossiers?population=presented&" + STATS_PERIOD, "p1")
    ],
    "reports.cases_csv": [
        get("physician", "/statistiques/dossiers.csv?population=presented&" + STATS_PERIOD, "p1")
    ],
    "reports.cases_xlsx": [
        get("coordinator", "/statistiques/dossiers.xlsx?population=presented&" + STATS_PERIOD, "p1")
    ],
    "privacy.patients": [get("dpo", "/protection-des-donnees/patients?q=AUDITEUR", "p1")],
    "privacy.patient_accesses": [get("dpo", "/protection-des-donnees/patients/{p1}/acces", "p1")],
    "privacy.patient_accesses_csv": [
        get("dpo", "/protection-des-donnees/patients/{p1}/acces.csv", "p1")
    ],
    # The first visit writes a row naming patient 1, which the journal then shows.
    "privacy.audit_log": [
        get("dpo", "/protection-des-donnees/patients/{p1}/acces", "p1"),
        get("dpo", "/protection-des-donnees/journal?patient_id={p1}", "p1"),
    ],
}


def _marked_routes(app) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        routes.setdefault(rule.endpoint, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_every_view_is_classified(app):
    unmarked = sorted(
        endpoint
        for endpoint in _marked_routes(app)
        if endpoint not in UNMARKED and marker_of(app.view_functions[endpoint]) is None
    )
    assert unmarked == [], (
        "views without @shows_patient_data or @no_patient_data (rcp_app/core/patient_data.py)"
    )


def _api_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if is_api_rule(rule.rule)}


def test_every_patient_data_route_has_visits(app):
    routes = _marked_routes(app)
    methods = {e: patient_data_methods(app.view_functions[e], routes[e]) for e in routes}
    patient_routes = {e for e in routes if methods[e]} - _api_endpoints(app)
    missing = sorted(
        f"{method} {endpoint}"
        for endpoint in patient_routes
        for method in methods[endpoint]
        if not any(v.method == method for v in VISITS.get(endpoint, []))
    )
    assert missing == [], "patient-data routes without a visit in VISITS"
    stale = sorted(set(VISITS) - patient_routes)
    assert stale == [], "VISITS for endpoints that are not (or no longer) patient-data views"


def _api_patient_operations(app):
    return [
        operation
        for operation in api_operations(app)
        if patient_data_methods(app.view_functions[operation.endpoint], {operation.method})
    ]


def test_every_api_patient_data_operation_names_its_patients(app):
    """Each API operation marked ``shows_patient_data`` has an example (tests/api/examples.py)
    saying which of the world's patients its response shows; only an operation whose example
    answers no 2xx (nothing shown) may name none; an API route without a token check cannot
    show patient data (nobody would be audited)."""
    routes = _marked_routes(app)
    unguarded = sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if is_api_rule(rule.rule)
        and patient_data_methods(app.view_functions[rule.endpoint], routes[rule.endpoint])
        and rule.endpoint not in {op.endpoint for op in api_operations(app)}
    )
    assert unguarded == [], "API patient-data routes without guard.api_call"
    problems = []
    for operation in _api_patient_operations(app):
        example = EXAMPLES.get(operation.key)
        if example is None:
            problems.append(f"{operation}: no example in tests/api/examples.py")
        elif not example.patients and any(200 <= status < 300 for status in example.ok):
            problems.append(f"{operation}: its example names no patient")
    assert problems == [], "\n".join(problems)


def test_api_patient_data_operations_are_audited(app, make, api):  # noqa: F811
    objects = api_world(app, make)
    caller = api(establishment=objects["establishment"])
    with app.app_context():
        actor = db.session.get(ApiClient, caller.client_pk).actor_name
    operations = _api_patient_operations(app)
    assert operations, "no API patient-data operation found"
    failures = []
    for operation in operations:
        example = EXAMPLES[operation.key]
        with rolled_back(app):
            values = example.prepared(Context(app, make, objects, caller), objects)
            request = example.request(values)
            before = _last_seq(app)
            response = request.send(caller.http, caller.headers())
            response.close()
            rows = _rows_after(app, before)
        label = f"{request.method} {request.url} ({operation.endpoint}) → {response.status_code}"
        if response.status_code not in example.ok:
            failures.append(f"{label}: expected {sorted(example.ok)}")
            continue
        calls = [row for row in rows if row.action == "api.call"]
        if len(calls) != 1:
            failures.append(f"{label}: {len(calls)} api.call rows, expected one")
            continue
        [call] = calls
        details = call.details_dict()
        named = ({call.patient_id} - {None}) | set(details.get("patients") or [])
        expected = example.patient_ids(values, response.get_json(silent=True))
        if named != expected:
            failures.append(f"{label}: the api.call row names {named}, expected {expected}")
        if call.username != actor or details.get("scope") != operation.scope:
            failures.append(f"{label}: row by {call.username!r} for {details.get('scope')!r}")
    assert failures == [], "\n".join(failures)


# --- the seeded world ------------------------------------------------------------------------


def _world(app, make, tmp_path) -> dict:
    from rcp_app.access.models import ExceptionalAccess
    from rcp_app.decisions.models import Decision
    from rcp_app.delivery import mailbox
    from rcp_app.delivery.models import Transmission
    from rcp_app.directory.models import Rcp
    from rcp_app.fiches.models import Fiche
    from rcp_app.meetings.models import MeetingSession

    coordinating = make.professional(last_name="Coordinatrice")
    gp_professional = make.professional(last_name="Généraliste")
    rcp = make.rcp(coordinator_id=coordinating.id)
    session = make.session(rcp.id, status="in_progress")
    p1 = make.patient(
        birth_name="AUDITEUR", birth_first_names="Clémence", first_birth_first_name="Clémence"
    )
    p2 = make.patient(
        birth_name="CONTROLEUR",
        birth_first_names="Gaspard",
        first_birth_first_name="Gaspard",
        sex="M",
    )
    case1 = make.submitted_case(
        rcp_id=rcp.id,
        session_id=session.id,
        patient_id=p1.id,
        status="scheduled",
        gp_id=gp_professional.id,
        gp_unknown=False,
    )
    case2 = make.submitted_case(
        rcp_id=rcp.id, session_id=session.id, patient_id=p2.id, status="scheduled"
    )
    item1 = make.agenda_item(session.id, case1.id)
    item2 = make.agenda_item(session.id, case2.id, position=2)
    physician = make.user(role="physician", professional_id=coordinating.id)
    # The physician's own case: their home page lists it.
    draft = make.case(rcp_id=rcp.id, patient_id=p1.id, created_by_id=physician.id)
    gp = make.user(role="gp", professional_id=gp_professional.id)
    coordinator = make.user(role="coordinator")
    make.coordinator_scope(coordinator.id, rcp_id=rcp.id)  # the RCP's secretariat
    attachment = make.attachment(draft.id, physician.id)
    message_id = "<couverture-audit@rcp.test>"
    with app.app_context():
        decision = Decision(
            item_id=item1.id, state="validated", outcome="discussed", updated_at=utcnow()
        )
        fiche = Fiche(
            set_id="5b9e3f7a-1c2d-4e8f-a6b7-c8d9e0f1a2b4",
            decision=decision,
            case_id=case1.id,
            patient_id=p1.id,
            session_id=session.id,
            created_at=utcnow(),
        )
        version = stored_fiche_version(
            fiche,
            physician.id,
            code="K7QF-3MZP-9TXE",
            document_id="0d4a2c1e-6f0b-4c8e-9a53-2b1e7f3c9d11",
            pdf=b"%PDF-1.7 audit",
        )
        transmission = Transmission(
            message_id=message_id,
            kind="fiche",
            recipient_role="gp",
            recipient_address="gp@rcp.test",
            professional_id=gp_professional.id,
            patient_id=p1.id,
            fiche_version=version,
            status="sent",
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
        # A physician outside the care team opened patient 1's record (the review page).
        outsider = make.user(role="physician")
        db.session.add(
            ExceptionalAccess(
                user_id=outsider.id,
                patient_id=p1.id,
                reason="emergency",
                opened_at=utcnow(),
                expires_at=utcnow() + timedelta(hours=1),
                review_comment="",
            )
        )
        db.session.add_all([decision, fiche, version, transmission])
        follow_up = follow_up_for(fiche, case1)
        db.session.add(follow_up)
        referrer, care_plan_id = _care_plan(make, rcp.id, p1.id, gp_professional.id)
        db.session.commit()
        fiche_id = fiche.id
        follow_up_id = follow_up.id
        session_version = db.session.get(MeetingSession, session.id).version
        assert db.session.get(Rcp, rcp.id).coordinator_id == coordinating.id
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["Message-ID"] = message_id
    mail["Subject"] = "Fiche RCP — AUDITEUR Clémence"  # subjects name the patient
    mail.set_content("AUDITEUR Clémence\n", cte="quoted-printable")
    mail.add_attachment(
        "AUDITEUR Clémence".encode(), maintype="text", subtype="plain", filename="fiche.txt"
    )
    stored = mailbox.store_message(tmp_path, "rcp@rcp.test", ["gp@rcp.test"], mail.as_bytes(), 1)
    return {
        "p1": p1.id,
        "p2": p2.id,
        "rcp": rcp.id,
        "session": session.id,
        "session_version": session_version,
        "case1": case1.id,
        "item1": item1.id,
        "item2": item2.id,
        "draft": draft.id,
        "attachment": attachment.id,
        "fiche": fiche_id,
        "follow_up": follow_up_id,
        "care_plan": care_plan_id,
        "message": stored.name,
        "users": {
            "coordinator": coordinator,
            "physician": physician,
            "gp": gp,
            "dpo": make.user(role="dpo"),
            "outsider": outsider,
            "referrer": referrer,
        },
        "names": {"p1": "AUDITEUR", "p2": "CONTROLEUR"},
        "p1_ipp": p1.ipp,
        "duplicate_form": {
            "birth_name": "NOUVELLE",
            "birth_first_names": "Irène",
            "first_birth_first_name": "Irène",
            "sex": p1.sex,
            "birth_date": p1.birth_date.strftime("%d/%m/%Y"),
            "identity_status": "VALI",
            "ins_matricule": p1.ins_matricule,
            "ins_oid": p1.ins_oid,
        },
    }


def _care_plan(make, rcp_id: int, patient_id: int, gp_id: int):
    """A second signed fiche of the patient, whose referring physician (« referrer ») is
    amending its care programme; (that user, the programme's id). Inside the world's app
    context, committed by the caller."""
    from rcp_app.decisions.models import Decision
    from rcp_app.fiches.models import Fiche

    referring = make.professional(last_name="Référente")
    referrer = make.user(role="physician", professional_id=referring.id)
    session_id = make.session(rcp_id, status="closed").id  # one case per patient and session
    case = make.submitted_case(
        rcp_id=rcp_id,
        session_id=session_id,
        patient_id=patient_id,
        status="scheduled",
        requester_id=referring.id,
        gp_id=gp_id,
        gp_unknown=False,
    )
    item = make.agenda_item(session_id, case.id)
    decision = Decision(
        item_id=item.id, state="validated", outcome="discussed", updated_at=utcnow()
    )
    fiche = Fiche(
        set_id="5b9e3f7a-1c2d-4e8f-a6b7-c8d9e0f1a2b5",
        decision=decision,
        case_id=case.id,
        patient_id=patient_id,
        session_id=session_id,
        created_at=utcnow(),
    )
    version = stored_fiche_version(
        fiche,
        referrer.id,
        code="K7QF-3MZP-9TXF",
        document_id="0d4a2c1e-6f0b-4c8e-9a53-2b1e7f3c9d12",
        pdf=b"%PDF-1.7 audit 2",
    )
    plan, plan_version = stored_care_plan(
        fiche, referrer.id, document_id="3f6b1d2e-8a4c-4b7d-9e10-2c3d4e5f6a71", pdf=b"%PDF pps"
    )
    db.session.add_all([decision, fiche, version, plan, plan_version])
    db.session.flush()
    return referrer, plan.id


def _last_seq(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEntry.seq))) or 0


def _rows_after(app, seq: int) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.seq > seq)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _named_patients(app, after: int) -> set[int]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.seq > after)).all()
        named = set()
        for row in rows:
            if row.patient_id is not None:
                named.add(row.patient_id)
            named.update(row.details_dict().get("patients") or [])
        return named


@pytest.mark.parametrize(
    "endpoint", sorted(VISITS), ids=lambda endpoint: endpoint.replace(".", "-")
)
def test_patient_data_route_is_audited(app, make, tmp_path, monkeypatch, endpoint):
    monkeypatch.setitem(app.config, "RCP_MAILBOX_DIR", str(tmp_path))
    world = _world(app, make, tmp_path)
    clients = {}
    failures = []
    for visit in VISITS[endpoint]:
        client = clients.get(visit.role)
        if client is None:
            client = clients[visit.role] = app.test_client()
            user = world["users"][visit.role]
            response = client.post(
                "/connexion", data={"username": user.username, "password": PASSWORD}
            )
            assert response.status_code == 302, visit.role
        url = visit.url.format(**world)
        raw = world[visit.data] if isinstance(visit.data, str) else visit.data
        data = {k: v.format(**world) for k, v in raw.items()}
        before = _last_seq(app)
        response = client.open(url, method=visit.method, data=data or None)
        label = f"{visit.method} {url} as {visit.role}"
        status = response.status_code
        if 300 <= status < 400 or status in (403, 404) or status >= 500:
            failures.append(f"{label}: HTTP {status}, the page was not shown")
            continue
        if response.mimetype == "text/html":
            text = response.get_data(as_text=True)
            evidence = (
                [world[visit.shown]] if visit.shown else [world["names"][k] for k in visit.patients]
            )
            for expected_text in evidence:
                if expected_text not in text:
                    failures.append(f"{label}: {expected_text} not on the page")
        expected = {world[key] for key in visit.patients}
        missing = expected - _named_patients(app, before)
        if missing:
            failures.append(f"{label} (HTTP {status}): no audit row names patient(s) {missing}")
    assert failures == [], "\n".join(failures)
