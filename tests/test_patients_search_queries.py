"""The patient search pages issue a constant number of SQL queries, however many rows they
show (no reload of each row after the audit commit)."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def count_queries():
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def _patients(make, count: int):
    for i in range(count):
        make.patient(birth_name="Bénard", first_birth_first_name=f"Zoé{i}", birth_first_names="Zoé")


@pytest.mark.parametrize("path", ["/patients?q=béna", "/dossiers/nouveau?q=BENA"])
def test_search_uses_a_constant_number_of_queries(client, make, login, path):
    login("physician")
    _patients(make, 2)
    with count_queries() as few:
        assert client.get(path).status_code == 200
    _patients(make, 24)
    with count_queries() as many:
        response = client.get(path)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("BÉNARD") >= 25
    assert len(many) == len(few), "\n".join(many)


def test_long_results_are_counted_up_to_a_limit(app, client, make, login, monkeypatch):
    """Beyond COUNT_LIMIT rows (or the rows up to the page shown), the total is a lower
    bound: « plus de … résultats », and the next page stays reachable."""
    monkeypatch.setattr("rcp_app.patients.operations.COUNT_LIMIT", 3)
    monkeypatch.setitem(app.config, "RCP_PAGE_SIZE", 2)
    login("coordinator")
    _patients(make, 6)
    first = client.get("/patients?q=bénard").get_data(as_text=True)
    assert "Page 1 · plus de 3 résultats" in first
    assert 'href="/patients?q=b%C3%A9nard&amp;page=2"' in first
    second = client.get("/patients?q=bénard&page=2").get_data(as_text=True)
    assert "Page 2 · plus de 4 résultats" in second
    last = client.get("/patients?q=bénard&page=3").get_data(as_text=True)
    assert "Page 3 / 3 · 6 résultats" in last
