"""A hostile crawler: no input, however bad, gets a 5xx.

For each role (and anonymous), with one object of each kind in the database:

1. every GET route of the URL map (``app.url_map``: a new route is crawled without being
   listed), with the real ids of several contexts (a planned session, a session in progress,
   a session with a fiche), then the links of those pages (one per shape of URL);
2. every route with ids (GET and POST), each id in turn replaced by a hostile one (huge,
   beyond INTEGER, negative, zero, Unicode digits);
3. every GET route that answered 200, with hostile values in every query parameter the pages
   use (names read from their links and GET forms) plus the usual ones (page, rcp…);
4. every form found on those pages, submitted as the browser would, then with hostile values
   (huge, negative, Unicode digits, NUL, CR/LF, 10 000 characters, invalid dates…) in all
   fields at once, in the text fields only, and in each field alone; POST forms also as JSON
   (the autosave's way);
5. every POST route no page offered a form for, with hostile values under the field names seen;
6. every page and document (PDF, .ics) again: what the forms stored must not break them.

Any 5xx (or exception) fails, naming the request. 4xx answers are fine: the point is that bad
input is refused, not how. The crawl is bounded: each distinct form is fuzzed by the first
role that reaches it, the next roles only knock at its door.

The JSON API gets its own crawl (``test_no_hostile_api_input_gives_a_server_error``), with a
client's bearer token holding every scope: each operation of the route table from its example
request (tests/api/examples.py), then with hostile ids in its path, hostile values in each
query parameter and each JSON field the OpenAPI document names (one at a time, then all at
once, a level deeper in lists of objects), bodies that are not the expected JSON, hostile
If-Match / If-None-Match / Authorization headers; and the OAuth endpoints with hostile forms
and credentials. Schemathesis (tests/api/test_api_schemathesis.py) checks the answers against
the document; this crawl only asks for no 5xx, with values schemathesis does not draw.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from rcp_app.api.operations import MAX_RATE
from rcp_app.core.timeutil import utcnow
from tests.api.conftest import api, basic  # noqa: F401 (api: a fixture)
from tests.api.examples import EXAMPLES, Context
from tests.api.examples import world as api_world
from tests.support import crawler
from tests.support.access_routes import api_operations, rolled_back
from tests.support.crawler import EVERY, HUGE, Form, hostile_for, is_text, parse_page
from tests.support.factories import PASSWORD
from tests.test_access_matrix import _api_world, _fiche_world

ROLES = ("anonymous", "gp", "admin", "physician", "coordinator")
HOSTILE_IDS = (HUGE, "2147483648", "-1", "0", "²", "٣")
# Query parameters the views read, besides those found in the pages' links and GET forms.
USUAL_QUERY_NAMES = {"page", "rcp", "dossier", "patient", "q", "next", "etat", "enregistre"}
# Not crawled: logging out would end the crawl (it is a plain POST with no input anyway).
SKIPPED_ENDPOINTS = {"auth.logout"}
MAX_LINKS = 150
_ARGUMENT = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>")


@dataclass
class Crawl:
    client: object
    role: str
    user: object = None
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)  # url → html (200 answers)
    forms: dict[tuple, Form] = field(default_factory=dict)
    query_names: set[str] = field(default_factory=lambda: set(USUAL_QUERY_NAMES))
    post_names: dict[str, set[str]] = field(default_factory=dict)  # path → field names
    relogins: int = 0
    ok_urls: list[str] = field(default_factory=list)  # GET answered 200 (pages, PDF, .ics)
    links: list[str] = field(default_factory=list)  # to follow
    shapes: set[tuple] = field(default_factory=set)  # of the URLs visited or queued

    def send(self, method: str, url: str, **kwargs):
        self.requests += 1
        try:
            response = self.client.open(url, method=method, **kwargs)
        except Exception as error:  # noqa: BLE001  (the crawler reports, it does not stop)
            self.failures.append(f"{method} {url[:200]} {_short(kwargs)}: {error!r:.300}")
            return None
        response.close()
        if response.status_code >= 500:
            self.failures.append(f"{method} {url[:200]} {_short(kwargs)}: {response.status_code}")
        return response

    def login(self) -> None:
        if self.user is None:
            return
        response = self.client.post(
            "/connexion", data={"username": self.user.username, "password": PASSWORD}
        )
        assert response.status_code == 302, f"{self.role} cannot log in again"

    def still_logged_in(self) -> None:
        """A submitted form may have ended the session (e.g. a password change): log in again
        so that the rest of the crawl still runs as this role."""
        if self.user is None:
            return
        response = self.client.get("/compte")
        if response.status_code == 302:
            self.relogins += 1
            self.login()


def _short(kwargs) -> str:
    data = kwargs.get("data") or kwargs.get("json")
    if not data:
        return ""
    items = data if isinstance(data, list) else list(data.items())
    shown = [(k, v if len(str(v)) < 30 else f"{str(v)[:12]}…({len(str(v))})") for k, v in items]
    return f"data={shown!r:.400}"


def _url(rule, values: dict) -> str | None:
    try:
        return _ARGUMENT.sub(lambda m: str(values[m.group(1)]), rule.rule)
    except KeyError:
        return None


def _methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED_ENDPOINTS]


# --- the world ----------------------------------------------------------------------------


def _world(app, make) -> list[dict]:
    """Id contexts: a draft case and a planned session with its agenda, a session in
    progress, a session with a validated fiche. Every route's ids resolve in one of them."""
    establishment = make.establishment()
    coordinator = make.professional(establishment_id=establishment.id)
    rcp = make.rcp(
        establishment_id=establishment.id,
        coordinator_id=coordinator.id,
        video_url="https://visio.exemple.fr/rcp",
    )
    planned = make.session(rcp.id, video_url="https://visio.exemple.fr/seance")
    draft = make.case(rcp_id=rcp.id, session_id=planned.id)
    scheduled = make.agenda_item(planned.id)
    later = utcnow().replace(microsecond=0) + timedelta(days=40)
    live = make.session(rcp.id, status="in_progress", starts_at=later)
    live_item = make.agenda_item(live.id)
    done = make.session(rcp.id, status="in_progress", starts_at=later + timedelta(days=7))
    fiche = _fiche_world(app, make, done.id)
    api_objects = _api_world(app, establishment.id)
    patient_id = make.patient().id
    common = {
        "patient_id": patient_id,
        "access_id": make.exceptional_access(make.physician().id, patient_id).id,
        "index": 1,
        "establishment_id": establishment.id,
        "professional_id": coordinator.id,
        "rcp_id": rcp.id,
        "user_id": make.user(role="physician").id,
        "fiche_id": fiche["fiche"],
        "follow_up_id": fiche["follow_up"],
        "plan_id": fiche["care_plan"],
        "version": 1,
        "transmission_id": fiche["transmission"],
        "attachment_id": make.attachment(draft.id, draft.created_by_id).id,
        "name": "absent.eml",
        "filename": "css/app.css",
        "decision_id": fiche["decision"],
        "client_id": api_objects["api_client"],
        "subscription_id": api_objects["subscription"],
    }
    return [
        {**common, "session_id": planned.id, "case_id": draft.id, "item_id": scheduled.id,
         "attendance_id": make.attendance(planned.id).id},
        {**common, "session_id": planned.id, "case_id": scheduled.case_id,
         "item_id": scheduled.id, "attendance_id": make.attendance(planned.id).id},
        {**common, "session_id": live.id, "case_id": live_item.case_id, "item_id": live_item.id,
         "attendance_id": make.attendance(live.id).id},
        {**common, "session_id": done.id, "case_id": draft.id, "item_id": fiche["fiche_item"],
         "attendance_id": make.attendance(done.id).id},
    ]  # fmt: skip


