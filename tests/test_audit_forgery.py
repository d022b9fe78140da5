"""What a database administrator without the audit key can forge, and how it is caught.

The chain is keyed (HMAC, key outside the database) and its head is sealed into checkpoints
kept outside the database: editing any column, renumbering after deleting rows, or cutting
the newest rows off are each detected, and named.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from rcp_app.core import audit, audit_anchor
from rcp_app.core.audit import GENESIS_HASH, AuditEntry
from rcp_app.extensions import db
from rcp_app.fiches.signature.seal import sealer, trust_roots
from tests.test_audit import _append, _tamper

WRONG_KEY = "the-forger-does-not-have-the-key"


@pytest.fixture(autouse=True)
def _own_checkpoint_folder(app, tmp_path, monkeypatch):
    """Each test's rows are rolled back: so must its checkpoints be."""
    monkeypatch.setitem(app.config, "RCP_AUDIT_CHECKPOINT_DIR", str(tmp_path / "ancrage"))


def _rows() -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()


def _rechain_without_key(rows: list[AuditEntry]) -> None:
    """Rewrite ``rows`` (renumbered, relinked, re-MACed with a guessed key) in place."""
    prev = GENESIS_HASH
    values = []
    for seq, row in enumerate(rows, start=1):
        db.session.expunge(row)
        row.seq, row.prev_hash = seq, prev
        row.hash = prev = row.compute_hash(WRONG_KEY)
        values.append({"i": row.id, "s": seq, "p": row.prev_hash, "h": row.hash})
    # Two passes so the unique seq never collides while renumbering.
    _disable_triggers()
    db.session.execute(text("UPDATE audit_log SET seq = -seq"))
    for value in values:
        db.session.execute(
            text("UPDATE audit_log SET seq = :s, prev_hash = :p, hash = :h WHERE id = :i"),
            value,
        )
    db.session.commit()


def _disable_triggers() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    else:
        db.session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        db.session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))


def _tampered_value(column, row: AuditEntry, other_user_id: int):
    value = getattr(row, column.key)
    if column.key == "user_id":
        return other_user_id
    if column.key == "at":
        return value + timedelta(seconds=1)
    if column.key in {"id", "seq"}:
        return value + 1000
    if column.key == "patient_id":
        return (value or 0) + 1
    if column.key in {"hash", "prev_hash"}:
        return "f" * 64
    if column.key == "details":
        return json.dumps({"n": 99})
    return (value or "") + "x"


AUDIT_COLUMNS = [c for c in AuditEntry.__table__.columns]


@pytest.mark.parametrize("column", AUDIT_COLUMNS, ids=[c.key for c in AUDIT_COLUMNS])
def test_tampering_any_column_is_detected(app, make, column):
    """Derived from the model: a column added later is covered without editing this test."""
    other = make.user(role="coordinator")
    seqs = _append(app, 3, patient_id=7, object_type="patient", object_id=7)
    with app.app_context():
        row = db.session.scalar(select(AuditEntry).where(AuditEntry.seq == seqs[1]))
        new_value = _tampered_value(column, row, other.id)
        assert new_value != getattr(row, column.key)
        _tamper(
            f"UPDATE audit_log SET {column.name} = :v WHERE seq = :s",  # noqa: S608 (model column)
            {"v": new_value, "s": seqs[1]},
        )
        report = audit.verify_chain()
        assert not report.ok, column.key
        assert report.broken_at in {seqs[1], seqs[1] + 1000, seqs[2]}


def test_mac_depends_on_the_key(app):
    [seq] = _append(app, 1)
    with app.app_context():
        row = db.session.scalar(select(AuditEntry).where(AuditEntry.seq == seq))
        assert row.hash == row.compute_hash("test-audit-key-not-for-production")
        assert row.hash != row.compute_hash(WRONG_KEY)


