"""The append-only, hash-chained audit log: chain, tamper detection, triggers, CLI, admin pages."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from rcp_app.core import audit
from rcp_app.core.audit import GENESIS_HASH, AuditEntry
from rcp_app.core.timeutil import PARIS
from rcp_app.extensions import db


def _append(app, count: int = 3, **fields) -> list[int]:
    """Append ``count`` rows (committed inside the test transaction); return their seq."""
    with app.app_context():
        entries = [
            audit.record(
                fields.get("action", f"test.action{i}"),
                fields.get("object_type"),
                fields.get("object_id"),
                patient_id=fields.get("patient_id"),
                details={"n": i, "texte": "é"},
            )
            for i in range(count)
        ]
        db.session.commit()  # rows get their place in the chain at commit
        return [entry.seq for entry in entries]


def _tamper(sql: str, params: dict) -> None:
    """What a database administrator bypassing the application could do: switch off the
    append-only trigger, then change rows (all inside the test's transaction, rolled back)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    else:
        db.session.execute(text("DROP TRIGGER audit_log_no_update"))
        db.session.execute(text("DROP TRIGGER audit_log_no_delete"))
    db.session.execute(text(sql), params)
    db.session.commit()


# --- the chain -----------------------------------------------------------------------------


def test_rows_are_chained(app):
    seqs = _append(app, 3)
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        assert rows[0].prev_hash == GENESIS_HASH
        for previous, row in zip(rows, rows[1:], strict=False):
            assert row.prev_hash == previous.hash
            assert row.hash == row.compute_hash() and len(row.hash) == 64
        assert [r.seq for r in rows[-3:]] == seqs
        assert rows[-1].details_dict() == {"n": 2, "texte": "é"}


def test_actor_comes_from_the_request(app, client, login):
    admin = login("admin")
    client.get("/admin/audit")  # any request after login
    with app.app_context():
        row = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "auth.login")
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert row.user_id == admin.id and row.username == admin.username
        assert row.ip == "127.0.0.1"


def test_verify_chain_ok(app):
    _append(app, 5)
    with app.app_context():
        report = audit.verify_chain(batch_size=2)  # several batches
        assert report.ok and report.broken_at is None
        assert report.checked == db.session.scalar(select(db.func.count(AuditEntry.id)))


def test_modified_details_are_detected(app):
    seqs = _append(app, 4)
    with app.app_context():
        _tamper(
            "UPDATE audit_log SET details = :d WHERE seq = :s", {"d": '{"n": 99}', "s": seqs[1]}
        )
        report = audit.verify_chain()
        assert not report.ok
        assert report.broken_at == seqs[1]
        assert "contenu modifié" in report.reason


def test_recomputed_hash_breaks_the_next_link(app):
    """A forger who also recomputes the row's hash breaks the link with the next row."""
    seqs = _append(app, 3)
    with app.app_context():
        row = db.session.scalar(select(AuditEntry).where(AuditEntry.seq == seqs[0]))
        db.session.expunge(row)
        row.details = '{"n": 42}'
        forged = row.compute_hash()
        _tamper(
            "UPDATE audit_log SET details = :d, hash = :h WHERE seq = :s",
            {"d": row.details, "h": forged, "s": seqs[0]},
        )
        report = audit.verify_chain()
        assert report.broken_at == seqs[1]
        assert "lien" in report.reason


def test_deleted_middle_row_is_detected(app):
    seqs = _append(app, 3)
    with app.app_context():
        _tamper("DELETE FROM audit_log WHERE seq = :s", {"s": seqs[1]})
        report = audit.verify_chain()
        assert report.broken_at == seqs[2]
        assert "séquence interrompue" in report.reason


# --- append-only -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'falsifie' WHERE seq = :s",
        "DELETE FROM audit_log WHERE seq = :s",
    ],
)
def test_database_refuses_update_and_delete(app, statement):
    [seq] = _append(app, 1)
    with app.app_context():
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text(statement), {"s": seq})
        db.session.rollback()
        assert (
            db.session.scalar(select(AuditEntry.action).where(AuditEntry.seq == seq))
            == "test.action0"
        )


def test_orm_refuses_update(app):
    [seq] = _append(app, 1)
    with app.app_context():
        row = db.session.scalar(select(AuditEntry).where(AuditEntry.seq == seq))
        row.action = "falsifie"
        with pytest.raises(RuntimeError, match="modification interdite"):
            db.session.flush()
        db.session.rollback()


def test_orm_refuses_delete(app):
    [seq] = _append(app, 1)
    with app.app_context():
        row = db.session.scalar(select(AuditEntry).where(AuditEntry.seq == seq))
        db.session.delete(row)
        with pytest.raises(RuntimeError, match="suppression interdite"):
            db.session.flush()
        db.session.rollback()


def test_no_route_changes_audit_rows(app):
    """Only GET pages exist under /admin/audit: no edit, no delete."""
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin/audit")]
    assert {r.endpoint for r in rules} == {"admin.audit_log", "admin.audit_verify"}
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