# --- the passes ---------------------------------------------------------------------------


def test_every_route_resolves_in_a_context(app, make):
    """Each placeholder of the route table has an id in the world: no route is skipped."""
    contexts = _world(app, make)
    unresolved = sorted(
        rule.rule
        for rule in _rules(app)
        if rule.arguments and all(_url(rule, context) is None for context in contexts)
    )
    assert unresolved == [], "routes whose ids the crawl's world lacks (see _world)"


def _visit_every_get_route(crawl: Crawl, app, contexts) -> None:
    seen = set()
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        for context in contexts:
            url = _url(rule, context)
            if url is None or url in seen:
                continue
            seen.add(url)
            crawl.shapes.add(_shape(url))
            _get_and_harvest(crawl, url)


def _follow_links(crawl: Crawl) -> None:
    """The links of the pages (e.g. « Nouveau dossier » with its patient and RCP), one per
    shape (path with its ids as #, query names), at most MAX_LINKS."""
    visited = 0
    while crawl.links and visited < MAX_LINKS:
        url = crawl.links.pop(0)
        visited += 1
        _get_and_harvest(crawl, url)


def _shape(url: str) -> tuple:
    parts = urlsplit(url)
    return re.sub(r"[0-9]+", "#", parts.path), tuple(sorted(crawler.query_names(url)))


