"""Base form: CSRF from Flask-WTF, WTForms' own French messages."""

from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, HiddenField
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


def _leaf_fields(fields):
    for field in fields:
        if isinstance(field, FieldList):
            yield from _leaf_fields(field.entries)
        elif isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        else:
            yield field


def show_refusal(form, error) -> None:
    """Undo the refused attempt and put each message next to its field.

    ``error`` is a DomainError; one carrying ``errors`` (field name → messages) reports several
    fields at once. Messages for unknown fields go to the form-level errors.
    """
    from ..extensions import db

    db.session.rollback()
    errors = getattr(error, "errors", None) or {error.field or "": [error.message]}
    fields = {f.name: f for f in _leaf_fields(form)}
    for name, messages in errors.items():
        field = fields.get(name)
        if field is None:
            form.form_errors.extend(messages)
            continue
        field.errors = [*field.errors, *messages]
        container = form._fields.get(name.split("-", 1)[0])
        if container is not None and container is not field:
            # A row field: its list reports the errors too (the form's error banner).
            container.errors = [*(container.errors or []), *messages]
    form._errors = None  # recomputed from the fields
