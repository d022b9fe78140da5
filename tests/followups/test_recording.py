"""Recording an outcome: what each outcome requires, the dates, the optimistic lock, the
correction of one's own entry within 24 hours, and the audit row."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rcp_app.auth.models import User
from rcp_app.core.audit import AuditEntry
from rcp_app.core.errors import Conflict
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from rcp_app.followups import operations as ops
from rcp_app.followups.models import FollowUp
from rcp_app.followups.outcomes import FollowUpInvalid
from tests.followups.support import follow_up_world, today


def _day(days_ago: int) -> str:
    return (today() - timedelta(days=days_ago)).strftime("%d/%m/%Y")


def _record(app, world, data, *, user_id=None, version=None, now=None):
    """Record as the requester (by default); returns the follow-up as stored, or raises."""
    with app.app_context():
        follow_up = db.session.get(FollowUp, world.follow_up_id)
        user = db.session.get(User, user_id or world.requester.id)
        try:
            ops.record_outcome(
                follow_up, user, data, follow_up.version if version is None else version, now
            )
        except Exception:
            db.session.rollback()
            raise
        db.session.commit()
        stored = db.session.get(FollowUp, world.follow_up_id)
        db.session.expunge(stored)
        return stored


def _problems(app, world, data) -> dict[str, list[str]]:
    with pytest.raises(FollowUpInvalid) as refused:
        _record(app, world, data)
    return refused.value.errors


@pytest.fixture
def world(app, make):
    return follow_up_world(app, make)


def test_started_as_proposed_stores_the_option_and_date(app, world):
    stored = _record(
        app, world, {"state": "started_as_proposed", "option_rank": "2", "started_on": _day(3)}
    )
    assert (stored.state, stored.option_rank) == ("started_as_proposed", 2)
    assert stored.started_on == today() - timedelta(days=3)
    assert stored.recorded_by_id == world.requester.id and stored.recorded_at is not None


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"started_on": _day(1)}, "option_rank", "Choisissez ce qui a été commencé"),
        ({"option_rank": "3", "started_on": _day(1)}, "option_rank", "Choisissez ce qui"),
        ({"option_rank": "-1", "started_on": _day(1)}, "option_rank", "Choisissez ce qui"),
        ({"option_rank": "٣", "started_on": _day(1)}, "option_rank", "Choisissez ce qui"),
        ({"option_rank": "0"}, "started_on", "Indiquez la date de début du traitement."),
        ({"option_rank": "0", "started_on": "31/02/2026"}, "started_on", "n'est pas une date"),
        ({"option_rank": "0", "started_on": _day(-1)}, "started_on", "dans le futur"),
        ({"option_rank": "0", "started_on": _day(40)}, "started_on", "précède la validation"),
    ],
)
def test_started_as_proposed_refusals(app, world, data, field, words):
    problems = _problems(app, world, {"state": "started_as_proposed", **data})
    assert list(problems) == [field]
    assert words in problems[field][0]


def test_the_validation_day_itself_is_a_valid_start(app, world):
    stored = _record(
        app, world, {"state": "started_as_proposed", "option_rank": "0", "started_on": _day(31)}
    )
    assert stored.started_on == today() - timedelta(days=31)


def test_started_other_needs_treatment_date_and_reason(app, world):
    problems = _problems(app, world, {"state": "started_other"})
    assert problems == {
        "other_treatment": ["Indiquez le traitement commencé à la place."],
        "started_on": ["Indiquez la date de début du traitement."],
        "deviation_reason": [
            "Choisissez pourquoi le traitement commencé diffère de la proposition."
        ],
    }


def test_other_reason_needs_details(app, world):
    data = {
        "state": "started_other",
        "other_treatment": "Hormonothérapie",
        "started_on": _day(2),
        "deviation_reason": "other",
    }
    assert _problems(app, world, data) == {"details": ["Précisez le motif (« Autre raison »)."]}
    stored = _record(app, world, {**data, "details": "Essai thérapeutique ailleurs"})
    assert (stored.deviation_reason, stored.details) == ("other", "Essai thérapeutique ailleurs")
    assert stored.option_rank is None


def test_unknown_reason_and_long_texts_are_refused(app, world):
    problems = _problems(
        app,
        world,
        {
            "state": "started_other",
            "other_treatment": "x" * 501,
            "started_on": _day(2),
            "deviation_reason": "boredom",
            "details": "y" * 2001,
        },
    )
    assert problems["deviation_reason"] == ["Motif inconnu : choisissez-le dans la liste."]
    assert "500 caractères" in problems["other_treatment"][0]
    assert "2000 caractères" in problems["details"][0]


def test_a_forbidden_character_names_the_field(app, world):
    problems = _problems(
        app,
        world,
        {"state": "not_started", "deviation_reason": "other", "details": "Refus\x00"},
    )
    assert "Précisions" in problems["details"][0]


def test_not_started_needs_its_reason(app, world):
    assert _problems(app, world, {"state": "not_started"}) == {
        "deviation_reason": ["Choisissez pourquoi le traitement n'a pas commencé."]
    }
    stored = _record(app, world, {"state": "not_started", "deviation_reason": "patient_choice"})
    assert stored.state == "not_started" and stored.started_on is None


def test_lost_and_deceased_dates_are_optional_but_checked(app, world):
    problems = _problems(app, world, {"state": "deceased", "event_on": _day(-2)})
    assert "La date du décès" in problems["event_on"][0]
    assert "dans le futur" in problems["event_on"][0]
    problems = _problems(app, world, {"state": "lost", "event_on": "01/01/1900"})
    assert "La date des dernières nouvelles" in problems["event_on"][0]
    stored = _record(app, world, {"state": "lost"})
    assert stored.state == "lost" and stored.event_on is None


def test_only_the_chosen_outcome_is_stored(app, world):
    stored = _record(
        app,
        world,
        {
            "state": "deceased",
            "event_on": _day(1),
            "option_rank": "1",
            "started_on": _day(2),
            "other_treatment": "Hormonothérapie",
            "deviation_reason": "other",
            "details": "Texte",
        },
    )
    assert stored.event_on == today() - timedelta(days=1)
    assert (stored.option_rank, stored.started_on, stored.other_treatment) == (None, None, "")
    assert (stored.deviation_reason, stored.details) == (None, "")


def test_a_stale_version_is_refused_and_nothing_changes(app, world):
    first = _record(app, world, {"state": "lost"})
    with pytest.raises(ops.StaleFollowUp) as refused:
        _record(
            app,
            world,
            {"state": "deceased"},
            user_id=world.coordinator.id,
            version=first.version - 1,
        )
    assert "renseigné par un autre utilisateur" in refused.value.message
    with pytest.raises(ops.StaleFollowUp):
        _record(app, world, {"state": "deceased"}, user_id=world.coordinator.id, version="")
    with app.app_context():
        assert db.session.get(FollowUp, world.follow_up_id).state == "lost"


def test_the_author_corrects_a_final_entry_within_24_hours(app, world):
    _record(app, world, {"state": "deceased"})
    corrected = _record(
        app, world, {"state": "started_as_proposed", "option_rank": "0", "started_on": _day(1)}
    )
    assert corrected.state == "started_as_proposed"
    with app.app_context():
        rows = db.session.scalars(
            db.select(AuditEntry)
            .where(AuditEntry.action == "followup.record")
            .order_by(AuditEntry.seq)
        ).all()
        details = [r.details_dict() for r in rows if r.object_id == str(world.follow_up_id)]
    assert details[-1]["correction"] is True
    assert (details[-1]["from"], details[-1]["to"]) == ("deceased", "started_as_proposed")


def test_no_correction_by_someone_else_nor_after_24_hours(app, world):
    _record(app, world, {"state": "deceased"})
    with pytest.raises(Conflict) as refused:
        _record(app, world, {"state": "lost"}, user_id=world.coordinator.id)
    assert "Seule la personne qui l'a saisi peut le corriger" in refused.value.message
    later = utcnow() + timedelta(hours=24, minutes=1)
    with pytest.raises(Conflict):
        _record(app, world, {"state": "lost"}, now=later)


def test_the_audit_row_holds_codes_and_dates_not_texts(app, world):
    _record(
        app,
        world,
        {
            "state": "started_other",
            "other_treatment": "Hormonothérapie confidentielle",
            "started_on": _day(2),
            "deviation_reason": "other",
            "details": "Raison intime",
        },
    )
    with app.app_context():
        row = db.session.scalars(
            db.select(AuditEntry)
            .where(AuditEntry.action == "followup.record")
            .order_by(AuditEntry.seq.desc())
        ).first()
    assert row.patient_id == world.patient_id and row.object_type == "follow_up"
    details = row.details_dict()
    assert details == {
        "from": "pending",
        "to": "started_other",
        "deviation_reason": "other",
        "started_on": (today() - timedelta(days=2)).isoformat(),
    }
    assert "confidentielle" not in row.details and "intime" not in row.details
