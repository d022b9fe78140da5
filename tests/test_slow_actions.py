"""Slow actions (a PDF rendered or signed on demand) show progress and cannot be sent twice.

``SLOW_ACTIONS`` (rcp_app/core/forms.py) lists them; static/js/app.js acts on the attributes
that ``slow_action()`` puts on their forms and links. Checked here: the list names exactly the
views that render, sign or check a PDF (read from their source), and every form or link of
every page crawled (each role, the route table's GET routes) that leads to one carries them.
"""

from __future__ import annotations

import inspect
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from rcp_app.auth.models import User
from rcp_app.core.forms import SLOW_ACTIONS
from rcp_app.extensions import db
from rcp_app.fiches import operations as fiche_ops
from rcp_app.fiches.models import Fiche
from rcp_app.meetings.models import AgendaItem
from rcp_app.pps import operations as pps_ops
from tests.fiches.support import build_world
from tests.support.factories import PASSWORD
from tests.test_hostile_crawler import Crawl, _follow_links, _visit_every_get_route, _world

# What makes a view slow: the calls that render a PDF, sign one or check a signature.
SLOW_CALLS = (
    "render_pdf(",
    "html_to_pdf(",
    "agenda_pdf_response(",
    "annual_report_pdf(",
    "signing_flow.",
    "check_signature(",
)


def test_the_list_names_every_view_that_renders_or_signs_a_pdf(app):
    slow = set()
    for endpoint, view in app.view_functions.items():
        try:
            source = inspect.getsource(inspect.unwrap(view))
        except (OSError, TypeError):
            continue  # built-in views (static files)
        if any(call in source for call in SLOW_CALLS):
            slow.add(endpoint)
    assert slow == set(SLOW_ACTIONS)
    for endpoint, action in SLOW_ACTIONS.items():
        (rule,) = app.url_map.iter_rules(endpoint)
        assert action.method in rule.methods, endpoint
        assert action.busy_label.endswith("…"), endpoint
    # Signing asks first; the others only show progress.
    assert {e for e, a in SLOW_ACTIONS.items() if a.confirm} == {
        "fiches.validate",
        "fiches.validate_all",
        "fiches.amend",
        "pps.validate",
    }


class _Targets(HTMLParser):
    """Every form (action, method, attributes), submit button sending its form elsewhere
    (formaction: the button's attributes) and link (href, attributes) of a page."""

    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.found: list[tuple[str, str, dict]] = []  # (method, path, attributes)
        self.form_method = "GET"

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            action = urljoin(self.base, attrs.get("action") or self.base)
            self.form_method = (attrs.get("method") or "get").upper()
            self.found.append((self.form_method, urlsplit(action).path, attrs))
        elif tag == "button" and attrs.get("formaction"):
            action = urljoin(self.base, attrs["formaction"])
            method = (attrs.get("formmethod") or self.form_method).upper()
            self.found.append((method, urlsplit(action).path, attrs))
        elif tag == "a" and attrs.get("href"):
            href = urljoin(self.base, attrs["href"])
            if urlsplit(href).netloc in ("rcp.test", ""):
                self.found.append(("GET", urlsplit(href).path, attrs))


def _endpoint(adapter, method: str, path: str) -> str | None:
    try:
        endpoint, _ = adapter.match(path, method=method)
    except HTTPException:
        return None
    return endpoint


def _signing_world(app, make) -> dict:
    """A session with a ready decision, and one with a signed fiche (each needs its RCP's
    coordinating physician) whose care programme its referring physician is drafting."""
    ready = build_world(app, make)
    signed = build_world(app, make)
    with app.app_context():
        item = db.session.get(AgendaItem, signed.item_id)
        fiche_ops.validate(item, db.session.get(User, signed.validator_user_id))
        db.session.commit()
        fiche = db.session.scalar(select(Fiche).where(Fiche.case_id == signed.case_id))
        referrer = make.user(role="physician", professional_id=fiche.case.requester_id)
        plan = pps_ops.open_plan(fiche, db.session.get(User, referrer.id))
        db.session.commit()
        ids = {"fiche_id": fiche.id, "plan_id": plan.id, "referrer": referrer.username}
    return {"ready": ready, "signed": signed, **ids}


def test_every_form_and_link_to_a_slow_action_carries_its_attributes(app, make):
    world = _signing_world(app, make)
    contexts = _world(app, make)
    for name in ("ready", "signed"):
        w = world[name]
        contexts.append(
            {
                **contexts[0],
                "session_id": w.session_id,
                "item_id": w.item_id,
                "case_id": w.case_id,
                "fiche_id": world["fiche_id"],
                "plan_id": world["plan_id"],
            }
        )
    adapter = app.url_map.bind("rcp.test")
    seen: dict[str, int] = dict.fromkeys(SLOW_ACTIONS, 0)
    failures = []
    users = [
        ("anonymous", None),
        ("coordinator", None),
        ("physician", world["ready"].validator_username),
        ("physician", world["signed"].validator_username),
        ("physician", world["referrer"]),
    ]
    for role, username in users:
        crawl = Crawl(app.test_client(), role)
        if username is not None:
            crawl.client.post("/connexion", data={"username": username, "password": PASSWORD})
        elif role != "anonymous":
            crawl.user = make.user(role=role)
            crawl.login()
        _visit_every_get_route(crawl, app, contexts)
        _follow_links(crawl)
        for url, html in crawl.pages.items():
            parser = _Targets(f"http://rcp.test{url}")
            parser.feed(html)
            for method, path, attrs in parser.found:
                endpoint = _endpoint(adapter, method, path)
                action = SLOW_ACTIONS.get(endpoint)
                if action is None or action.method != method:
                    continue
                seen[endpoint] += 1
                if attrs.get("data-busy-label") != action.busy_label:
                    failures.append(f"{url}: {method} {path} without data-busy-label")
                if (action.confirm or None) != (attrs.get("data-confirm") or None):
                    failures.append(f"{url}: {method} {path} without its data-confirm")
    assert failures == []
    # Every slow action was met on some page: the check above is not vacuous.
    assert [endpoint for endpoint, count in seen.items() if count == 0] == []


def test_the_attributes_are_escaped(monkeypatch):
    from rcp_app.core import forms

    monkeypatch.setitem(
        forms.SLOW_ACTIONS, "x.y", forms.SlowAction("POST", 'Un "essai" <b>…', "Sûr ? <oui>")
    )
    rendered = str(forms.slow_action("x.y"))
    assert rendered == (
        ' data-busy-label="Un &#34;essai&#34; &lt;b&gt;…" data-confirm="Sûr ? &lt;oui&gt;"'
    )
