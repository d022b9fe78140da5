"""Base forms: CSRF from Flask-WTF, WTForms' own French messages, the free-text input rule."""

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, PasswordField, StringField
from wtforms.fields.choices import SelectFieldBase
from wtforms.meta import DefaultMeta
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

from .text import forbidden_character, normalise_text, refusal_message


def _normalise(value):
    return normalise_text(value) if isinstance(value, str) else value


def _refuse_forbidden_characters(form, field) -> None:
    """The input rule of core/text.py: a French message naming the field.

    Runs first and stops the chain: ``Optional`` would otherwise clear the error for a value
    made only of characters Python counts as spaces (U+001C–U+001F, U+0085).
    """
    values = field.data if isinstance(field.data, list | tuple) else [field.data]
    for value in values:
        character = forbidden_character(value) if isinstance(value, str) else None
        if character is not None:
            raise StopValidation(refusal_message(field.label.text, character))


def apply_text_rule(field) -> None:
    """Give a bound field the rule: every StringField (text areas, hidden, e-mail…) is
    normalised and checked; selects are checked (some accept any submitted code, which then
    reaches a query: PostgreSQL refuses a NUL). Passwords are checked but never altered: a
    silently changed password would not match.
    """
    if isinstance(field, FieldList):
        field.unbound_field = _RuledUnbound(field.unbound_field)
        return
    if not isinstance(field, StringField | SelectFieldBase):
        return
    if isinstance(field, StringField) and not isinstance(field, PasswordField):
        field.filters = [_normalise, *field.filters]
    field.validators = [_refuse_forbidden_characters, *field.validators]


class _RuledUnbound:
    """A FieldList's entry template: each entry bound later gets the rule too."""

    def __init__(self, unbound):
        self._unbound = unbound

    def __getattr__(self, name):
        return getattr(self._unbound, name)

    def bind(self, *args, **kwargs):
        field = self._unbound.bind(*args, **kwargs)
        apply_text_rule(field)
        return field


class TextRuleMeta(DefaultMeta):
    # WTForms ships French translations of its built-in messages ("Ce champ est requis.").
    locales = ("fr_FR", "fr")

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        apply_text_rule(field)
        return field

    def get_translations(self, form):
        return DefaultMeta.get_translations(self, form)


class BaseForm(FlaskForm):
    """Every form of the application derives from this one or from RowForm."""

    class Meta(TextRuleMeta):
        pass


class RowForm(Form):
    """A repeated row inside a BaseForm (FormField): no CSRF of its own, the same text rule."""

    Meta = TextRuleMeta


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
