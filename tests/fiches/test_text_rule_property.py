"""Property: whatever Unicode text is typed in every text field of the case, the decision (JSON
autosave) and the amendment, either the input rule refuses it with a French message naming the
field, or the fiche is validated, signed, and its CDA passes CDA_extended.xsd.

Fields are derived, not listed: every leaf text field of the case form, stored in every prose
column (Text, or String of 200 characters and more) of the case, its tumour and treatment
rows; every text value of the decision the operations parse; the amendment's reason. One fiche
(and one amendment) per example: signing is what costs time.
"""

from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField

from rcp_app.auth.models import User
from rcp_app.cases.forms import CaseEditForm
from rcp_app.cases.models import Case, Treatment, Tumour
from rcp_app.core.errors import DomainError
from rcp_app.core.forms import leaf_fields
from rcp_app.core.text import forbidden_character, normalise_text, refusal_message
from rcp_app.decisions import operations as decision_ops
from rcp_app.decisions.models import Decision
from rcp_app.extensions import db
from rcp_app.fiches import operations as fiche_ops
from rcp_app.meetings.models import AgendaItem
from tests.fiches.conformance import ans_cisis_dir, xsd_errors
from tests.fiches.support import CHEMOTHERAPY, READY, build_world
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.skipif(
    not os.environ.get("CI") and not (ans_cisis_dir() / "infrastructure").is_dir(),
    reason="ANS CI-SIS files absent (../shared/ans-cisis); under CI=true these tests fail instead",
)

PROSE_LENGTH = 200  # a String column this long holds prose (names, authors), not a code
REFUSAL = re.compile(
    r"Le champ « (.+) » contient un caractère "
    r"(?:invisible non autorisé \(U\+|non pris en charge dans les documents : )"
)

# Arbitrary text (control characters, surrogates, non-characters included), and text made of
# what the rule accepts, so that both outcomes are explored.
ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=40)
ACCEPTED_TEXT = st.text(
    st.sampled_from("\t\n\r\x0b\x0c") | st.characters(blacklist_categories=("Cc", "Cs", "Cn")),
    max_size=40,
)


def _prose_columns(model) -> list[str]:
    return [
        c.name
        for c in model.__table__.columns
        if isinstance(c.type, sa.Text)
        or (isinstance(c.type, sa.String) and (c.type.length or 0) >= PROSE_LENGTH)
    ]


def _case_text_fields(form) -> list:
    return [
        f
        for f in leaf_fields(form)
        if isinstance(f, StringField) and not isinstance(f, HiddenField)
    ]


def _decision_text_fields() -> list[str]:
    """Every value operations.parse reads as text (its TEXT_FIELDS, reasons, alternatives)."""
    alternatives = [n for n in decision_ops.LABELS if n.startswith("alt_details_")]
    return [*decision_ops.TEXT_FIELDS, "postpone_reason", *alternatives]


def _decision_data(text: str) -> dict:
    data = {**READY, **{n: text for n in _decision_text_fields()}}
    for rank in range(1, decision_ops.MAX_ALTERNATIVES + 1):
        data[f"alt_code_{rank}"] = CHEMOTHERAPY  # details need a treatment type
    return data


def _case_through_the_form(app, world, text: str, refused: str | None) -> None:
    """Every text field of the case form gets the text; what the rule accepts is stored (after
    a letter: a submitted case must keep a question)."""
    text = f"Q{text}"
    with app.test_request_context(method="POST"):
        names = [f.name for f in _case_text_fields(CaseEditForm(meta={"csrf": False}))]
        form = CaseEditForm(MultiDict({n: text for n in names}), meta={"csrf": False})
        form.validate()
        fields = {f.name: f for f in _case_text_fields(form)}
        assert sorted(fields) == sorted(names)
        for field in fields.values():
            if refused is not None:
                assert refusal_message(field.label.text, refused) in field.errors, field.name
            else:
                assert not any(REFUSAL.match(e) for e in field.errors), field.errors
                assert field.data == normalise_text(text)
    if refused is not None:
        return
    value = normalise_text(text)
    with app.app_context():
        case = db.session.get(Case, world.case_id)
        tumour = db.session.scalar(sa.select(Tumour).where(Tumour.case_id == case.id))
        treatment = Treatment(case_id=case.id, rank=1, type_code=CHEMOTHERAPY, status="done")
        db.session.add(treatment)
        stored = 0
        for row, prefix in (
            (case, ""),
            (tumour, "tumour_rows-0-"),
            (treatment, "treatment_rows-0-"),
        ):
            for column in _prose_columns(type(row)):
                if prefix + column in fields:
                    setattr(row, column, value)
                    stored += 1
        assert stored >= 12  # the derivation found the case's prose fields
        db.session.commit()


def _sign_and_check(app, world, version: int) -> None:
    with app.app_context():
        fiche = fiche_ops.fiches_of_session(db.session.get(AgendaItem, world.item_id).session)[
            world.case_id
        ]
        cda = fiche_ops.current_version(fiche).document("cda").content
        assert fiche.current_version == version
    assert xsd_errors(cda) == []


@settings(
    max_examples=int(os.environ.get("RCP_TEXT_RULE_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=ANY_TEXT | ACCEPTED_TEXT)
def test_any_text_is_refused_by_name_or_signed_into_a_valid_cda(app, make, text):
    refused = forbidden_character(normalise_text(text))
    event("refused" if refused else "signed")
    world = build_world(app, make, decision=None)
    # A new client per example: each example's validator is another user, and the login page
    # ignores a second sign-in while the first user is still logged in.
    client = app.test_client()
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    url = f"/seances/{world.session_id}/reunion/{world.item_id}/decision"

    _case_through_the_form(app, world, text, refused)

    response = client.post(url, json={**_decision_data(text), "version": 0})
    if refused is not None:
        assert response.status_code in (400, 422)
        body = response.get_json()
        assert body["message"] == refusal_message(decision_ops.LABELS[body["field"]], refused)
        with app.app_context():
            assert (
                db.session.scalar(sa.select(Decision).where(Decision.item_id == world.item_id))
                is None
            )
        response = client.post(url, json={**READY, "version": 0})  # a clean decision
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        if refused is None:
            decision = decision_ops.decision_of(item)
            for name in decision_ops.TEXT_FIELDS:
                assert getattr(decision, name) == normalise_text(text).strip()
        assert decision_ops.mark_ready(item) == []
        user = db.session.get(User, world.validator_user_id)
        fiche_ops.validate(item, user)
        db.session.commit()
    _sign_and_check(app, world, 1)

    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        user = db.session.get(User, world.validator_user_id)
        fiche = fiche_ops.fiches_of_session(item.session)[item.case_id]
        try:
            fiche_ops.amend(fiche, user, _decision_data(text), f"Motif {text}", 1)
        except DomainError as error:
            db.session.rollback()
            assert refused is not None, error.message
            label = REFUSAL.match(error.message).group(1)
            assert label in [*decision_ops.LABELS.values(), "Motif de l'avenant"]
            assert error.message == refusal_message(label, refused)
        else:
            assert refused is None
            db.session.commit()
    _sign_and_check(app, world, 1 if refused else 2)