def _get_and_harvest(crawl: Crawl, url: str) -> None:
    response = crawl.send("GET", url)
    if response is None or response.status_code != 200:
        return
    crawl.ok_urls.append(url)
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        crawl.pages[url] = html
        _harvest(crawl, html, url)


def _revisit(crawl: Crawl) -> None:
    """Every page and document again, after the forms stored what they accepted (a stored
    value must not break a page, a PDF or an .ics)."""
    for url in list(dict.fromkeys(crawl.ok_urls)):
        crawl.send("GET", url)


def _harvest(crawl: Crawl, html: str, url: str) -> None:
    forms, links = parse_page(html, f"http://rcp.test{url}")
    for link in links:
        crawl.query_names |= crawler.query_names(link)
        shape = _shape(link)
        if shape not in crawl.shapes and not link.startswith(("/static/", "/deconnexion")):
            crawl.shapes.add(shape)
            crawl.links.append(link)
    for form in forms:
        if urlsplit(form.action).path in ("/deconnexion",):
            continue
        crawl.forms.setdefault(form.key(), form)
        if form.method == "GET":
            crawl.query_names |= {f.name for f in form.fields}
        else:
            path = urlsplit(form.action).path
            crawl.post_names.setdefault(path, set()).update(f.name for f in form.fields)


def _hostile_ids(crawl: Crawl, app, context) -> None:
    for rule in _rules(app):
        names = [n for n in rule.arguments if n not in ("name", "filename")]
        for name in names:
            for hostile in HOSTILE_IDS:
                url = _url(rule, {**context, name: hostile})
                for method in _methods(rule):
                    crawl.send(method, url, data={"_": "1"} if method == "POST" else None)


def _hostile_queries(crawl: Crawl) -> None:
    names = sorted(crawl.query_names)
    for url in list(crawl.pages):
        path = urlsplit(url).path
        for value in EVERY:
            crawl.send("GET", f"{path}?{urlencode(dict.fromkeys(names, value))}")


def _variants(form: Form):
    """(label, values) pairs: the browser's submission, then the hostile ones."""
    base = form.default_values()
    fields = [f for f in form.fields if f.kind != "submit"]
    yield "défaut", base
    for value in EVERY:
        texts = {f.name for f in fields if is_text(f)}
        if texts:
            yield "textes", [(n, value if n in texts else v) for n, v in base]
        yield (
            "tous",
            [(n, value) for n, v in base if n not in _submit_names(form)]
            + [(n, v) for n, v in base if n in _submit_names(form)],
        )
    for target in dict.fromkeys(f.name for f in fields):
        kind = next(f for f in fields if f.name == target)
        for hostile in hostile_for(kind):
            values = [(n, hostile if n == target else v) for n, v in base]
            if not any(n == target for n, _ in values):
                values.append((target, hostile))
            yield f"champ {target}", values


def _submit_names(form: Form) -> set[str]:
    return {f.name for f in form.fields if f.kind == "submit"}


def _submit_every_form(crawl: Crawl, fuzzed: set[tuple]) -> None:
    """Each form with every variant, unless an earlier role already fuzzed it: then only as
    the browser would and with every field hostile (the role's own way through the door)."""
    for form in list(crawl.forms.values()):
        variants = list(_variants(form))
        if form.key() in fuzzed:
            variants = variants[:1] + [v for v in variants if v[0] == "tous"][:2]
        fuzzed.add(form.key())
        for _label, values in variants:
            if form.method == "GET":
                path = urlsplit(form.action).path
                crawl.send("GET", f"{path}?{urlencode(values)}")
            else:
                crawl.send("POST", form.action, data=_multi(values))
        if form.method == "POST":
            names = [f.name for f in form.fields]
            for value in (HUGE, "²", "\x00", "a\r\nb"):
                crawl.send("POST", form.action, json=dict.fromkeys(names, value))
        crawl.still_logged_in()


