"""Numbers and links from users: one rule each (rcp_app/core/converters.py, core/links.py).

Ids in URLs and forms, page numbers and versions are ASCII digits within the INTEGER range;
anything else is « not found » or the field's message, never a 500. Every link field is
https only, without white space or control characters, and documents built from stored links
(.ics) never break on a value saved before the rule.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import update

import rcp_app
from rcp_app.core.converters import MAX_ID, parse_int, parse_version
from rcp_app.core.forms import BaseForm
from rcp_app.core.links import HttpsLink, safe_link
from rcp_app.extensions import db
from rcp_app.meetings.documents import ics_bytes
from rcp_app.meetings.models import MeetingSession

# Superscript two passes str.isdigit() but not int(); Arabic-Indic three passes both.
HOSTILE_IDS = ("99999999999999999999", str(MAX_ID + 1), "²", "٣", "-1", "0", "1e23", "1_0")
HOSTILE_NUMBERS = (*HOSTILE_IDS, "", " ", "abc", "9" * 5000)
CRLF_LINK = "https://visio.exemple.fr/rcp\r\nBEGIN:VEVENT\r\nSUMMARY:injecté"


@pytest.mark.parametrize("raw", HOSTILE_NUMBERS)
def test_parse_int_takes_ascii_digits_within_bounds_only(raw):
    assert parse_int(raw) is None


@pytest.mark.parametrize(
    "raw, expected", [("1", 1), (" 42 ", 42), (str(MAX_ID), MAX_ID), (7, 7), (True, None)]
)
def test_parse_int_reads_plain_numbers(raw, expected):
    assert parse_int(raw) == expected


def test_versions_start_at_zero():
    assert parse_version("0") == 0 and parse_version("²") is None


def _id_rules(app):
    return [rule for rule in app.url_map.iter_rules() if any(rule.arguments)]


def _url_with(rule, value: str) -> str:
    return re.sub(r"<(?:int:)?(\w+)>", value, rule.rule)


def test_every_id_in_every_route_uses_the_bounded_ascii_converter(app):
    from rcp_app.core.converters import IdConverter

    for rule in _id_rules(app):
        for name, converter in rule._converters.items():
            if rule.endpoint == "static" or (
                rule.endpoint.startswith("delivery.mailbox_") and name == "name"
            ):
                continue  # a file name, not an id (mailbox_files.read_message checks it)
            assert isinstance(converter, IdConverter), (rule.rule, name)


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_hostile_ids_are_not_found_on_every_route(app, client, login, hostile):
    """Derived from the route table: every route with an id, every method, as a coordinator
    (the role that reaches most pages): not found, never 500 nor a page for another id."""
    login("coordinator")
    failures = []
    for rule in _id_rules(app):
        if rule.endpoint in ("static", "delivery.mailbox_message"):
            continue
        url = _url_with(rule, hostile)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"_": "1"})
            response.close()
            # 405: the same path exists for another method (its id is refused as well).
            if response.status_code not in (404, 405):
                failures.append(f"{method} {url}: {response.status_code}")
    assert failures == []


def test_examples_of_the_issue(app, client, login, make):
    login("coordinator")
    rcp = make.rcp()
    for url in (
        "/seances?rcp=²",
        "/seances?rcp=99999999999999999999",
        "/seances/nouvelle?rcp=²",
        "/diffusion?page=²",
        "/diffusion?page=1e23",
        "/diffusion?page=99999999999999999999",
        "/patients?page=99999999999999999999",
        "/dossiers?page=99999999999999999999&rcp=²",
        "/dossiers/nouveau?patient=٣&rcp=99999999999999999999",
        "/annuaire/rcp?page=99999999999999999999&establishment=²",
        "/terminologie/recherche?jeu=JDV_Tumeur_CISIS&q=sein&limite=²",
    ):
        assert client.get(url).status_code < 500, url
    assert client.get("/patients/99999999999999999999").status_code == 404
    response = client.post("/seances/generer", data={"rcp_id": rcp.id, "count": "²"})
    assert response.status_code == 302


def test_autosave_version_with_unicode_digits_is_a_conflict(app, client, login, make):
    login("physician")
    rcp = make.rcp()
    session = make.session(rcp.id, status="in_progress")
    item = make.agenda_item(session.id)
    url = f"/seances/{session.id}/reunion/{item.id}/decision"
    for version in ("²", "٣", "99999999999999999999", 10**30):
        response = client.post(url, json={"outcome": "discussed", "version": version})
        assert response.status_code == 409, version
    response = client.post(url, json={"outcome": "discussed", "seconds_spent": "²", "version": 0})
    assert response.status_code == 400


def test_agenda_forms_with_unicode_digits_give_french_messages(app, client, login, make):
    login("coordinator")
    rcp = make.rcp()
    session = make.session(rcp.id)
    item = make.agenda_item(session.id)
    base = f"/seances/{session.id}/ordre-du-jour"
    for data, url in (
        ({"case_id": "²", "version": "1"}, f"{base}/ajouter"),
        ({"item_ids": ["²"], "version": "1"}, f"{base}/ordre"),
        ({"mode": "discussed", "estimated_minutes": "²"}, f"{base}/{item.id}/modifier"),
        ({"direction": "up", "version": "²"}, f"{base}/{item.id}/deplacer"),
    ):
        assert client.post(url, data=data).status_code in (400, 409), url


# --- links ---------------------------------------------------------------------------------


def _form_classes():
    for module in pkgutil.walk_packages(rcp_app.__path__, "rcp_app."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    seen, todo = set(), [BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return seen


def _link_columns():
    return sorted(
        f"{mapper.class_.__tablename__}.{column.key}"
        for mapper in db.Model.registry.mappers
        for column in sa_inspect(mapper.class_).columns
        if "url" in column.key or "link" in column.key
    )


def test_every_link_field_has_the_https_rule():
    """Every form field named like a link, or typed URLField, carries HttpsLink."""
    from wtforms import URLField

    fields = []
    for form in _form_classes():
        for name in dir(form):
            unbound = getattr(form, name, None)
            field_class = getattr(unbound, "field_class", None)
            if field_class is None:
                continue
            if "url" in name or "link" in name or issubclass(field_class, URLField):
                validators = unbound.kwargs.get("validators") or []
                assert any(isinstance(v, HttpsLink) for v in validators), (form, name)
                fields.append(f"{form.__name__}.{name}")
    assert {"RcpForm.video_url", "SessionForm.video_url"} <= set(fields)
    # A new link column must get a form field with the rule (and be listed here). A webhook's
    # address comes through the API, not a form: its rule (https only) is the API's, tested
    # with these same hostile links in tests/api/test_api_webhooks.py.
    assert _link_columns() == [
        "meeting_sessions.video_url",
        "rcps.video_url",
        "webhook_subscriptions.url",
    ]


@pytest.mark.parametrize(
    "link",
    ["http://visio.exemple.fr/rcp", CRLF_LINK, "https://visio.exemple.fr/a b", "javascript:x()"]
    + ["https://visio.exemple.fr/" + "a" * 500],
)
def test_session_and_rcp_forms_refuse_bad_links(app, client, login, make, link):
    from datetime import date, timedelta

    login("coordinator")
    rcp = make.rcp(weekday=None)
    day = date.today() + timedelta(days=30)
    data = {
        "date": day.isoformat(),
        "time": "17:30",
        "place": "Salle Pasteur",
        "video_url": link,
        "capacity": "12",
        "deadline_date": (day - timedelta(days=2)).isoformat(),
        "deadline_time": "12:00",
    }
    response = client.post(f"/seances/nouvelle?rcp={rcp.id}", data=data)
    assert response.status_code in (200, 400)
    assert "https://" in response.get_data(as_text=True)
    with client.application.app_context():
        assert db.session.query(MeetingSession).filter_by(rcp_id=rcp.id).count() == 0
    session = make.session(rcp.id)
    response = client.post(
        f"/seances/{session.id}/modifier", data={**data, "version": str(session.version)}
    )
    assert response.status_code in (200, 400)
    with client.application.app_context():
        assert db.session.get(MeetingSession, session.id).video_url is None


def test_ics_and_agenda_mail_survive_stored_control_characters(app, client, login, make):
    """Rows saved before the rule: the .ics leaves the bad link out and keeps one event."""
    login("coordinator")
    rcp = make.rcp(video_url="https://visio.exemple.fr/ok\nX")
    # (No NUL: PostgreSQL cannot store one; \x01 is the stored control character here.)
    session = make.session(rcp.id, video_url=CRLF_LINK, place="Salle\x0bCurie\x01\r\n2e")
    response = client.get(f"/seances/{session.id}/seance.ics")
    assert response.status_code == 200
    body = response.get_data()
    assert body.count(b"BEGIN:VEVENT") == 1 and b"SUMMARY:inject" not in body
    assert b"URL:" not in body and b"\x01" not in body and b"\x0b" not in body
    assert b"LOCATION:Salle\\nCurie\\n2e" in body
    # A stored link that is fine is kept.
    with app.app_context():
        db.session.execute(
            update(MeetingSession)
            .where(MeetingSession.id == session.id)
            .values(video_url="https://visio.exemple.fr/ok")
        )
        db.session.commit()
        row = db.session.get(MeetingSession, session.id)
        assert b"URL:https://visio.exemple.fr/ok" in ics_bytes(row)
    assert safe_link(CRLF_LINK) is None
    # Generated sessions do not copy the RCP's stored bad link.
    response = client.post("/seances/generer", data={"rcp_id": rcp.id, "count": "1"})
    assert response.status_code == 302
    with app.app_context():
        generated = (
            db.session.query(MeetingSession)
            .filter(MeetingSession.rcp_id == rcp.id, MeetingSession.id != session.id)
            .all()
        )
        assert generated and all(s.video_url is None for s in generated)


def test_agenda_mail_with_a_stored_bad_link_is_built(app, client, login, make):
    """The published agenda's e-mail carries the .ics: it is built despite the stored link."""
    from rcp_app.delivery.models import Transmission
    from rcp_app.delivery.notices import build_for

    login("coordinator")
    coordinator = make.professional()
    rcp = make.rcp(coordinator_id=coordinator.id)
    session = make.session(rcp.id, video_url=CRLF_LINK)
    make.agenda_item(session.id)
    response = client.post(f"/seances/{session.id}/publier", data={"version": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with app.app_context():
        rows = db.session.query(Transmission).filter_by(kind="agenda_published").all()
        assert rows
        for row in rows:
            message = build_for(row)
            calendars = [
                part.get_content()
                for part in message.iter_attachments()
                if part.get_filename() == "seance.ics"
            ]
            assert len(calendars) == 1
            text = calendars[0] if isinstance(calendars[0], str) else calendars[0].decode()
            assert text.count("BEGIN:VEVENT") == 1 and "URL:" not in text


def test_every_number_field_of_every_form_reads_ascii_digits():
    """No form reads a number with Python's int() (which takes « ٣ » and « 1_000 »): integer
    fields are core.converters.IntegerField, select fields coerce with core.converters."""
    import wtforms

    from rcp_app.core import converters

    checked = []
    for form in _form_classes():
        for name in dir(form):
            unbound = getattr(form, name, None)
            field_class = getattr(unbound, "field_class", None)
            if field_class is None:
                continue
            if issubclass(field_class, wtforms.IntegerField):
                assert issubclass(field_class, converters.IntegerField), (form, name)
                checked.append(name)
            if issubclass(field_class, wtforms.SelectFieldBase):
                assert unbound.kwargs.get("coerce") is not int, (form, name)
    assert "capacity" in checked
    for value in ("٣", "1_000", "²", "99999999999999999999"):
        with pytest.raises(ValueError):
            converters.coerce_id(value)
