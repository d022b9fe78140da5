"""Every route × every role → the expected status: the door (which roles reach which route).

The table must name every route of the application: a new route without a row fails
``test_every_route_is_in_the_matrix``. POST rows send a form with no real field (CSRF is off
in tests): the point is who gets past the door, not what the action does.

The physician is the referring physician of the world's cases and the coordinator runs its RCP,
so that a row says « the role may reach it » and not « this user is outside the care team »:
who among a role sees which patient is tests/test_care_team_access.py's table.

Two families of rows are derived from the route table rather than listed (``matrix(app)``):
the JSON API's (/api/v1: a session cookie never opens it, every guarded operation answers 401
to every role; its public routes answer everyone alike), and the pages of a blueprint whose
every view names its capability (the API clients' administration): the capability's roles get
past the door, the others 403. Which client reaches which API operation is
tests/api/test_api_access_table.py's table.
"""

from __future__ import annotations

import re

import pytest

from rcp_app.access.guards import CAPABILITIES
from tests.followups.support import follow_up_for
from tests.support.access_routes import api_operations, is_api_rule, public_api_routes
from tests.support.factories import PASSWORD, stored_care_plan, stored_fiche_version

ROLES = ("anonymous", "admin", "coordinator", "physician", "gp", "dpo")

# Shorthands for the usual patterns: who may open it gets `ok`, others 403, anonymous → login.
LOGIN = 302


def only(ok: int, *allowed: str) -> dict[str, int]:
    return {
        role: (LOGIN if role == "anonymous" else ok if role in allowed else 403) for role in ROLES
    }


def everyone_logged_in(ok: int) -> dict[str, int]:
    return {role: (LOGIN if role == "anonymous" else ok) for role in ROLES}