# --- CLI -----------------------------------------------------------------------------------


def test_cli_audit_verify(app):
    """The CLI runs in its own app context but shares the test's connection (conftest), so it
    sees the rows appended and then altered here."""
    seqs = _append(app, 3)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rcp", "audit-verify"])
    assert result.exit_code == 0, result.output
    assert "Journal d'audit intègre" in result.output
    with app.app_context():
        _tamper("UPDATE audit_log SET username = 'quelquun' WHERE seq = :s", {"s": seqs[2]})
    result = runner.invoke(args=["rcp", "audit-verify"])
    assert result.exit_code == 1
    assert f"ALTÉRÉ à l'entrée n° {seqs[2]}" in result.output


# --- admin pages ---------------------------------------------------------------------------


def _rows_shown(html: str) -> int:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.count("<tr>") - body.count("Aucune entrée")


def test_audit_page_lists_newest_first(app, client, login):
    login("admin")
    _append(app, 2, action="test.ordre")
    html = client.get("/admin/audit?action=test.ordre").get_data(as_text=True)
    first, second = html.index("n : 1 · texte : é"), html.index("n : 0 · texte : é")
    assert first < second  # newest first
    assert "127.0.0.1" in client.get("/admin/audit").get_data(as_text=True)


def test_audit_page_filters(app, client, login, make):
    admin = login("admin")
    patient = make.patient()
    _append(
        app,
        2,
        action="patient.view",
        object_type="patient",
        object_id=patient.id,
        patient_id=patient.id,
    )
    _append(app, 1, action="user.create", object_type="user", object_id=1)

    def shown(query: str) -> str:
        response = client.get("/admin/audit?" + query)
        assert response.status_code == 200, query
        return response.get_data(as_text=True)

    html = shown("action=patient.")
    assert _rows_shown(html) == 2 and "user.create" not in html.split("<tbody>")[1]
    html = shown(f"patient_id={patient.id}")
    assert _rows_shown(html) == 2
    html = shown("object_type=user&action=user.create")
    assert _rows_shown(html) == 1
    html = shown(f"user={admin.username.upper()}&action=auth.login")
    assert _rows_shown(html) == 1
    html = shown("user=personne")
    assert "Aucune entrée ne correspond" in html
    now = datetime.now(PARIS)  # the filter's days are Paris calendar days
    today = now.strftime("%d/%m/%Y")
    assert _rows_shown(shown(f"action=patient.&date_from={today}&date_to={today}")) == 2
    iso_today = now.strftime("%Y-%m-%d")
    assert _rows_shown(shown(f"action=patient.&date_from={iso_today}")) == 2
    later = (now + timedelta(days=2)).strftime("%d/%m/%Y")
    assert _rows_shown(shown(f"action=patient.&date_from={later}")) == 0
    earlier = (now - timedelta(days=2)).strftime("%d/%m/%Y")
    assert _rows_shown(shown(f"action=patient.&date_to={earlier}")) == 0
    # A LIKE wildcard in the prefix is taken literally.
    assert _rows_shown(shown("action=%25")) == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=31/02/2026", "Date invalide « 31/02/2026 »"),
        ("date_to=demain", "Date invalide « demain »"),
        ("date_from=01/01/0001", "Date invalide"),
        ("date_to=31/12/9999", "Date invalide"),
        ("date_from=10/01/2026&date_to=01/01/2026", "La date de fin précède la date de début."),
        ("patient_id=abc", "Le numéro de patient est un nombre entier."),
        ("patient_id=99999999999999999999", "Le numéro de patient est un nombre entier."),
        ("page=zzz&user=" + "x" * 300, "Le champ ne peut pas contenir plus de 120 caractères"),
    ],
)
def test_audit_page_bad_filters_give_french_messages(client, login, query, message):
    login("admin")
    response = client.get("/admin/audit?" + query)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "Certains filtres sont invalides" in html


def test_audit_page_paginates(app, client, login, monkeypatch):
    login("admin")
    monkeypatch.setitem(app.config, "RCP_PAGE_SIZE", 2)
    _append(app, 5, action="test.page")
    html = client.get("/admin/audit?action=test.page").get_data(as_text=True)
    assert "Page 1 / 3" in html and _rows_shown(html) == 2
    html = client.get("/admin/audit?action=test.page&page=3").get_data(as_text=True)
    assert "Page 3 / 3" in html and _rows_shown(html) == 1
    assert client.get("/admin/audit?action=test.page&page=999").status_code == 200


def test_audit_verification_page(app, client, login):
    login("admin")
    seqs = _append(app, 2)
    html = client.get("/admin/audit/verification").get_data(as_text=True)
    assert "Journal intègre." in html
    with app.app_context():
        _tamper("UPDATE audit_log SET ip = '10.6.6.6' WHERE seq = :s", {"s": seqs[0]})
    html = client.get("/admin/audit/verification").get_data(as_text=True)
    assert f"Journal altéré à l'entrée n° {seqs[0]}" in html
