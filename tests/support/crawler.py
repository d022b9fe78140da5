"""What a hostile crawler needs: the forms and links of a page, and hostile values.

``page_forms(html, base)`` reads every form as a browser sees it (action, method, fields with
their type, value and options); ``page_links`` the same-site links. The hostile values are
those of the issue: huge, negative and Unicode-digit numbers, NUL, CR/LF, 10 000 characters,
invalid dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

HUGE = "99999999999999999999"
# The passes that set every field (or every query parameter) to the same value use these:
# one of each kind of trouble, to keep the crawl bounded.
EVERY = (HUGE, "-1", "²", "٣", "31/02/2026", "99/99/9999", "\x00", "a\r\nb\x0b", "x" * 10_000)
_TEXT_TYPES = {"text", "textarea", "search", "email", "url", "tel", "password", "number"}


@dataclass
class Field:
    name: str
    kind: str  # input type, "textarea", "select" or "submit"
    value: str = ""
    options: list[str] = field(default_factory=list)
    multiple: bool = False
    checked: bool = False


@dataclass
class Form:
    action: str  # path (and query) on this site
    method: str
    fields: list[Field]

    def key(self) -> tuple:
        return (self.method, urlsplit(self.action).path, tuple(sorted(f.name for f in self.fields)))

    def default_values(self) -> list[tuple[str, str]]:
        """What a browser submits as is (first submit button included)."""
        values: list[tuple[str, str]] = []
        submitted = False
        for f in self.fields:
            if f.kind == "submit":
                if not submitted:
                    values.append((f.name, f.value))
                    submitted = True
            elif f.kind in ("checkbox", "radio"):
                if f.checked:
                    values.append((f.name, f.value or "on"))
            elif f.kind == "select":
                if f.value is not None:
                    values.append((f.name, f.value))
            else:
                values.append((f.name, f.value))
        return values


# Per field, the values most likely to get past the other checks and break something.
_PER_FIELD = {
    "date": ("31/02/2026", "99/99/9999"),
    "time": ("25:61",),
    "number": ("²", HUGE),
    "text": ("a\r\nb\x00\x0b\ufffe", "x" * 10_000),
    "link": ("https://visio.exemple.fr/rcp\r\nBEGIN:VEVENT", "javascript:alert(1)"),
}


def hostile_for(f: Field) -> tuple[str, ...]:
    """The hostile values fitting the field's kind."""
    name = f.name.lower()
    if f.kind == "url" or "url" in name:
        return _PER_FIELD["link"]
    if f.kind == "date" or "date" in name:
        return _PER_FIELD["date"]
    if f.kind == "time" or name.endswith("time") or "heure" in name:
        return _PER_FIELD["time"]
    if f.kind in ("number", "select", "hidden", "checkbox", "radio") or name.endswith(
        ("id", "ids", "version", "count", "minutes", "page", "seconds", "capacity")
    ):
        return _PER_FIELD["number"]
    return _PER_FIELD["text"]


def is_text(f: Field) -> bool:
    return f.kind in _TEXT_TYPES or f.kind in ("date", "time")


class _Parser(HTMLParser):
    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: dict | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and attrs.get("href"):
            self.links.append(urljoin(self.base, attrs["href"]))
        if tag == "form":
            action = urljoin(self.base, attrs.get("action") or self.base)
            self._form = Form(action, (attrs.get("method") or "get").upper(), [])
            return
        if self._form is None or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in ("file", "image", "reset", "button"):
                return
            self._form.fields.append(
                Field(name, kind, attrs.get("value", ""), checked="checked" in attrs)
            )
        elif tag == "button" and name and attrs.get("type", "submit").lower() == "submit":
            self._form.fields.append(Field(name, "submit", attrs.get("value", "")))
        elif tag == "select" and name:
            self._select = Field(name, "select", None, multiple="multiple" in attrs)
        elif tag == "option" and self._select is not None:
            self._option = {"value": attrs.get("value"), "selected": "selected" in attrs, "t": ""}
        elif tag == "textarea" and name:
            self._textarea = Field(name, "textarea", "")

    def handle_data(self, data):
        if self._option is not None:
            self._option["t"] += data
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select is not None:
            option = self._option
            value = option["value"] if option["value"] is not None else option["t"].strip()
            self._select.options.append(value)
            if option["selected"] or self._select.value is None:
                self._select.value = value
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            self._form.fields.append(self._select)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._textarea.value = self._textarea.value.removeprefix("\n")
            self._form.fields.append(self._textarea)
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def _local(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "rcp.test", "localhost"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def parse_page(html: str, base: str) -> tuple[list[Form], list[str]]:
    """The page's forms (actions on this site) and its same-site links (path?query)."""
    parser = _Parser(base)
    parser.feed(html)
    forms = []
    for form in parser.forms:
        local = _local(form.action)
        if local is not None:
            form.action = local
            forms.append(form)
    links = [local for local in map(_local, parser.links) if local is not None]
    return forms, links


def query_names(url: str) -> set[str]:
    return {name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