def _multi(values: list[tuple[str, str]]):
    from werkzeug.datastructures import MultiDict

    return MultiDict(values)


def _post_routes_without_forms(crawl: Crawl, app, contexts) -> None:
    every_name = set().union(*crawl.post_names.values()) if crawl.post_names else set()
    offered = set(crawl.post_names)
    for rule in _rules(app):
        if "POST" not in rule.methods:
            continue
        for context in contexts[:1]:
            url = _url(rule, context)
            if url is None or urlsplit(url).path in offered:
                continue
            for value in EVERY:
                if len(value) > 100:
                    continue  # every field × 10 000 characters: not a useful request
                crawl.send("POST", url, data=dict.fromkeys(sorted(every_name) or ["_"], value))
    crawl.still_logged_in()


def test_no_hostile_input_gives_a_server_error(app, make):
    """All roles in one world, in this order: a form fuzzed by one role is only submitted
    twice more by the next ones (the coordinator, who changes most, comes last)."""
    contexts = _world(app, make)
    fuzzed: set[tuple] = set()
    failures = []
    for role in ROLES:
        crawl = Crawl(app.test_client(), role)
        if role != "anonymous":
            crawl.user = make.user(role=role)
            # Part of the world (author of its cases, runs its RCPs): the crawl reaches
            # every page the role can have.
            make.enrol(crawl.user)
            crawl.login()
        started = time.monotonic()
        _visit_every_get_route(crawl, app, contexts)
        _follow_links(crawl)
        pages = len(crawl.pages)
        _hostile_ids(crawl, app, contexts[0])
        _hostile_queries(crawl)
        _submit_every_form(crawl, fuzzed)
        _post_routes_without_forms(crawl, app, contexts)
        _revisit(crawl)
        print(
            f"\n{role}: {crawl.requests} requests, {pages} pages, {len(crawl.forms)} forms, "
            f"{len(crawl.query_names)} query names, {crawl.relogins} re-logins, "
            f"{time.monotonic() - started:.0f} s"
        )
        # The crawl reached the pages of the role (not a login redirect everywhere).
        assert role == "anonymous" or pages >= 3, role
        failures += [f"[{role}] {failure}" for failure in crawl.failures]
    assert failures == [], f"{len(failures)} server errors:\n" + "\n".join(failures[:80])


# --- the JSON API ---------------------------------------------------------------------------

# JSON values no schema expects: beyond INTEGER and BIGINT, negative, zero, wrong types.
JSON_HOSTILE = (
    *EVERY,
    2**31,
    2**63,
    10**30,
    -1,
    0,
    1.5,
    1e308,
    True,
    None,
    [],
    {},
    [None],
    {"": None},
    "",
    " ",
)
# One field at a time: fewer values (the whole set goes to all the fields at once).
JSON_PER_FIELD = (HUGE, 2**63, -1, "\x00", "x" * 10_000, [], {}, None, "²")
QUERY_HOSTILE = (*EVERY, "0", "true", "", "null", "[]", "2026-13-45T99:99", "W/")
HEADER_HOSTILE = ("", "*", '"x"', "W/", 'W/"', ",,,", "x" * 10_000, '"' + HUGE + '"', "é")
AUTHORIZATION_HOSTILE = (
    "Bearer",
    "Bearer ",
    "Bearer " + "x" * 10_000,
    "Bearer \x7f",
    "Basic !!!",
    "Basic " + "x" * 10_000,
    "bearer  multiple  spaces",
    "Digest abc",
)
OAUTH_FIELDS = ("grant_type", "scope", "client_id", "client_secret", "token", "token_type_hint")


