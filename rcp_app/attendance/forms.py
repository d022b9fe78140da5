"""Attendance forms: add a present professional, add a required specialty to a case."""

from __future__ import annotations

from wtforms import BooleanField, RadioField, SelectChoice, SelectField
from wtforms.validators import DataRequired, InputRequired

from ..core.forms import BaseForm
from ..core.text import search_key
from .models import MODES


class AttendanceForm(BaseForm):
    # The operation checks the professional exists and is active (a clear message otherwise).
    professional_id = SelectField(
        "Professionnel présent", validators=[DataRequired()], validate_choice=False
    )
    mode = RadioField(
        "Mode de présence",
        choices=[SelectChoice(code, label) for code, label in MODES.items()],
        default="on_site",
        validators=[InputRequired(message="Choisissez sur place ou à distance.")],
        validate_choice=False,
    )
    quorum_member = BooleanField("Membre du quorum", default=True)

    def set_choices(self, professionals, labels: dict[str, str], present=frozenset()) -> None:
        """Active professionals not yet present, grouped by specialty (optgroups), by name."""
        rows = []
        for p in professionals:
            if p.id in present:
                continue
            group = labels.get(p.specialty_code, p.specialty_code)
            where = f" — {p.establishment.name}" if p.establishment else ""
            rows.append((search_key(group), group, str(p.id), f"{p.display_name}{where}"))
        rows.sort(key=lambda row: row[0])  # stable: by name within a specialty
        self.professional_id.choices = [SelectChoice("", "— Choisir un professionnel —")] + [
            SelectChoice(value, label, optgroup=group) for _, group, value, label in rows
        ]


class CaseSpecialtyForm(BaseForm):
    specialty_code = SelectField(
        "Spécialité exigée en plus", validators=[DataRequired()], validate_choice=False
    )

    def set_choices(self, pairs: list[tuple[str, str]]) -> None:
        self.specialty_code.choices = [SelectChoice("", "— Choisir —")] + [
            SelectChoice(code, label) for code, label in pairs
        ]
