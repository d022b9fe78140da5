"""Read a rendered form back as a browser would submit it, and log in a second user.

Used by the edit-conflict tests: "another user" saves in between, then the page's own form is
submitted again as is.
"""

from __future__ import annotations

from html.parser import HTMLParser

from tests.support.factories import PASSWORD

_SKIPPED_INPUTS = {"submit", "button", "reset", "image", "file"}


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value if value is not None else "" for name, value in attrs}
        if tag == "form":
            self._fields = []
        elif self._fields is None:
            return
        elif tag == "input":
            kind = attrs.get("type", "text").lower()
            name = attrs.get("name")
            if not name or kind in _SKIPPED_INPUTS or "disabled" in attrs:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._fields.append((name, attrs.get("value", "on")))
            else:
                self._fields.append((name, attrs.get("value", "")))
        elif tag == "select" and attrs.get("name"):
            self._select = {"name": attrs["name"], "multiple": "multiple" in attrs, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": attrs.get("value"),
                "selected": "selected" in attrs,
                "text": "",
            }
            self._select["options"].append(self._option)
        elif tag == "textarea" and attrs.get("name"):
            self._textarea = {"name": attrs["name"], "text": ""}

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            self._fields.extend(_selected(self._select))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea["text"]
            text = text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
            self._fields.append((self._textarea["name"], text))
            self._textarea = None
        elif tag == "form" and self._fields is not None:
            self.forms.append(self._fields)
            self._fields = None


def _selected(select: dict) -> list[tuple[str, str]]:
    options = [
        (o["value"] if o["value"] is not None else o["text"].strip(), o["selected"])
        for o in select["options"]
    ]
    chosen = [value for value, selected in options if selected]
    if not chosen and not select["multiple"] and options:
        chosen = [options[0][0]]  # a browser submits the first option by default
    return [(select["name"], value) for value in chosen]


def form_values(html: str, containing: str = "version") -> dict[str, str | list[str]]:
    """The values the first POST form holding a field named ``containing`` would submit."""
    parser = _FormParser()
    parser.feed(html)
    for fields in parser.forms:
        if any(name == containing for name, _ in fields):
            grouped: dict[str, list[str]] = {}
            for name, value in fields:
                grouped.setdefault(name, []).append(value)
            return {name: vals[0] if len(vals) == 1 else vals for name, vals in grouped.items()}
    raise AssertionError(f"no form with a field named {containing!r} in the page")


def other_client(app, make, role: str):
    """A second browser, logged in as a new user with ``role`` ("another user")."""
    other = app.test_client()
    user = make.user(role=role)
    response = other.post("/connexion", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    other.user = user  # the test gives it what it may see (rcp_app/access)
    return other
