"""Session form (ad hoc creation and edit). Dates and times are typed in Europe/Paris."""

from __future__ import annotations

from datetime import datetime

from wtforms import StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..core.converters import IntegerField
from ..core.forms import BaseForm, FrenchDateField, VersionField
from ..core.links import HttpsLink
from ..core.timeutil import to_paris
from .operations import local_to_utc


class SessionForm(BaseForm):
    date = FrenchDateField("Date de la séance", validators=[DataRequired()])
    time = TimeField("Heure de début", validators=[DataRequired()])
    place = StringField("Lieu", validators=[Optional(), Length(max=200)])
    video_url = StringField(
        "Lien de visioconférence",
        validators=[Optional(), HttpsLink()],
    )
    capacity = IntegerField(
        "Capacité (nombre de dossiers)",
        validators=[
            InputRequired(),
            NumberRange(min=1, max=200, message="Entre 1 et 200 dossiers."),
        ],
    )
    deadline_date = FrenchDateField("Date limite d'inscription", validators=[DataRequired()])
    deadline_time = TimeField("Heure limite", validators=[DataRequired()])
    version = VersionField()

    def values(self) -> dict:
        return {
            "starts_at": local_to_utc(datetime.combine(self.date.data, self.time.data)),
            "deadline_at": local_to_utc(
                datetime.combine(self.deadline_date.data, self.deadline_time.data)
            ),
            "place": (self.place.data or "").strip(),
            "video_url": (self.video_url.data or "").strip() or None,
            "capacity": self.capacity.data,
        }

    def fill_from(self, session) -> None:
        starts, deadline = to_paris(session.starts_at), to_paris(session.deadline_at)
        self.date.data, self.time.data = starts.date(), starts.time().replace(tzinfo=None)
        self.deadline_date.data = deadline.date()
        self.deadline_time.data = deadline.time().replace(tzinfo=None)
        self.place.data = session.place
        self.video_url.data = session.video_url
        self.capacity.data = session.capacity
        self.version.data = session.version
