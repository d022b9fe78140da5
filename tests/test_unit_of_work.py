"""One transaction per request: operations flush, core/resilience.py commits once.

The request commits when the view answers below 500 (or aborts below 500), rolls back
otherwise; views never commit themselves, except ``transactions.commit_phase()`` right before
``release()``; loaded rows stay usable after a commit (``expire_on_commit`` off).
"""

from __future__ import annotations

import ast
import json
from html import unescape
from pathlib import Path

import pytest
from flask import abort, render_template_string
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import selectinload

from rcp_app.cases.models import Case
from rcp_app.core import audit, resilience
from rcp_app.core.audit import AuditEntry
from rcp_app.core.transactions import release
from rcp_app.directory.models import Establishment
from rcp_app.extensions import db
from rcp_app.patients.models import Patient
from tests.test_patients import edit_data
from tests.test_resilience import _db_error

PACKAGE = Path(__file__).resolve().parents[1] / "rcp_app"
NOT_YET: set[str] = set()  # views that still commit (none)


def _view_modules(app) -> set[Path]:
    """Every views.py of the package, and every module that holds a registered view."""
    paths = set(PACKAGE.rglob("views.py"))
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        module = getattr(view, "__wrapped__", view).__module__
        if module.startswith("rcp_app."):
            paths.add(PACKAGE.joinpath(*module.split(".")[1:]).with_suffix(".py"))
    return paths


def _commit_calls(path: Path) -> list[int]:
    """Lines calling ``<anything>.commit(``: the phase helper is ``commit_phase()``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_no_view_commits(app):
    modules = _view_modules(app)
    assert len(modules) >= 10  # the walk found the views
    committing = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(modules)
        if (lines := _commit_calls(path))
    }
    assert {name: lines for name, lines in committing.items() if name not in NOT_YET} == {}, (
        "A view commits: operations flush and the request commits once "
        "(core/resilience.py); before release(), use transactions.commit_phase()."
    )
    assert set(committing) >= NOT_YET, "These views no longer commit: empty NOT_YET."


def test_the_check_sees_a_commit(tmp_path):
    module = tmp_path / "views.py"
    module.write_text("def view():\n    x = 1\n    db.session.commit()\n    commit_phase()\n")
    assert _commit_calls(module) == [3]


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _establishment(name: str) -> Establishment:
    row = Establishment(name=name, finess="010000024", city="Angers")
    db.session.add(row)
    return row


def test_a_view_that_fails_after_a_flush_writes_nothing(app):
    def view():
        _establishment("Clinique jamais écrite")
        audit.record("test.uow", "establishment", 0)
        db.session.flush()  # written to the transaction, not yet committed
        raise RuntimeError("bug after the flush")

    with app.test_request_context("/x", method="POST"), pytest.raises(RuntimeError):
        resilience.retrying(view)()
    with app.app_context():
        assert _count(Establishment, Establishment.name == "Clinique jamais écrite") == 0
        assert _count(AuditEntry, AuditEntry.action == "test.uow") == 0


def test_a_5xx_answer_writes_nothing_and_a_4xx_abort_keeps_its_audit_row(app):
    def server_error():
        _establishment("Clinique 500")
        audit.record("test.uow.500", "establishment", 0)
        return "erreur", 500

    def refused():
        audit.record("test.uow.403", "establishment", 0)  # e.g. a refused access, audited
        abort(403)

    with app.test_request_context("/x", method="POST"):
        assert resilience.retrying(server_error)().status_code == 500
        with pytest.raises(Exception) as raised:
            resilience.retrying(refused)()
        assert getattr(raised.value, "code", None) == 403
    with app.app_context():
        assert _count(Establishment, Establishment.name == "Clinique 500") == 0
        assert _count(AuditEntry, AuditEntry.action == "test.uow.500") == 0
        assert _count(AuditEntry, AuditEntry.action == "test.uow.403") == 1


def test_a_deadlock_at_commit_runs_the_view_again(app, monkeypatch):
    calls = []
    commit = db.session.commit

    def view():
        calls.append(1)
        _establishment(f"Clinique essai {len(calls)}")
        return "ok"

    def deadlocked_once():
        if len(calls) == 1:
            raise _db_error("deadlock detected", "40P01")
        commit()

    with app.test_request_context("/x", method="POST"):
        monkeypatch.setattr(db.session, "commit", deadlocked_once)
        response = resilience.retrying(view, sleep=lambda _s: None)()
        monkeypatch.undo()
        assert response.get_data(as_text=True) == "ok" and len(calls) == 2
    with app.app_context():
        names = db.session.scalars(
            select(Establishment.name).where(Establishment.name.startswith("Clinique essai"))
        ).all()
        assert names == ["Clinique essai 2"]  # the first attempt was rolled back whole


def test_a_refused_edit_shown_again_writes_only_its_audit_row(app, client, login, make):
    patient = make.patient()
    login("coordinator")
    response = client.post(
        f"/patients/{patient.id}/modifier",
        data=edit_data(patient, used_name="Nouveau", identity_status="INCONNU"),
    )
    assert response.status_code == 200
    assert "Statut de l'identité inconnu" in unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Patient, patient.id).used_name is None  # the refusal undone
        views = db.session.scalars(
            select(AuditEntry.details).where(
                AuditEntry.action == "patient.view", AuditEntry.object_id == str(patient.id)
            )
        ).all()
        assert [json.loads(d).get("context") for d in views] == ["edit"]  # the page, audited
        assert _count(AuditEntry, AuditEntry.action == "patient.update") == 0


def test_loaded_rows_render_after_the_commit_without_reloading(app, make):
    ids = [make.case().id for _ in range(3)]
    statements: list[str] = []
    with app.test_request_context("/dossiers"):
        assert db.session().expire_on_commit is False
        cases = db.session.scalars(
            select(Case).where(Case.id.in_(ids)).options(selectinload(Case.patient))
        ).all()
        db.session.commit()

        def note(_conn, _cursor, statement, *_args):
            statements.append(statement)

        engine = db.session.get_bind()
        event.listen(engine, "before_cursor_execute", note)
        try:
            html = render_template_string(
                "{% for c in cases %}{{ c.id }}:{{ c.status }}:{{ c.patient.birth_name }};"
                "{% endfor %}",
                cases=cases,
            )
        finally:
            event.remove(engine, "before_cursor_execute", note)
    assert html.count(";") == 3 and all(f"{i}:" in html for i in ids)
    assert statements == []  # nothing expired by the commit: no query per row


def test_outside_a_request_a_commit_still_expires_except_release(app, make):
    """The worker and CLI commands re-read rows other processes change (core/transactions.py)."""
    establishment_id = make.establishment().id
    with app.app_context():
        row = db.session.get(Establishment, establishment_id)
        db.session.commit()
        assert "name" in inspect(row).expired_attributes
        row.name  # noqa: B018  (loaded again)
        release()
        assert not inspect(row).expired_attributes
    with app.test_request_context("/x"):
        row = db.session.get(Establishment, establishment_id)
        db.session.commit()
        assert not inspect(row).expired_attributes
