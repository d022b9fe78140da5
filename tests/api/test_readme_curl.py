"""The README's « Connecter un système hospitalier » examples, run as written.

Every ``sh`` block of the section marked ``<!-- api-example -->`` is run by bash, in order,
against a live server (tests/support/live.py), with real ``curl`` and ``jq``. The README's own
variables are used: ``export RCP=…`` gets the live server's address, and the
``flask … rcp api create-client`` command is run in-process (the click runner on the live
application), its ``CLIENT_ID`` and ``SECRET`` taking the place of the page's placeholders.
The server records each API call: their sequence and statuses must be the expected ones, and
what the examples created (patient, case, subscription, downloaded documents) is checked.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import request, request_finished
from markdown_it import MarkdownIt
from sqlalchemy import select

from rcp_app.api.models import (
    SCOPES,
    ApiClient,
    ApiToken,
    EstablishmentPatient,
    WebhookSubscription,
)
from rcp_app.cases.models import Case
from rcp_app.directory.models import Establishment, Rcp
from rcp_app.extensions import db
from rcp_app.meetings.operations import ensure_upcoming_sessions
from rcp_app.patients.models import Patient
from tests.fiches.support import signed_world
from tests.support.live import live_server

ROOT = Path(__file__).resolve().parents[2]
TITLE = "Connecter un système hospitalier"
MARK = "<!-- api-example -->"

CREATE_CLIENT = re.compile(
    r'eval "\$\((flask --app wsgi rcp api create-client .*?)\)"$', re.S | re.M
)
PLACEHOLDER = re.compile(r"^export (RCP|CLIENT_ID|SECRET)=.*$", re.M)

# (method, path pattern, status) of each call the examples make, in order.
EXPECTED_CALLS = [
    ("POST", r"/api/v1/oauth/token", 200),
    ("GET", r"/api/v1/patients\?ipp=800123456", 200),
    ("POST", r"/api/v1/patients", 201),
    ("GET", r"/api/v1/sessions\?from=[0-9-]{10}&status=planned", 200),
    ("POST", r"/api/v1/cases", 201),
    ("GET", r"/api/v1/cases/\d+/decision", 200),
    ("GET", r"/api/v1/fiches\?since=2025-01-01", 200),
    ("GET", r"/api/v1/fiches/\d+/versions/1/pdf", 200),
    ("GET", r"/api/v1/fiches/\d+/versions/1/cda", 200),
    ("GET", r"/api/v1/fiches/\d+/versions/1/fhir", 200),
    ("POST", r"/api/v1/webhooks", 201),
    ("GET", r"/api/v1/patients/\d+", 200),
    ("PUT", r"/api/v1/patients/\d+", 200),
    ("PUT", r"/api/v1/patients/\d+", 412),
    ("POST", r"/api/v1/oauth/revoke", 200),
    ("GET", r"/api/v1/openapi\.json", 200),
]


def _section(markdown: str) -> list | None:
    """The section's tokens (markdown-it), from its heading to the next one of its level."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    start = level = None
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        if start is None and TITLE in tokens[index + 1].content:
            start, level = index, int(token.tag[1])
        elif start is not None and int(token.tag[1]) <= level:
            return tokens[start:index]
    return tokens[start:] if start is not None else None


def readme_section() -> list:
    section = _section((ROOT / "README.md").read_text(encoding="utf-8"))
    if section is None:
        pytest.fail(f"README.md n'a pas de section « {TITLE} »")
    return section


def examples(section: list) -> list[str]:
    """The marked sh blocks; every curl of the section's code must be in one of them."""
    marked, unmarked_curls = [], []
    for index, token in enumerate(section):
        if token.type != "fence":
            continue
        previous = section[index - 1] if index else None
        is_marked = previous is not None and previous.type == "html_block"
        if is_marked and MARK in previous.content and token.info.strip() == "sh":
            marked.append(token.content)
        elif re.search(r"^\s*(export \w+=\$\()?curl ", token.content, re.M):
            unmarked_curls.append(token.content)
    assert unmarked_curls == [], "curl examples the test would not run (mark them)"
    return marked


def _tools_or_skip() -> None:
    for tool in ("curl", "jq", "bash"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} n'est pas installé : exemples du README non exécutés")


def _run_create_client(live, command: str) -> dict[str, str]:
    """The README's ``flask … create-client`` on the live application: CLIENT_ID, SECRET."""
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:3] == ["flask", "--app", "wsgi"], words
    result = live.app.test_cli_runner().invoke(args=words[3:])
    assert result.exit_code == 0, result.output
    values = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(values) == {"CLIENT_ID", "SECRET"}
    return values


