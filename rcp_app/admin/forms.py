from datetime import date, datetime

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..auth.forms import USERNAME_RULE
from ..auth.models import ROLE_LABELS
from ..core.converters import coerce_choice_number
from ..core.forms import BaseForm, VersionField

NO_PROFESSIONAL = 0
STRENGTH_HELP = (
    "Au moins 12 caractères, avec au moins trois types parmi minuscules, majuscules, chiffres "
    "et caractères spéciaux."
)


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value else value


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the SelectChoice objects WTForms 3.3+ expects."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class _AccountFields(BaseForm):
    display_name = StringField("Nom affiché", validators=[DataRequired(), Length(max=160)])
    email = EmailField(
        "Adresse électronique",
        # Syntax only (as in operations.py): hospital domains may be internal ones that
        # email-validator refuses (.local, .test…).
        validators=[
            DataRequired(),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Adresse électronique invalide."),
            Length(max=254),
        ],
    )
    role = SelectField(
        "Rôle", choices=lambda: choices(ROLE_LABELS.items()), validators=[DataRequired()]
    )
    # Choices are set by the view (directory professionals); 0 means "none".
    professional_id = SelectField(
        "Professionnel de santé associé",
        coerce=coerce_choice_number,
        choices=lambda: choices([(NO_PROFESSIONAL, "— Aucun —")]),
    )
    active = BooleanField("Compte actif", default=True)


class UserCreateForm(_AccountFields):
    username = StringField(
        "Identifiant", validators=[DataRequired(), USERNAME_RULE], filters=[_lower]
    )
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField("Confirmation du mot de passe", validators=[DataRequired()])


class UserEditForm(_AccountFields):
    version = VersionField()


class PasswordResetForm(BaseForm):
    new_password = PasswordField(
        "Nouveau mot de passe", validators=[DataRequired(), Length(max=256)]
    )
    confirm = PasswordField("Confirmation du nouveau mot de passe", validators=[DataRequired()])


def parse_french_date(raw: str | None) -> date | None:
    """'31/01/2026', '31/1/2026' or ISO '2026-01-31' → date; '' → None; else ValueError."""
    raw = (raw or "").strip()
    if not raw:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
        if not 1900 <= parsed.year <= 2999:  # also keeps date arithmetic away from its limits
            break
        return parsed
    raise ValueError(raw)


def _french_date(form, field) -> None:
    try:
        field.parsed = parse_french_date(field.data)
    except ValueError:
        field.parsed = None
        raise ValidationError(
            f"Date invalide « {field.data} » : saisissez-la au format jj/mm/aaaa."
        ) from None


class AuditFilterForm(BaseForm):
    """Filters of the audit log page, read from the query string (GET, no CSRF token)."""

    class Meta:
        csrf = False

    user = StringField("Utilisateur", validators=[Optional(), Length(max=120)])
    action = StringField("Action (début)", validators=[Optional(), Length(max=64)])
    object_type = SelectField(
        "Type d'objet",
        choices=lambda: choices([("", "Tous")]),
        validate_choice=False,
        validators=[Optional(), Length(max=64)],
    )
    patient_id = StringField(
        "N° de patient",
        validators=[
            Optional(),
            # [0-9], not \d: Python's \d also matches « ٣ » (core/converters.py).
            Regexp(r"^\s*[0-9]{1,9}\s*$", message="Le numéro de patient est un nombre entier."),
        ],
    )
    date_from = StringField(
        "Du", validators=[Optional(), _french_date], render_kw={"placeholder": "jj/mm/aaaa"}
    )
    date_to = StringField(
        "Au", validators=[Optional(), _french_date], render_kw={"placeholder": "jj/mm/aaaa"}
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        start, end = self.date_from_value, self.date_to_value
        if start and end and start > end:
            self.date_to.errors.append("La date de fin précède la date de début.")
            return False
        return ok

    @property
    def date_from_value(self) -> date | None:
        return getattr(self.date_from, "parsed", None) if not self.date_from.errors else None

    @property
    def date_to_value(self) -> date | None:
        return getattr(self.date_to, "parsed", None) if not self.date_to.errors else None