def test_rows_are_written_at_commit_and_dropped_on_rollback(app):
    with app.app_context():
        before = db.session.scalar(select(db.func.count(AuditEntry.id)))
        entry = audit.record("test.rolled_back")
        assert entry.seq is None
        db.session.rollback()
        audit.record("test.kept")
        db.session.commit()
        rows = _rows()
        assert len(rows) == before + 1 and rows[-1].action == "test.kept"
        assert audit.verify_chain().ok


# --- the three forgeries of the hardening issue ----------------------------------------------


def _checkpoint(app):
    with app.app_context():
        return audit_anchor.write_checkpoint(sealer)


def test_forgery_a_edited_row_with_recomputed_chain(app):
    seqs = _append(app, 4)
    with app.app_context():
        rows = _rows()
        target = next(r for r in rows if r.seq == seqs[1])
        target.details = json.dumps({"n": 42})
        _rechain_without_key(rows)
        report = audit.verify_chain()
        assert report.broken_at == 1 and "HMAC" in report.reason


def test_forgery_b_deleted_patient_rows_renumbered(app, make):
    patient = make.patient()
    _append(app, 2)
    _append(app, 2, action="patient.view", patient_id=patient.id)
    _append(app, 2)
    with app.app_context():
        _tamper("DELETE FROM audit_log WHERE patient_id = :p", {"p": patient.id})
        _rechain_without_key(_rows())
        report = audit.verify_chain()
        assert not report.ok and "HMAC" in report.reason


def test_forgery_c_truncated_tail_is_caught_by_the_checkpoint(app):
    seqs = _append(app, 60)
    checkpoint = _checkpoint(app)
    assert checkpoint.seq == seqs[-1]
    with app.app_context():
        _tamper("DELETE FROM audit_log WHERE seq > :s", {"s": seqs[-1] - 50})
        assert audit.verify_chain().ok  # what the chain alone cannot see
        read = audit_anchor.read_checkpoint(checkpoint.path, trust_roots)
        problem = audit_anchor.verify_against(read)
        assert problem.startswith("journal tronqué")
        assert f"n° {seqs[-1] - 50}" in problem and f"n° {seqs[-1]}" in problem


def test_cli_names_each_forgery(app):
    seqs = _append(app, 5)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rcp", "audit-checkpoint"])
    assert result.exit_code == 0 and "Point d'ancrage scellé" in result.output
    result = runner.invoke(args=["rcp", "audit-verify"])
    assert result.exit_code == 0 and "Conforme au point d'ancrage" in result.output
    with app.app_context():
        _tamper("DELETE FROM audit_log WHERE seq > :s", {"s": seqs[2]})
    result = runner.invoke(args=["rcp", "audit-verify"])
    assert result.exit_code == 1 and "journal tronqué" in result.output


def test_a_checkpoint_edited_by_hand_is_refused(app):
    _append(app, 2)
    checkpoint = _checkpoint(app)
    body = json.loads(checkpoint.path.read_text())
    body["seq"] = 1
    checkpoint.path.write_text(json.dumps(body, sort_keys=True))
    with app.app_context(), pytest.raises(audit_anchor.CheckpointError, match="sceau"):
        audit_anchor.read_checkpoint(checkpoint.path, trust_roots)
    result = app.test_cli_runner().invoke(
        args=["rcp", "audit-verify", "--checkpoint", str(checkpoint.path)]
    )
    assert result.exit_code == 1 and "NON VÉRIFIABLE" in result.output


def test_no_checkpoint_of_a_broken_chain(app):
    seqs = _append(app, 2)
    with app.app_context():
        _tamper("UPDATE audit_log SET username = 'x' WHERE seq = :s", {"s": seqs[0]})
        with pytest.raises(audit_anchor.CheckpointError, match="altéré"):
            audit_anchor.write_checkpoint(sealer)


def test_the_delivery_worker_seals_checkpoints(app, monkeypatch):
    _append(app, 3)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rcp", "deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert "Point d'ancrage du journal d'audit scellé" in result.output
    with app.app_context():
        assert audit_anchor.latest_checkpoint() is not None
    # Not again within the period.
    result = runner.invoke(args=["rcp", "deliver", "--once"])
    assert "Point d'ancrage" not in result.output
