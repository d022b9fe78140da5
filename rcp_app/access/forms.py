"""Forms of the exceptional access (« bris de glace ») and of its review."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..core.forms import BaseForm
from .models import EXCEPTIONAL_REASONS

# Long enough for a sentence or two of context; the record is not the place for more.
REASON_TEXT_MAX = 500
REVIEW_COMMENT_MAX = 1000


class ExceptionalAccessForm(BaseForm):
    reason = RadioField(
        "Motif",
        choices=[SelectChoice(code, label) for code, label in EXCEPTIONAL_REASONS.items()],
        validators=[InputRequired(message="Choisissez le motif de l'accès.")],
        # An unknown code is refused by the operation, with its own message.
        validate_choice=False,
    )
    # « Autre » needs it: the operation says so (the rule lives in one place).
    text = TextAreaField(
        "Précisions",
        validators=[
            Optional(),
            Length(max=REASON_TEXT_MAX, message=f"{REASON_TEXT_MAX} caractères au maximum."),
        ],
    )
    # Where to go once the access is open (the refused page): checked by core/redirects.py.
    next = HiddenField()


class ReviewForm(BaseForm):
    comment = TextAreaField(
        "Commentaire",
        validators=[
            Optional(),
            Length(max=REVIEW_COMMENT_MAX, message=f"{REVIEW_COMMENT_MAX} caractères au maximum."),
        ],
    )
