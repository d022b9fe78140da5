"""The login page leads a visitor without an account to the public verification of a fiche
(a GP or a patient holding a paper fiche has nowhere else to start)."""

from __future__ import annotations

from html.parser import HTMLParser

from flask import url_for


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((" ".join("".join(self._text).split()), self._href))
            self._href = None


def links_of(html: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def test_login_page_links_to_the_public_verification(app, client):
    page = client.get("/connexion")
    assert page.status_code == 200
    with app.test_request_context():
        target = url_for("fiches.verify")
    assert ("Vérifier une fiche signée", target) in links_of(page.get_data(as_text=True))
    # Reachable as it is, without an account.
    public = client.get(target)
    assert public.status_code == 200
    assert "Vérifier une fiche RCP" in public.get_data(as_text=True)