@dataclass
class ApiCrawl:
    app: object
    http: object
    document: dict
    requests: int = 0
    failures: list[str] = field(default_factory=list)

    def send(self, method: str, url: str, **kwargs) -> None:
        """One request, rolled back afterwards (a hostile creation changes nothing next)."""
        self.requests += 1
        try:
            with rolled_back(self.app):
                response = self.http.open(url, method=method, **kwargs)
                response.close()
        except Exception as error:  # noqa: BLE001  (the crawler reports, it does not stop)
            self.failures.append(f"{method} {url[:200]} {_brief(kwargs)}: {error!r:.300}")
            return
        if response.status_code >= 500:
            self.failures.append(f"{method} {url[:200]} {_brief(kwargs)}: {response.status_code}")

    def operation(self, path_rule: str, method: str) -> dict:
        path = re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", path_rule)
        return self.document["paths"].get(path, {}).get(method.lower(), {})

    def schema(self, reference: dict) -> dict:
        while "$ref" in reference:
            reference = self.document["components"]["schemas"][reference["$ref"].split("/")[-1]]
        return reference

    def body_schema(self, operation: dict) -> tuple[str | None, dict]:
        content = operation.get("requestBody", {}).get("content", {})
        for media_type in ("application/json", "multipart/form-data"):
            if media_type in content:
                return media_type, self.schema(content[media_type]["schema"])
        return None, {}

    def object_items(self, prop: dict) -> dict | None:
        """The object schema of a list-of-objects property (tumours[], treatments[])."""
        for option in [prop, *prop.get("anyOf", [])]:
            option = self.schema(option)
            if option.get("type") == "array":
                items = self.schema(option.get("items", {}))
                if items.get("properties"):
                    return items
        return None


def _brief(kwargs) -> str:
    shown = {k: v for k, v in kwargs.items() if k in ("json", "data", "headers") and v}
    return f"{shown!r:.200}" if shown else ""


def _json_bodies(crawl: ApiCrawl, schema: dict, base) -> list:
    """The example's body with hostile values: each field alone, all at once, and a level
    deeper in each list of objects; then bodies of the wrong JSON shape."""
    base = base if isinstance(base, dict) else {}
    names = list(schema.get("properties", {}))
    bodies = [{**base, name: value} for name in names for value in JSON_PER_FIELD]
    bodies += [dict.fromkeys(names, value) for value in JSON_HOSTILE]
    for name, prop in schema.get("properties", {}).items():
        items = crawl.object_items(prop)
        if items is None:
            continue
        inner = list(items["properties"])
        bodies += [{**base, name: [{key: value}]} for key in inner for value in JSON_PER_FIELD]
        bodies += [{**base, name: [dict.fromkeys(inner, value)] * 3} for value in JSON_HOSTILE]
    bodies += [None, [], [base], "texte", 2**63, {"": base}, {**base, "inconnu": 1}]
    return bodies


def _api_operation_crawl(crawl: ApiCrawl, operation, example, values: dict) -> None:
    request = example.request(values)
    documented = crawl.operation(operation.rule, operation.method)
    headers = {**request.headers}
    crawl.send(request.method, request.url, json=request.json, headers=headers)
    # Hostile ids in the path, the other ids as the example has them.
    for name in operation.arguments:
        for hostile in HOSTILE_IDS:
            ids = {**_path_values(operation, request.url), name: hostile}
            url = _ARGUMENT.sub(lambda m, ids=ids: str(ids[m.group(1)]), operation.rule)
            crawl.send(request.method, url, json=request.json, headers=headers)
    # Hostile query values, one parameter at a time, then all at once.
    query_names = [p["name"] for p in documented.get("parameters", []) if p["in"] == "query"]
    path = urlsplit(request.url).path
    for value in QUERY_HOSTILE:
        for name in query_names:
            crawl.send(request.method, f"{path}?{urlencode({name: value})}", headers=headers)
        if query_names:
            crawl.send(request.method, f"{path}?{urlencode(dict.fromkeys(query_names, value))}")
    # Hostile bodies.
    media_type, schema = crawl.body_schema(documented)
    if media_type == "application/json":
        for body in _json_bodies(crawl, schema, request.json):
            crawl.send(request.method, request.url, json=body, headers=headers)
        for raw, content_type in (
            ("{", "application/json"),
            ('{"a": 1e999999}', "application/json"),
            ("[" * 5_000, "application/json"),
            ("\xff\xfe", "application/json"),
            ("birth_name=X", "application/x-www-form-urlencoded"),
            ("<x/>", "text/xml"),
        ):
            crawl.send(
                request.method,
                request.url,
                data=raw.encode("latin-1"),
                headers={**headers, "Content-Type": content_type},
            )
    elif media_type == "multipart/form-data":
        names = list(schema.get("properties", {}))
        for value in EVERY:
            crawl.send(
                request.method,
                request.url,
                data=dict.fromkeys(names, value),
                headers=headers,
                content_type="multipart/form-data",
            )
        crawl.send(request.method, request.url, json={"kind": "pathology"}, headers=headers)
        # A file with each field's hostile values, and without the other fields.
        for value in (*EVERY, None):
            form = {"file": (io.BytesIO(b"%PDF-1.7 x"), "f.pdf")}
            if value is not None:
                form.update({name: value for name in names if name != "file"})
            crawl.send(
                request.method,
                request.url,
                data=form,
                headers=headers,
                content_type="multipart/form-data",
            )
    # Hostile conditional headers.
    for value in HEADER_HOSTILE:
        for name in ("If-Match", "If-None-Match"):
            crawl.send(
                request.method, request.url, json=request.json, headers={**headers, name: value}
            )


