"""Text rules: search keys, and the input rule every free-text field goes through."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def search_key(value: str | None) -> str:
    """'Élodie  d’Aubigné' -> 'ELODIE D'AUBIGNE': no accents, upper case, single spaces."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("’", "'").replace("Œ", "OE").replace("œ", "oe")
    stripped = stripped.replace("Æ", "AE").replace("æ", "ae")
    return _SPACES.sub(" ", stripped).strip().upper()


def clean_spaces(value: str | None) -> str:
    return _SPACES.sub(" ", value or "").strip()


# --- the input rule for free text ------------------------------------------------------------
#
# Every free-text value the application accepts (WTForms fields, hand-parsed forms, JSON bodies)
# goes through ``normalise_text`` then ``forbidden_character``:
# - line breaks and tabs are kept; "\r\n" and a lone "\r" become "\n";
# - "\x0b" (Word's manual line break) and "\x0c" (form feed) become "\n";
# - any other control character (C0 except tab/line feed/carriage return, DEL, C1 U+0080–U+009F),
#   a lone surrogate or a Unicode non-character (U+FDD0–U+FDEF, U+xFFFE, U+xFFFF) is refused with
#   a French message naming the field.
# What passes is XML 1.0 text (lxml accepts it in the CDA) and PostgreSQL text (no NUL), so a
# stored decision can always be signed.

_LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
    + "]"
)


def normalise_text(value: str) -> str:
    """Line breaks as "\\n": CR LF, lone CR, vertical tab and form feed."""
    return value.replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_BREAKS)


def forbidden_character(value: str) -> str | None:
    """The first character the rule refuses (after normalisation), or None."""
    match = _FORBIDDEN.search(value)
    return match.group() if match else None


def refusal_message(label: str, character: str) -> str:
    return (
        f"Le champ « {label} » contient un caractère invisible non autorisé "
        f"(U+{ord(character):04X})."
    )


def clean_text(value: str, label: str, field: str | None = None) -> str:
    """The normalised value, or a DomainError naming the field (for hand-parsed input)."""
    from .errors import DomainError

    value = normalise_text(value)
    character = forbidden_character(value)
    if character is not None:
        raise DomainError(refusal_message(label, character), field=field)
    return value