def same_for_all(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


CLINICAL = ("coordinator", "physician")
DIRECTORY_EDITORS = ("admin", "coordinator")
MEETING_MANAGERS = ("coordinator",)
MEETING_VIEWERS = ("coordinator", "physician")

# (endpoint, method, url template) → expected status per role.
MATRIX: list[tuple[str, str, str, dict[str, int]]] = [
    ("main.home", "GET", "/", everyone_logged_in(200)),
    # Authentication: the login page sends logged-in users home.
    ("auth.login", "GET", "/connexion", {**same_for_all(302), "anonymous": 200}),
    ("auth.login", "POST", "/connexion", {**same_for_all(302), "anonymous": 200}),
    # No pending first factor: both second-factor pages send back to the login page.
    ("auth.totp", "GET", "/connexion/code", same_for_all(302)),
    ("auth.totp", "POST", "/connexion/code", same_for_all(302)),
    (
        "auth.totp_enrol_pending",
        "GET",
        "/connexion/activer-double-authentification",
        same_for_all(302),
    ),
    (
        "auth.totp_enrol_pending",
        "POST",
        "/connexion/activer-double-authentification",
        same_for_all(302),
    ),
    # Pro Santé Connect is not configured here: both routes answer 404 (tests/test_psc.py).
    ("auth.psc_login", "GET", "/connexion/psc", same_for_all(404)),
    ("auth.psc_callback", "GET", "/connexion/psc/retour", same_for_all(404)),
    ("auth.account", "GET", "/compte", everyone_logged_in(200)),
    ("auth.change_password", "GET", "/compte/mot-de-passe", everyone_logged_in(200)),
    ("auth.change_password", "POST", "/compte/mot-de-passe", everyone_logged_in(200)),
    ("auth.totp_setup", "GET", "/compte/double-authentification", everyone_logged_in(200)),
    ("auth.totp_setup", "POST", "/compte/double-authentification", everyone_logged_in(200)),
    (
        "auth.totp_disable",
        "POST",
        "/compte/double-authentification/desactiver",
        everyone_logged_in(302),
    ),
    # Patients: clinical roles only.
    ("patients.index", "GET", "/patients", only(200, *CLINICAL)),
    ("patients.new", "GET", "/patients/nouveau", only(200, *CLINICAL)),
    ("patients.new", "POST", "/patients/nouveau", only(200, *CLINICAL)),
    ("patients.detail", "GET", "/patients/{patient}", only(200, *CLINICAL)),
    ("patients.edit", "GET", "/patients/{patient}/modifier", only(200, *CLINICAL)),
    ("patients.edit", "POST", "/patients/{patient}/modifier", only(200, *CLINICAL)),
    # Cases: clinical roles (physicians and coordinators see every case).
    ("cases.index", "GET", "/dossiers", only(200, *CLINICAL)),
    ("cases.new", "GET", "/dossiers/nouveau", only(200, *CLINICAL)),
    ("cases.new", "POST", "/dossiers/nouveau", only(200, *CLINICAL)),
    ("cases.detail", "GET", "/dossiers/{case}", only(200, *CLINICAL)),
    ("cases.edit", "GET", "/dossiers/{case}/modifier", only(200, *CLINICAL)),
    # No version in the dummy form: the edit, submit and withdraw operations answer 409.
    ("cases.edit", "POST", "/dossiers/{case}/modifier", only(409, *CLINICAL)),
    ("cases.submit", "POST", "/dossiers/{case}/soumettre", only(409, *CLINICAL)),
    ("cases.withdraw", "GET", "/dossiers/{case}/retirer", only(200, *CLINICAL)),
    ("cases.withdraw", "POST", "/dossiers/{case}/retirer", only(409, *CLINICAL)),
    # No document type: the form is shown again with the message.
    (
        "cases.attachment_upload",
        "POST",
        "/dossiers/{case}/pieces-jointes",
        only(200, *CLINICAL),
    ),
    (
        "cases.attachment_download",
        "GET",
        "/dossiers/{case}/pieces-jointes/{attachment}",
        only(200, *CLINICAL),
    ),
    # No reason: the coordination gets the form again with the message; a physician who did
    # not upload the attachment is refused.
    (
        "cases.attachment_withdraw",
        "POST",
        "/dossiers/{case}/pieces-jointes/{attachment}/retirer",
        only(200, "coordinator"),
    ),
    (
        "cases.rcp_required_items",
        "GET",
        "/annuaire/rcp/{rcp}/donnees-minimales",
        only(200, *DIRECTORY_EDITORS),
    ),
    (
        "cases.rcp_required_items",
        "POST",
        "/annuaire/rcp/{rcp}/donnees-minimales",
        only(302, *DIRECTORY_EDITORS),
    ),
    # Attendance and quorum: physicians may view; coordinators and the RCP's coordinating
    # physician record (a physician who does not coordinate this RCP gets 403 on POST).
    ("attendance.page", "GET", "/seances/{session}/presences", only(200, *CLINICAL)),
    # No professional chosen: the form is shown again with the message.
    ("attendance.add", "POST", "/seances/{session}/presences", only(200, "coordinator")),
    # No value: a French message, back to the page.
    (
        "attendance.set_mode",
        "POST",
        "/seances/{session}/presences/{attendance}/mode",
        only(302, "coordinator"),
    ),
    (
        "attendance.set_quorum_member",
        "POST",
        "/seances/{session}/presences/{attendance}/quorum",
        only(302, "coordinator"),
    ),
    (
        "attendance.depart",
        "POST",
        "/seances/{session}/presences/{attendance}/depart",
        only(302, "coordinator"),
    ),
    ("attendance.sheet", "GET", "/seances/{session}/emargement", only(200, *MEETING_VIEWERS)),
    (
        "attendance.case_specialty_add",
        "POST",
        "/seances/{session}/dossiers/{agenda_case}/specialites",
        only(302, "coordinator"),
    ),
    (
        "attendance.case_specialty_remove",
        "POST",
        "/seances/{session}/dossiers/{agenda_case}/specialites/retirer",
        only(302, "coordinator"),
    ),
    # Last of the attendance rows: it deletes the attendance.
    (
        "attendance.remove",
        "POST",
        "/seances/{session}/presences/{attendance}/supprimer",
        only(302, "coordinator"),
    ),
    # Sessions and agendas: coordinators and administrators manage; physicians view the list,
    # the agenda and the documents.
    ("meetings.index", "GET", "/seances", only(200, *MEETING_VIEWERS)),
    # No RCP chosen: a French message, back to the list.
    ("meetings.generate", "POST", "/seances/generer", only(302, *MEETING_MANAGERS)),
    ("meetings.new", "GET", "/seances/nouvelle?rcp={rcp}", only(200, *MEETING_MANAGERS)),
    ("meetings.new", "POST", "/seances/nouvelle?rcp={rcp}", only(200, *MEETING_MANAGERS)),
    ("meetings.edit", "GET", "/seances/{session}/modifier", only(200, *MEETING_MANAGERS)),
    ("meetings.edit", "POST", "/seances/{session}/modifier", only(200, *MEETING_MANAGERS)),
    # No target status: 400 with the message.
    ("meetings.change_status", "POST", "/seances/{session}/statut", only(400, *MEETING_MANAGERS)),
    ("meetings.detail", "GET", "/seances/{session}", only(200, *MEETING_VIEWERS)),
    # No case, mode, direction or reason: the agenda page again with the message (400); no
    # version: 409.
    (
        "meetings.assign",
        "POST",
        "/seances/{session}/ordre-du-jour/ajouter",
        only(400, *MEETING_MANAGERS),
    ),
    (
        "meetings.update_item",
        "POST",
        "/seances/{session}/ordre-du-jour/{item}/modifier",
        only(400, *MEETING_MANAGERS),
    ),
    (
        "meetings.move",
        "POST",
        "/seances/{session}/ordre-du-jour/{item}/deplacer",
        only(400, *MEETING_MANAGERS),
    ),
    (
        "meetings.reorder",
        "POST",
        "/seances/{session}/ordre-du-jour/ordre",
        only(409, *MEETING_MANAGERS),
    ),
    (
        "meetings.postpone",
        "POST",
        "/seances/{session}/dossiers/{case}/reporter",
        only(400, *MEETING_MANAGERS),
    ),
    (
        "meetings.refuse",
        "POST",
        "/seances/{session}/dossiers/{case}/refuser",
        only(400, *MEETING_MANAGERS),
    ),
    ("meetings.publish", "POST", "/seances/{session}/publier", only(409, *MEETING_MANAGERS)),
    (
        "meetings.agenda_pdf",
        "GET",
        "/seances/{session}/ordre-du-jour.pdf",
        only(200, *MEETING_VIEWERS),
    ),
    ("meetings.ics", "GET", "/seances/{session}/seance.ics", only(200, *MEETING_VIEWERS)),
    # Meeting mode and decisions (rcp_app/decisions).
    ("decisions.meeting", "GET", "/seances/{session}/reunion", only(200, *MEETING_VIEWERS)),
    (
        "decisions.meeting",
        "GET",
        "/seances/{session}/reunion?dossier={item}",
        only(200, *MEETING_VIEWERS),
    ),
    # The session is planned: no decision capture (409).
    (
        "decisions.save",
        "POST",
        "/seances/{session}/reunion/{item}/decision",
        only(409, *MEETING_VIEWERS),
    ),
    (
        "decisions.ready",
        "POST",
        "/seances/{session}/reunion/{item}/prete",
        only(409, *MEETING_VIEWERS),
    ),
    # Closing: coordinators, or the RCP's coordinating physician (not this one: 403).
    ("decisions.close", "GET", "/seances/{session}/cloture", only(200, "coordinator")),
    ("decisions.close", "POST", "/seances/{session}/cloture", only(409, "coordinator")),
    # Fiches (rcp_app/fiches): clinical roles read; only the RCP's coordinating physician or
    # a delegate validates and amends (none of these users is: 403).
    ("fiches.session_fiches", "GET", "/seances/{session}/fiches", only(200, *CLINICAL)),
    ("fiches.validate", "POST", "/seances/{session}/fiches/{item}/valider", only(403)),
    ("fiches.validate_all", "POST", "/seances/{session}/fiches/valider", only(403)),
    (
        "fiches.preview",
        "GET",
        "/seances/{session}/fiches/{fiche_item}/apercu.pdf",
        only(200, *CLINICAL),
    ),
    ("fiches.detail", "GET", "/fiches/{fiche}", only(200, *CLINICAL)),
    ("fiches.download_pdf", "GET", "/fiches/{fiche}/v1.pdf", only(200, *CLINICAL)),
    ("fiches.download_cda", "GET", "/fiches/{fiche}/v1.xml", only(200, *CLINICAL)),
    ("fhir.download", "GET", "/fiches/{fiche}/v1.fhir.json", only(200, *CLINICAL)),
    ("fiches.amend", "GET", "/fiches/{fiche}/avenant", only(403)),
    # The care programme: the world's fiche has one (its draft under amendment). The dummy form
    # carries no version: saving, amending and validating answer 409 to those who may, and the
    # secretariat may draft but not sign (403).
    ("pps.for_fiche", "GET", "/fiches/{fiche}/pps", only(302, *CLINICAL)),
    ("pps.for_fiche", "POST", "/fiches/{fiche}/pps", only(302, *CLINICAL)),
    ("pps.edit", "GET", "/pps/{care_plan}/modifier", only(200, *CLINICAL)),
    ("pps.edit", "POST", "/pps/{care_plan}/modifier", only(409, *CLINICAL)),
    ("pps.validate", "POST", "/pps/{care_plan}/valider", only(409, "physician")),
    ("pps.amend", "POST", "/pps/{care_plan}/mise-a-jour", only(409, *CLINICAL)),
    (
        "pps.cancel_amendment",
        "POST",
        "/pps/{care_plan}/mise-a-jour/abandon",
        only(409, *CLINICAL),
    ),
    ("pps.detail", "GET", "/pps/{care_plan}", only(200, *CLINICAL)),
    ("pps.download_pdf", "GET", "/pps/{care_plan}/v1.pdf", only(200, *CLINICAL)),
    ("pps.download_cda", "GET", "/pps/{care_plan}/v1.xml", only(200, *CLINICAL)),
    ("pps.print_pdf", "GET", "/pps/{care_plan}/v1/imprimer", only(200, *CLINICAL)),
    ("fiches.amend", "POST", "/fiches/{fiche}/avenant", only(403)),
    # The public verification page (no code given: the form again with the message).
    ("fiches.verify", "GET", "/verifier", same_for_all(200)),
    ("fiches.verify", "POST", "/verifier", same_for_all(200)),
    # Follow-ups (rcp_app/followups): clinical roles; the world's physician is the referring
    # physician and its coordinator runs the RCP. No version in the dummy form: 409; a pending
    # follow-up is no deviation: the re-presentation is refused (message, back to the page).
    ("followups.index", "GET", "/suivis", only(200, *CLINICAL)),
    ("followups.unrecorded", "GET", "/suivis/sans-suivi", only(200, *CLINICAL)),
    ("followups.of_fiche", "GET", "/suivis/fiche/{fiche}", only(302, *CLINICAL)),
    ("followups.record", "GET", "/suivis/{follow_up}", only(200, *CLINICAL)),
    ("followups.record", "POST", "/suivis/{follow_up}", only(409, *CLINICAL)),
    ("followups.represent", "POST", "/suivis/{follow_up}/representer", only(302, *CLINICAL)),
    # Delivery: the coordinators' dashboard, the GP's inbox (this GP has no patient: 404 on a
    # fiche), the development mailbox (not in production).
    ("delivery.dashboard", "GET", "/diffusion", only(200, "coordinator")),
    (
        "delivery.resend",
        "POST",
        "/diffusion/{transmission}/renvoyer",
        only(302, "coordinator"),
    ),
    ("delivery.gp_inbox", "GET", "/boite", only(200, "gp")),
    ("delivery.gp_download", "GET", "/boite/fiches/{fiche}.pdf", only(404, "gp")),
    ("delivery.gp_care_plan", "GET", "/boite/pps/{care_plan}.pdf", only(404, "gp")),
    # The stored messages carry the fiches (patient data): coordinators only, like the cases.
    ("delivery.mailbox_index", "GET", "/dev/courriels", only(200, "coordinator")),
    (
        "delivery.mailbox_message",
        "GET",
        "/dev/courriels/absent.eml",
        only(404, "coordinator"),
    ),
    (
        "delivery.mailbox_source",
        "GET",
        "/dev/courriels/absent.eml/source",
        only(404, "coordinator"),
    ),
    (
        "delivery.mailbox_attachment",
        "GET",
        "/dev/courriels/absent.eml/pieces/1",
        only(404, "coordinator"),
    ),
    # Last of the agenda rows: it takes the case off the agenda.
    (
        "meetings.unassign",
        "POST",
        "/seances/{session}/ordre-du-jour/{item}/retirer",
        only(302, *MEETING_MANAGERS),
    ),
    # Directory.
    ("directory.establishments", "GET", "/annuaire/etablissements", only(200, "admin")),
    ("directory.establishment_new", "GET", "/annuaire/etablissements/nouveau", only(200, "admin")),
    ("directory.establishment_new", "POST", "/annuaire/etablissements/nouveau", only(200, "admin")),
    (
        "directory.establishment_edit",
        "GET",
        "/annuaire/etablissements/{establishment}/modifier",
        only(200, "admin"),
    ),
    # The form has every field it needs from the object except the version: 409.
    (
        "directory.establishment_edit",
        "POST",
        "/annuaire/etablissements/{establishment}/modifier",
        only(409, "admin"),
    ),
    ("directory.professionals", "GET", "/annuaire/professionnels", only(200, *DIRECTORY_EDITORS)),
    (
        "directory.professional_new",
        "GET",
        "/annuaire/professionnels/nouveau",
        only(200, *DIRECTORY_EDITORS),
    ),
    (
        "directory.professional_new",
        "POST",
        "/annuaire/professionnels/nouveau",
        only(200, *DIRECTORY_EDITORS),
    ),
    (
        "directory.professional_edit",
        "GET",
        "/annuaire/professionnels/{professional}/modifier",
        only(200, *DIRECTORY_EDITORS),
    ),
    # The form has every field it needs from the object except the version: 409.
    (
        "directory.professional_edit",
        "POST",
        "/annuaire/professionnels/{professional}/modifier",
        only(409, *DIRECTORY_EDITORS),
    ),
    ("directory.rcps", "GET", "/annuaire/rcp", only(200, "admin", *CLINICAL)),
    ("directory.rcp_detail", "GET", "/annuaire/rcp/{rcp}", only(200, "admin", *CLINICAL)),
    ("directory.rcp_new", "GET", "/annuaire/rcp/nouvelle", only(200, *DIRECTORY_EDITORS)),
    ("directory.rcp_new", "POST", "/annuaire/rcp/nouvelle", only(200, *DIRECTORY_EDITORS)),
    ("directory.rcp_edit", "GET", "/annuaire/rcp/{rcp}/modifier", only(200, *DIRECTORY_EDITORS)),
    ("directory.rcp_edit", "POST", "/annuaire/rcp/{rcp}/modifier", only(200, *DIRECTORY_EDITORS)),
    # Administration: admin only.
    ("admin.users", "GET", "/admin/utilisateurs", only(200, "admin")),
    ("admin.user_new", "GET", "/admin/utilisateurs/nouveau", only(200, "admin")),
    ("admin.user_new", "POST", "/admin/utilisateurs/nouveau", only(200, "admin")),
    ("admin.user_edit", "GET", "/admin/utilisateurs/{user}/modifier", only(200, "admin")),
    ("admin.user_edit", "POST", "/admin/utilisateurs/{user}/modifier", only(200, "admin")),
    ("admin.user_password", "GET", "/admin/utilisateurs/{user}/mot-de-passe", only(200, "admin")),
    ("admin.user_password", "POST", "/admin/utilisateurs/{user}/mot-de-passe", only(200, "admin")),
    ("admin.user_unlock", "POST", "/admin/utilisateurs/{user}/deverrouiller", only(302, "admin")),
    (
        "admin.user_reset_totp",
        "POST",
        "/admin/utilisateurs/{user}/reinitialiser-double-authentification",
        only(302, "admin"),
    ),
    ("admin.audit_log", "GET", "/admin/audit", only(200, "admin")),
    ("admin.audit_verify", "GET", "/admin/audit/verification", only(200, "admin")),
    ("terminology.index", "GET", "/admin/terminologies", only(200, "admin")),
    # Terminology type-ahead (JSON): whoever fills in clinical forms, and administrators.
    (
        "terminology.search",
        "GET",
        "/terminologie/recherche?jeu=JDV_Tumeur_CISIS&q=sein",
        only(200, "admin", *CLINICAL),
    ),
    # Live stage preview of the case form (JSON, codes only): whoever fills in case forms.
    (
        "staging.stage_preview",
        "GET",
        "/stade/apercu?topographie=C50.4&ct=T2&cn=N1&cm=M0",
        only(200, *CLINICAL),
    ),
    # Exceptional access (« bris de glace »): physicians open it (this one is in the patient's
    # care team: sent to the record; outside it, tests/test_exceptional_access.py); the review
    # page lists what each one reviews (the dpo: all).
    (
        "access.exceptional_access",
        "GET",
        "/patients/{patient}/acces-exceptionnel",
        only(302, "physician"),
    ),
    (
        "access.exceptional_access",
        "POST",
        "/patients/{patient}/acces-exceptionnel",
        only(302, "physician"),
    ),
    (
        "access.exceptional_review_list",
        "GET",
        "/acces-exceptionnels",
        only(200, "physician", "dpo"),
    ),
    (
        "access.exceptional_review",
        "POST",
        "/acces-exceptionnels/999999999/revue",
        only(404, "physician", "dpo"),
    ),
    # The data-protection officer's pages.
    ("privacy.audit_log", "GET", "/protection-des-donnees/journal", only(200, "dpo")),
    ("privacy.patients", "GET", "/protection-des-donnees/patients?q=DUPONT", only(200, "dpo")),
    (
        "privacy.patient_accesses",
        "GET",
        "/protection-des-donnees/patients/{patient}/acces",
        only(200, "dpo"),
    ),
    (
        "privacy.patient_accesses_csv",
        "GET",
        "/protection-des-donnees/patients/{patient}/acces.csv",
        only(200, "dpo"),
    ),
    # Statistics: the coordinators (their RCPs) and the coordinating physicians.
    ("reports.page", "GET", "/statistiques", only(200, *CLINICAL)),
    ("reports.figures_csv", "GET", "/statistiques/indicateurs.csv", only(200, *CLINICAL)),
    ("reports.workbook", "GET", "/statistiques/indicateurs.xlsx", only(200, *CLINICAL)),
    (
        "reports.table_csv",
        "GET",
        "/statistiques/tableau.csv?tableau=activity.by_rcp",
        only(200, *CLINICAL),
    ),
    ("reports.annual_report", "GET", "/statistiques/rapport-annuel.pdf", only(200, *CLINICAL)),
    ("reports.cases", "GET", "/statistiques/dossiers?population=presented", only(200, *CLINICAL)),
    (
        "reports.cases_csv",
        "GET",
        "/statistiques/dossiers.csv?population=presented",
        only(200, *CLINICAL),
    ),
    (
        "reports.cases_xlsx",
        "GET",
        "/statistiques/dossiers.xlsx?population=presented",
        only(200, *CLINICAL),
    ),
    # Static files are public (CSS and JS only; nothing about patients lives there).
    ("static", "GET", "/static/css/app.css", same_for_all(200)),
    # Last: it ends the session.
    ("auth.logout", "POST", "/deconnexion", same_for_all(302)),
]


# --- rows derived from the route table -------------------------------------------------------

# A POST to the OAuth endpoints without client credentials: refused (no grant type: 400,
# no client: 401), whoever is logged in.
NO_CLIENT_CREDENTIALS = frozenset({400, 401})
# A dummy form posted to an administration page by its capability's role: the form again
# (200, 400, 422), a conflict without version (409) or a redirect (302).
THROUGH = frozenset({200, 302, 400, 409, 422})
# Blueprints whose rows are derived from their views' capability (rcp_app/access/guards.py).
DERIVED_BLUEPRINTS = ("api_admin",)
# URL placeholder → key of the world's ids (or a fixed value), for the derived rows.
DERIVED_ARGUMENTS: dict[str, str | int] = {
    "patient_id": "patient",
    "case_id": "case",
    "session_id": "session",
    "decision_id": "decision",
    "fiche_id": "fiche",
    "version": 1,
    "subscription_id": "subscription",
    "client_id": "api_client",
}


def _template(endpoint: str, rule: str) -> str:
    def placeholder(match) -> str:
        name = match.group(1)
        if name not in DERIVED_ARGUMENTS:
            pytest.fail(f"{rule} ({endpoint}): add <{name}> to DERIVED_ARGUMENTS")
        key = DERIVED_ARGUMENTS[name]
        return "{" + key + "}" if isinstance(key, str) else str(key)

    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", placeholder, rule)


def api_rows(app) -> list[tuple[str, str, str, dict]]:
    """/api/v1: 401 to every role on every guarded operation (the bearer token opens them,
    the session cookie never); the public routes answer everyone alike."""
    rows = [
        (route.endpoint, route.method, _template(route.endpoint, route.rule), same_for_all(401))
        for route in api_operations(app)
    ]
    for route in public_api_routes(app):
        status = 200 if route.method == "GET" else NO_CLIENT_CREDENTIALS
        rows.append(
            (
                route.endpoint,
                route.method,
                _template(route.endpoint, route.rule),
                same_for_all(status),
            )
        )
    return rows


def capability_rows(app) -> list[tuple[str, str, str, dict]]:
    """The pages of DERIVED_BLUEPRINTS: their capability's roles get the page (GET 200) or
    past the door with a dummy form (THROUGH), the other roles 403, anonymous the login."""
    rows = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in DERIVED_BLUEPRINTS:
            continue
        capability = getattr(app.view_functions[rule.endpoint], "rcp_capability", None)
        assert capability is not None, f"{rule.rule} ({rule.endpoint}) names no capability"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            ok = 200 if method == "GET" else THROUGH
            rows.append(
                (
                    rule.endpoint,
                    method,
                    _template(rule.endpoint, rule.rule),
                    only(ok, *CAPABILITIES[capability]),
                )
            )
    return rows


def matrix(app) -> list[tuple[str, str, str, dict]]:
    """MATRIX and the rows derived from the route table; the logout stays last."""
    derived = api_rows(app) + capability_rows(app)
    return MATRIX[:-1] + derived + MATRIX[-1:]


def accepts(expected, status: int) -> bool:
    return status in expected if isinstance(expected, frozenset) else status == expected


def test_every_route_is_in_the_matrix(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(endpoint, method) for endpoint, method, _, _ in matrix(app)}
    assert routes - covered == set(), "routes missing from the access matrix"
    assert covered - routes == set(), "matrix rows for routes that no longer exist"
    listed = {(e, m) for e, m, _, _ in MATRIX}
    derived = {(e, m) for e, m, _, _ in api_rows(app) + capability_rows(app)}
    assert listed & derived == set(), "rows both listed in MATRIX and derived from the routes"
    assert MATRIX[-1][0] == "auth.logout", "the logout row must stay last (it ends the session)"


def test_the_api_rows_are_derived_not_listed(app):
    """No MATRIX row names an /api/v1 route: they are all derived (``api_rows``), so a new
    API operation gets its 401 row the day it exists."""
    listed = [template for _, _, template, _ in MATRIX if is_api_rule(template)]
    assert listed == []
    assert {(e, m) for e, m, _, _ in api_rows(app)} >= {r.key for r in api_operations(app)}
    assert len(api_operations(app)) >= 10, "the API's operations were not found"


def test_the_matrix_agrees_with_the_capabilities(app):
    """A role outside a view's capability (rcp_app/access/guards.py ``CAPABILITIES``) gets 403
    in every row of that route: the table and the code name the same roles."""
    disagreements = []
    for endpoint, method, template, expected in matrix(app):
        capability = getattr(app.view_functions.get(endpoint), "rcp_capability", None)
        if capability is None:
            continue
        disagreements += [
            f"{method} {template} ({endpoint}): {role} → {status}, outside « {capability} »"
            for role, status in expected.items()
            if role != "anonymous" and role not in CAPABILITIES[capability] and status != 403
        ]
    assert disagreements == [], "\n".join(disagreements)


@pytest.fixture
def world(app, make):
    """One object of each kind, for the URLs that take an id; the physician and the
    coordinator who visit them are in the care team (referring physician of every case; a
    scope on the RCP)."""
    establishment = make.establishment()
    rcp = make.rcp(establishment_id=establishment.id)
    physician = make.physician()
    coordinator = make.user(role="coordinator")
    make.coordinator_scope(coordinator.id, rcp_id=rcp.id)
    case = make.case(rcp_id=rcp.id, requester_id=physician.professional_id)
    # A draft opens only itself: the physician's submitted case of the same patient makes them
    # part of the patient's care team (the record, the identity edit).
    make.submitted_case(
        rcp_id=rcp.id,
        session_id=make.session(rcp.id).id,
        patient_id=case.patient_id,
        requester_id=physician.professional_id,
    )
    item = make.agenda_item(
        case.session_id, _scheduled_case(make, rcp.id, case.session_id, physician)
    )
    return {
        **_api_world(app, establishment.id),
        "patient": case.patient_id,  # the patient of the care team's case
        "establishment": establishment.id,
        "professional": make.professional(establishment_id=establishment.id).id,
        "rcp": rcp.id,
        "user": make.user(role="coordinator").id,
        "case": case.id,
        "attachment": make.attachment(case.id, case.created_by_id).id,
        "session": case.session_id,
        "attendance": make.attendance(case.session_id).id,
        "item": item.id,
        # On the agenda: the attendance page's per-case routes only know agenda items.
        "agenda_case": item.case_id,
        **_fiche_world(app, make, case.session_id, physician),
        "users": {"physician": physician, "coordinator": coordinator},
    }


def _api_world(app, establishment_id: int) -> dict:
    """An API client of the establishment (the administration pages' object) and one of its
    webhook subscriptions."""
    from rcp_app.api.models import SCOPES, WebhookSubscription
    from rcp_app.api.operations import register_client
    from rcp_app.core.timeutil import utcnow
    from rcp_app.directory.models import Establishment
    from rcp_app.extensions import db

    with app.app_context():
        establishment = db.session.get(Establishment, establishment_id)
        client = register_client("DPI du tableau", establishment, list(SCOPES)).client
        db.session.flush()
        subscription = WebhookSubscription(
            client_id=client.id,
            url="https://dpi.hopital.test/rcp",
            events="fiche.signed",
            secret="cle-du-tableau",
            created_at=utcnow(),
        )
        db.session.add(subscription)
        db.session.commit()
        return {"api_client": client.id, "subscription": subscription.id}


def _scheduled_case(make, rcp_id: int, session_id: int, physician) -> int:
    return make.submitted_case(
        rcp_id=rcp_id,
        session_id=session_id,
        status="scheduled",
        requester_id=physician.professional_id,
    ).id


def _fiche_world(app, make, session_id: int, physician=None) -> dict:
    """A decision with a stored fiche (rows only: the doors are tested, not the signature)."""

    from rcp_app.core.timeutil import utcnow
    from rcp_app.decisions.models import Decision
    from rcp_app.delivery.models import Transmission
    from rcp_app.extensions import db
    from rcp_app.fiches.models import Fiche
    from rcp_app.meetings.models import AgendaItem, MeetingSession

    case_id = None  # without a physician: a new case, of a new referring physician
    if physician is not None:
        with app.app_context():
            rcp_id = db.session.get(MeetingSession, session_id).rcp_id
        case_id = _scheduled_case(make, rcp_id, session_id, physician)
    item = make.agenda_item(session_id, case_id)
    validator = make.user(role="physician")
    with app.app_context():
        item_row = db.session.get(AgendaItem, item.id)
        decision = Decision(
            item_id=item.id, state="validated", outcome="discussed", updated_at=utcnow()
        )
        fiche = Fiche(
            set_id="5b9e3f7a-1c2d-4e8f-a6b7-c8d9e0f1a2b3",
            decision=decision,
            case_id=item.case_id,
            patient_id=item_row.case.patient_id,
            session_id=session_id,
            created_at=utcnow(),
        )
        version = stored_fiche_version(
            fiche,
            validator.id,
            code="K7QF-3MZP-9TXD",
            document_id="0d4a2c1e-6f0b-4c8e-9a53-2b1e7f3c9d10",
            pdf=b"%PDF-1.7 matrix",
        )
        transmission = Transmission(
            message_id="<matrix@rcp.test>",
            kind="fiche",
            recipient_role="requester",
            recipient_address="requester@rcp.test",
            professional_id=make.professional().id,
            fiche_version=version,
            status="failed",
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
        plan, plan_version = stored_care_plan(
            fiche,
            validator.id,
            document_id="3f6b1d2e-8a4c-4b7d-9e10-2c3d4e5f6a70",
            pdf=b"%PDF-1.7 matrix pps",
        )
        db.session.add_all([decision, fiche, version, transmission, plan, plan_version])
        follow_up = follow_up_for(fiche, item_row.case)
        db.session.add(follow_up)
        db.session.commit()
        return {
            "care_plan": plan.id,
            "fiche": fiche.id,
            "fiche_item": item.id,
            "follow_up": follow_up.id,
            "transmission": transmission.id,
            "decision": decision.id,
        }


@pytest.mark.parametrize("role", ROLES)
def test_route_role_matrix(app, client, make, world, role):
    if role != "anonymous":
        user = world["users"].get(role) or make.user(role=role)
        assert (
            client.post(
                "/connexion", data={"username": user.username, "password": PASSWORD}
            ).status_code
            == 302
        )
    failures = []
    for endpoint, method, template, expected in matrix(app):
        url = template.format(**world)
        # A dummy field: Flask-WTF treats an empty POST body as "no form data" and would
        # fall back to the object's values.
        data = {"_": "1"} if method in ("POST", "PUT") else None
        response = client.open(url, method=method, data=data)
        response.close()
        if not accepts(expected[role], response.status_code):
            failures.append(
                f"{method} {url} ({endpoint}): {response.status_code}, expected {expected[role]}"
            )
        elif is_api_rule(url) and response.status_code == 401:
            # The API's refusal is a problem document naming the bearer token, not a page.
            if response.mimetype != "application/problem+json" and "error" not in (
                response.get_json(silent=True) or {}
            ):
                failures.append(f"{method} {url} ({endpoint}): 401 as {response.mimetype}")
        elif (
            response.status_code == 302
            and expected[role] == LOGIN
            and role == "anonymous"
            and endpoint not in ("auth.login", "auth.totp", "auth.totp_enrol_pending")
        ):
            assert "/connexion" in response.headers["Location"], url
    assert failures == [], "\n".join(failures)