def _path_values(operation, url: str) -> dict:
    """The ids the example's URL gives each placeholder of the operation's rule."""
    pattern = re.sub(r"<(?:[a-z]+:)?(\w+)>", r"(?P<\1>[^/]+)", operation.rule)
    match = re.fullmatch(pattern, urlsplit(url).path)
    assert match, (operation.rule, url)
    return match.groupdict()


def _oauth_crawl(crawl: ApiCrawl, client_id: str, secret: str) -> None:
    http = crawl.http
    saved = http.environ_base.pop("HTTP_AUTHORIZATION", None)
    try:
        for path in ("/api/v1/oauth/token", "/api/v1/oauth/revoke"):
            for value in EVERY:
                crawl.send("POST", path, data=dict.fromkeys(OAUTH_FIELDS, value))
                # Credentials in the form (client_secret_post), hostile.
                crawl.send(
                    "POST",
                    path,
                    data={
                        "grant_type": "client_credentials",
                        "client_id": value,
                        "client_secret": value,
                        "token": value,
                    },
                )
                crawl.send(
                    "POST",
                    path,
                    data={**dict.fromkeys(OAUTH_FIELDS, value), "grant_type": "client_credentials"},
                    headers=basic(client_id, secret),
                )
            for authorization in AUTHORIZATION_HOSTILE:
                crawl.send(
                    "POST",
                    path,
                    data={"grant_type": "client_credentials"},
                    headers={"Authorization": authorization},
                )
            crawl.send("POST", path, json={"grant_type": "client_credentials"})
            crawl.send(
                "POST", path, data=b"\xff\x00", content_type="application/x-www-form-urlencoded"
            )
    finally:
        if saved is not None:
            http.environ_base["HTTP_AUTHORIZATION"] = saved


def test_no_hostile_api_input_gives_a_server_error(app, make, api):  # noqa: F811
    objects = api_world(app, make)
    caller = api(establishment=objects["establishment"], rate=MAX_RATE)
    http = app.test_client()
    http.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {caller.token}"
    crawl = ApiCrawl(app, http, http.get("/api/v1/openapi.json").get_json())
    started = time.monotonic()
    operations = api_operations(app)
    assert operations, "no API operation found"
    for operation in operations:
        example = EXAMPLES.get(operation.key)
        assert example is not None, f"{operation}: no example in tests/api/examples.py"
        values = {**objects}
        if example.prepare:
            values.update(example.prepare(Context(app, make, objects, caller)))
        _api_operation_crawl(crawl, operation, example, values)
    for authorization in AUTHORIZATION_HOSTILE:
        crawl.send("GET", "/api/v1/patients", headers={"Authorization": authorization})
    _oauth_crawl(crawl, caller.client_id, caller.secret)
    print(f"\napi: {crawl.requests} requests, {time.monotonic() - started:.0f} s")
    assert crawl.failures == [], f"{len(crawl.failures)} server errors:\n" + "\n".join(
        crawl.failures[:80]
    )