def _script(blocks: list[str], values: dict[str, str]) -> str:
    def exported(match: re.Match) -> str:
        return f"export {match.group(1)}={shlex.quote(values[match.group(1)])}"

    script = "\n".join(blocks)
    script = CREATE_CLIENT.sub(
        lambda _m: f"export CLIENT_ID={values['CLIENT_ID']} SECRET={values['SECRET']}", script
    )
    return "set -euo pipefail\n" + PLACEHOLDER.sub(exported, script)


def _world(live, finess: str, requester_rpps: str) -> int:
    """The establishment the README's command names (its FINESS), with an RCP holding a
    signed fiche and upcoming sessions, and the requester the README's case names."""
    world = signed_world(live.app, live.make)
    live.make.professional(rpps=requester_rpps)
    with live.app.app_context():
        rcp = db.session.get(Rcp, world.rcp_id)
        db.session.get(Establishment, rcp.establishment_id).finess = finess
        assert ensure_upcoming_sessions(rcp)  # as the scheduler does
        db.session.commit()
        return rcp.establishment_id


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with live_server(tmp_path_factory) as server:
        yield server


def test_readme_lists_every_scope():
    text = "".join(token.content for token in readme_section())
    missing = [scope for scope in SCOPES if f"`{scope}`" not in text]
    assert missing == []


def test_readme_curl_examples_run(live, tmp_path):
    _tools_or_skip()
    blocks = examples(readme_section())
    script = "\n".join(blocks)
    [command] = CREATE_CLIENT.findall(script)
    words = shlex.split(command.replace("\\\n", " "))
    [requester_rpps] = re.findall(r'"requester_rpps": "([0-9]{11})"', script)
    establishment_id = _world(live, words[words.index("--establishment") + 1], requester_rpps)
    values = {"RCP": f"http://127.0.0.1:{live.port}", **_run_create_client(live, command)}

    calls: list[tuple[str, str, int]] = []
    refusals: list[str] = []  # the problem documents, to tell why a call went wrong

    def record(_sender, response, **_extra):
        if request.path.startswith("/api/"):
            path = request.full_path.rstrip("?")
            calls.append((request.method, path, response.status_code))
            if response.status_code >= 400 and not response.direct_passthrough:
                refusals.append(f"{request.method} {path}: {response.get_data(as_text=True)}")

    request_finished.connect(record, live.app)
    try:
        result = subprocess.run(
            ["bash", "-c", _script(blocks, values)],
            cwd=tmp_path,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LC_ALL": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        request_finished.disconnect(record, live.app)
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]

    assert [(method, status) for method, _path, status in calls] == [
        (method, status) for method, _pattern, status in EXPECTED_CALLS
    ], "\n".join([*map(str, calls), *refusals])
    for (method, path, _status), (_m, pattern, _s) in zip(calls, EXPECTED_CALLS, strict=True):
        assert re.fullmatch(pattern, path), (method, path, pattern)

    # What the examples printed and saved.
    assert (tmp_path / "fiche.pdf").read_bytes().startswith(b"%PDF-")
    assert b"<ClinicalDocument" in (tmp_path / "fiche-cda.xml").read_bytes()
    bundle = json.loads((tmp_path / "fiche-fhir.json").read_text(encoding="utf-8"))
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "document")
    assert json.loads((tmp_path / "openapi.json").read_text())["openapi"].startswith("3.1")
    assert "current_etag" in result.stdout  # the 412 problem document, printed

    with live.app.app_context():
        client = db.session.scalar(
            select(ApiClient).where(ApiClient.client_id == values["CLIENT_ID"])
        )
        assert client.establishment_id == establishment_id
        tokens = db.session.scalars(select(ApiToken).where(ApiToken.client_id == client.id))
        assert [token.revoked_at is not None for token in tokens] == [True]  # « fin de traitement »
        patient = db.session.scalar(select(Patient).where(Patient.ipp == "800123456"))
        assert (patient.birth_name, patient.used_name, patient.version) == ("DUPONT", "MARTIN", 2)
        assert db.session.get(EstablishmentPatient, (establishment_id, patient.id)) is not None
        case = db.session.scalar(select(Case).where(Case.patient_id == patient.id))
        assert (case.status, case.created_by_client_id) == ("submitted", client.id)
        assert case.question == "Chirurgie d'emblée ou traitement néoadjuvant ?"
        subscription = db.session.scalar(
            select(WebhookSubscription).where(WebhookSubscription.client_id == client.id)
        )
        assert subscription.url == "https://dpi.chu-riviere-claire.fr/rcp/evenements"
