"""The follow-up form: one screen, the outcome and what it needs.

Fields only carry what was typed; the operation checks every rule and names the field
(outcomes.py), so that a refused form comes back as typed with each message by its field.
"""

from __future__ import annotations

from wtforms import RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import Optional

from ..core.forms import BaseForm, VersionField
from ..core.timeutil import format_date
from .models import DEVIATION_REASONS, FollowUp
from .outcomes import OUTCOMES

FIELDS = (
    "state",
    "option_rank",
    "started_on",
    "other_treatment",
    "deviation_reason",
    "details",
    "event_on",
)
# Stored value -> what the field shows (conflict notes compare with what was typed).
ADAPT = {"started_on": format_date, "event_on": format_date}


def _radio(label: str, choices=()) -> RadioField:
    return RadioField(
        label,
        choices=[SelectChoice(code, text) for code, text in choices],
        validate_choice=False,
        validators=[Optional()],
    )


class FollowUpForm(BaseForm):
    state = _radio("Qu'est-il advenu de la proposition ?", OUTCOMES.items())
    option_rank = _radio("Ce qui a été commencé")
    started_on = StringField("Date de début du traitement", validators=[Optional()])
    other_treatment = TextAreaField(
        "Traitement commencé à la place de la proposition",
        validators=[Optional()],
        render_kw={"rows": 2},
    )
    deviation_reason = _radio("Motif de l'écart", DEVIATION_REASONS.items())
    details = TextAreaField("Précisions", validators=[Optional()], render_kw={"rows": 2})
    event_on = StringField("Date des dernières nouvelles ou du décès", validators=[Optional()])
    version = VersionField()

    def set_options(self, options: list[tuple[int, str]]) -> None:
        self.option_rank.choices = [SelectChoice(str(rank), text) for rank, text in options]

    def outcome_data(self) -> dict:
        return {name: self[name].data for name in FIELDS}


def stored_values(follow_up: FollowUp) -> dict:
    """The form's initial values: what is recorded (to correct it), nothing while pending."""
    if follow_up.state == "pending":
        return {}
    return {
        "state": follow_up.state,
        "option_rank": None if follow_up.option_rank is None else str(follow_up.option_rank),
        "started_on": format_date(follow_up.started_on),
        "other_treatment": follow_up.other_treatment,
        "deviation_reason": follow_up.deviation_reason,
        "details": follow_up.details,
        "event_on": format_date(follow_up.event_on),
    }
