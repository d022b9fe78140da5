"""Every form's errors are summarised at the top of the page, each one a link to its field.

The forms are not listed here: every GET route of the URL map is crawled for each role (the
hostile crawler's world and passes), and every form found (searches too) is submitted three
times as a browser would: its visible fields emptied, then holding a character the text rule
refuses (NUL), then an impossible date. Whatever the page was rendered with (its WTForms
forms, caught with Flask's ``template_rendered`` signal, and the ``error`` of the hand-written
decision forms) is the oracle: each field error must be a link of the summary to the field,
and the field must have ``aria-invalid`` and an ``aria-describedby`` naming an element that
holds the message. Any invalid control of any answer must be in the summary too.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import template_rendered
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import Form

from rcp_app.auth.models import User
from rcp_app.core.errors import DomainError
from rcp_app.core.forms import field_target, leaf_fields
from rcp_app.extensions import db
from rcp_app.fiches import operations as fiche_ops
from rcp_app.fiches.models import Fiche
from rcp_app.meetings.models import AgendaItem
from tests.fiches.support import build_world
from tests.pps.support import plan_world
from tests.support.factories import PASSWORD
from tests.support.html_forms import form_values
from tests.test_hostile_crawler import Crawl, _follow_links, _visit_every_get_route, _world

ROLES = ("anonymous", "physician", "coordinator", "admin")
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# Templates with a POST form rendering fields, that the crawl cannot make refuse input.
NOT_CRAWLED = {
    "macros.html": "the macros themselves",
    "auth/totp.html": "needs a pending first factor: tests/test_auth.py",
    "fiches/amend.html": "needs the RCP's coordinating physician: test_the_amendment_form below",
    "pps/edit.html": "needs the case's referring physician: test_the_care_plan_form below",
}
_FIELD_MACRO = re.compile(
    r"\b(field|field_errors|code_field|text_field|input_field|select_field)\("
)
_VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "area", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict
    text: str = ""


@dataclass
class Page:
    """The elements with an id (their text), the summary's links and the invalid controls."""

    ids: dict[str, Element] = field(default_factory=dict)
    summary: Element | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (target id, text)
    invalid: list[Element] = field(default_factory=list)


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._open: list[tuple[str, Element | None]] = []
        self._link: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        element = Element(tag, attrs)
        if "id" in attrs:
            self.page.ids[attrs["id"]] = element
        if "data-error-summary" in attrs:
            self.page.summary = element
        if attrs.get("aria-invalid") == "true":
            self.page.invalid.append(element)
        if tag == "a" and "data-error-link" in attrs:
            self._link = [attrs.get("href", ""), ""]
        if tag not in _VOID:
            self._open.append((tag, element))

    def handle_data(self, data):
        for _tag, element in self._open:
            element.text += data
        if self._link is not None:
            self._link[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            href, text = self._link
            self.page.links.append((href.removeprefix("#"), " ".join(text.split())))
            self._link = None
        while self._open:
            opened, _ = self._open.pop()
            if opened == tag:
                break


def parse(html: str) -> Page:
    parser = _PageParser()
    parser.feed(html)
    return parser.page


@dataclass
class Expected:
    """A message the page's own objects say it must show, and the field it belongs to."""

    message: str
    target: str | None


def _expected(rendered: list[dict]) -> list[Expected]:
    found = []
    for context in rendered:
        for value in context.values():
            if isinstance(value, Form) and value.errors is not None:
                for leaf in leaf_fields(value):
                    for message in leaf.errors if isinstance(leaf.errors, list | tuple) else ():
                        found.append(Expected(message, field_target(leaf)))
                found += [Expected(m, None) for m in getattr(value, "form_errors", [])]
        error = context.get("error")
        if isinstance(error, DomainError):
            found.append(Expected(error.message, f"f-{error.field}" if error.field else None))
    return found


def _check(page: Page, expected: list[Expected], where: str) -> list[str]:
    """The problems of one answer (an empty list: all is well)."""
    problems = []
    if not expected:
        return problems
    if page.summary is None:
        return [f"{where}: {len(expected)} error(s) but no error summary"]
    if page.summary.attrs.get("tabindex") != "-1":
        problems.append(f"{where}: the summary cannot be focused (tabindex=-1)")
    summary_text = " ".join(page.summary.text.split())
    for item in expected:
        message = " ".join(item.message.split())
        if message not in summary_text:
            problems.append(f"{where}: « {message} » missing from the summary")
        if item.target is None or item.target not in page.ids:
            continue  # not a field of this page: listed, not linked
        links = [text for target, text in page.links if target == item.target]
        if not any(message in text for text in links):
            problems.append(f"{where}: no summary link to #{item.target} with « {message} »")
        element = page.ids[item.target]
        if element.attrs.get("aria-invalid") != "true":
            problems.append(f"{where}: #{item.target} has no aria-invalid")
        described = element.attrs.get("aria-describedby", "").split()
        texts = [" ".join(page.ids[i].text.split()) for i in described if i in page.ids]
        if not any(message in text for text in texts):
            problems.append(f"{where}: #{item.target} is not described by « {message} »")
    return problems


def _check_page_wide(page: Page, where: str) -> list[str]:
    """Whatever the oracle: no link to a missing id, no invalid control without its message."""
    problems = [
        f"{where}: summary link to missing #{target}"
        for target, _text in page.links
        if target not in page.ids
    ]
    for element in page.invalid:
        described = element.attrs.get("aria-describedby", "").split()
        if not described or any(
            i not in page.ids or not page.ids[i].text.strip() for i in described[:1]
        ):
            problems.append(
                f"{where}: invalid <{element.tag} id={element.attrs.get('id')}> "
                f"without a message in aria-describedby"
            )
        if element.attrs.get("id") and element.attrs["id"] not in {t for t, _ in page.links}:
            problems.append(f"{where}: invalid #{element.attrs['id']} not in the summary")
    return problems


def _variants(form):
    """Emptied, then NUL in every visible field (the text rule refuses it everywhere), then an
    impossible date."""
    base = form.default_values()
    visible = {f.name for f in form.fields if f.kind not in ("hidden", "submit")}
    visible.discard("csrf_token")
    yield "vide", [(n, "" if n in visible else v) for n, v in base]
    yield "NUL", [(n, "\x00" if n in visible else v) for n, v in base]
    # An impossible date everywhere: the only refusal of a search (a NUL in a query is a 400).
    yield "date", [(n, "99/99/9999" if n in visible else v) for n, v in base]


def test_every_form_summarises_its_errors(app, make):
    contexts = _world(app, make)
    rendered: list[dict] = []

    def _record(sender, template, context, **extra):
        rendered.append({**context, "_template": template.name})

    failures: list[str] = []
    submitted: set[tuple] = set()
    with_errors: set[str] = set()  # the answers with errors
    templates_with_errors: set[str] = set()
    template_rendered.connect(_record, app)
    try:
        for role in ROLES:
            crawl = Crawl(app.test_client(), role)
            if role != "anonymous":
                crawl.user = make.user(role=role)
                # Part of the world (author of its cases, runs its RCPs): the crawl reaches
                # every page the role can have.
                make.enrol(crawl.user)
                crawl.login()
            _visit_every_get_route(crawl, app, contexts)
            _follow_links(crawl)
            for form in list(crawl.forms.values()):
                if form.key() in submitted:
                    continue
                submitted.add(form.key())
                for label, values in _variants(form):
                    rendered.clear()
                    if form.method == "GET":  # a search: its criteria are checked too
                        path = urlsplit(form.action).path
                        response = crawl.client.get(f"{path}?{urlencode(values)}")
                    else:
                        response = crawl.client.post(form.action, data=MultiDict(values))
                    if response.mimetype != "text/html" or not rendered:
                        continue
                    where = f"[{role}] {form.method} {urlsplit(form.action).path} ({label})"
                    page = parse(response.get_data(as_text=True))
                    expected = _expected(rendered)
                    failures += _check(page, expected, where)
                    failures += _check_page_wide(page, where)
                    if expected:
                        with_errors.add(where)
                        templates_with_errors.add(rendered[0]["_template"])
                crawl.still_logged_in()
    finally:
        template_rendered.disconnect(_record, app)
    assert failures == [], f"{len(failures)} problems:\n" + "\n".join(failures[:60])
    # Every template that renders fields in a POST form was shown with errors.
    assert form_templates() - set(NOT_CRAWLED) <= templates_with_errors, sorted(with_errors)


def form_templates() -> set[str]:
    """The templates with a POST form whose fields a field macro renders."""
    found = set()
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if 'method="post"' in text and _FIELD_MACRO.search(text):
            found.add(path.relative_to(TEMPLATES).as_posix())
    return found


def test_the_amendment_form(app, make, client):
    """The hand-written decision fields (no WTForms): a refused amendment is summarised."""
    world = build_world(app, make)
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        fiche_ops.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()
        fiche_id = db.session.scalar(select(Fiche.id).where(Fiche.case_id == world.case_id))
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    url = f"/fiches/{fiche_id}/avenant"
    form = client.get(url).get_data(as_text=True)
    assert "data-error-summary" not in form
    values = {**form_values(form, "expected_version"), "reason": ""}
    response = client.post(url, data=values)
    assert response.status_code == 400
    page = parse(response.get_data(as_text=True))
    assert page.summary is not None and page.summary.attrs["tabindex"] == "-1"
    assert "Il y a un problème" in page.summary.text
    ((target, message),) = page.links
    assert target == "f-reason" and "motif" in message.lower()
    reason = page.ids["f-reason"]
    assert reason.attrs["aria-invalid"] == "true"
    (described,) = reason.attrs["aria-describedby"].split()
    assert " ".join(page.ids[described].text.split()) == message


def test_the_care_plan_form(app, make, client):
    """A refused care programme lists each field's message at the top, linked to its field
    (row fields included)."""
    world = plan_world(app, make)
    client.post("/connexion", data={"username": world.requester_username, "password": PASSWORD})
    opened = client.post(f"/fiches/{world.fiche_id}/pps", data={"_": "1"})
    url = urlsplit(opened.headers["Location"]).path  # the draft's form
    form = client.get(url).get_data(as_text=True)
    assert "data-error-summary" not in form
    values = {
        **form_values(form, "version"),
        "treatment_rows-0-planned_start": "30/02/2027",
        "nurse_name": "Infirmière",
        "nurse_phone": "12",
        "action": "save",
    }
    response = client.post(url, data=values)
    assert response.status_code == 400
    page = parse(response.get_data(as_text=True))
    assert page.summary is not None and "Il y a un problème" in page.summary.text
    targets = dict(page.links)
    assert set(targets) == {"treatment_rows-0-planned_start", "nurse_phone"}, targets
    for target, message in targets.items():
        control = page.ids[target]
        assert control.attrs["aria-invalid"] == "true"
        (described,) = control.attrs["aria-describedby"].split()
        assert " ".join(page.ids[described].text.split()) == message


def test_an_attachment_refusal_is_in_the_summary(app, make, login, client):
    """The refusal of a file (on the case page, far below its top) is listed at the top."""
    login("physician")
    case = make.case()
    response = client.post(
        f"/dossiers/{case.id}/pieces-jointes",
        data={"kind": "other", "file": (io.BytesIO(b"<html>faux</html>"), "scanner.pdf")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    page = parse(html)
    assert page.summary is not None
    assert html.index("data-error-summary") < html.index("<h1")
    (target, message) = page.links[0]
    assert target == "file" and "PDF" in message
    assert page.ids["file"].attrs["aria-invalid"] == "true"
    assert "file-error" in page.ids["file"].attrs["aria-describedby"].split()


def test_the_required_fields_say_so(app, login, client):
    """A required field: the words « (obligatoire) » after its label, aria-required."""
    login("admin")
    html = client.get("/admin/utilisateurs/nouveau").get_data(as_text=True)
    page = parse(html)
    required = [e for e in page.ids.values() if e.attrs.get("aria-required") == "true"]
    assert required, "no required field on the new user form"
    for element in required:
        label = re.search(
            r'<label[^>]*for="' + re.escape(element.attrs["id"]) + r'"[^>]*>[^<]*</label>\s*'
            r'<span class="required-mark"[^>]*>\(obligatoire\)</span>',
            html,
        )
        assert label, element.attrs["id"]
        assert "required" in element.attrs
