from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from ..core.forms import BaseForm


class LoginForm(BaseForm):
    username = StringField(
        "Identifiant",
        validators=[DataRequired(), Length(max=80)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "Mot de passe",
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class TotpForm(BaseForm):
    code = StringField(
        "Code à 6 chiffres",
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True},
        validators=[
            DataRequired(),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="Saisissez les 6 chiffres du code."),
        ],
    )


class PasswordChangeForm(BaseForm):
    current_password = PasswordField(
        "Mot de passe actuel",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "Nouveau mot de passe",
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Confirmation du nouveau mot de passe",
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password"},
    )


class ConfirmForm(BaseForm):
    """An empty form: a POST button protected by the CSRF token."""


USERNAME_RULE = Regexp(
    r"^[a-z0-9][a-z0-9._-]{1,79}$",
    message="Lettres minuscules sans accent, chiffres, point, tiret ou souligné (2 à 80).",
)
