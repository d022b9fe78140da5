"""Base form: CSRF from Flask-WTF, WTForms' own French messages."""

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.utils import unset_value


class BaseForm(FlaskForm):
    class Meta:
        # WTForms ships French translations of its built-in messages ("Ce champ est requis.").
        locales = ("fr_FR", "fr")

        def get_translations(self, form):
            from wtforms.meta import DefaultMeta

            return DefaultMeta.get_translations(self, form)


class VersionField(HiddenField):
    """The row version an edit form was built from (optimistic locking).

    On a submitted form the value comes only from the submitted data: WTForms would otherwise
    fall back to the object's current version and silently defeat the conflict check.
    """

    def process(self, formdata, data=unset_value, extra_filters=None):
        if formdata is not None:
            data = None
        super().process(formdata, data, extra_filters)
