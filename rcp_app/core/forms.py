"""Base form: CSRF from Flask-WTF, WTForms' own French messages."""

from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    class Meta:
        # WTForms ships French translations of its built-in messages ("Ce champ est requis.").
        locales = ("fr_FR", "fr")

        def get_translations(self, form):
            from wtforms.meta import DefaultMeta

            return DefaultMeta.get_translations(self, form)
