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
# - "\x0b" (Word's manual line break), "\x0c" (form feed) and the Unicode line and paragraph
#   separators (U+2028, U+2029) become "\n";
# - the text is put in NFC: a letter followed by a combining accent becomes the precomposed
#   letter where there is one (what the documents' font draws best, and what search compares);
# - any other control character (C0 except tab/line feed/carriage return, DEL, C1 U+0080–U+009F),
#   a bidirectional control, a lone surrogate or a Unicode non-character (U+FDD0–U+FDEF,
#   U+xFFFE, U+xFFFF) is refused with
#   a French message naming the field;
# - so is any character the documents' font cannot draw (core/pdfrender.py: emoji, Chinese or
#   Japanese ideographs, private-use characters…): it would print as an empty box on the signed
#   fiche, which would then no longer be valid PDF/A. Passwords never reach a document and are
#   spared this part (``documents=False``).
# What passes is XML 1.0 text (lxml accepts it in the CDA), PostgreSQL text (no NUL) and text
# the PDF can show, so a stored decision can always be signed.

_LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n", "\u2028": "\n", "\u2029": "\n"})
# The bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are
# invisible too, and can make a signed text read otherwise than it is stored (« Trojan
# source »): refused as well.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
    + "]"
)
# Not glyphs, so not in a font's cmap, but kept by the rule.
_LAYOUT = frozenset("\t\n")
# Categories shown to the user by code only: nothing (or a box) would appear on screen.
_INVISIBLE = {"Cc", "Cf", "Cs", "Cn", "Zs", "Zl", "Zp"}
_NOT_SHOWN = {"Co", "Mn", "Mc", "Me"}


def normalise_text(value: str) -> str:
    """Line breaks as "\\n" (CR LF, lone CR, vertical tab, form feed, U+2028/9), then NFC."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_BREAKS)
    return unicodedata.normalize("NFC", value)


def forbidden_character(value: str, *, documents: bool = True) -> str | None:
    """The first character the rule refuses (after normalisation), or None.

    ``documents=False`` checks only the invisible characters (passwords, never printed).
    """
    match = _FORBIDDEN.search(value)
    invisible = match.start() if match else len(value)
    if documents:
        from .pdfrender import document_characters

        drawn = document_characters()
        for index, character in enumerate(value[:invisible]):
            if character not in drawn and character not in _LAYOUT:
                return value[index]
    return match.group() if match else None


def refusal_message(label: str, character: str) -> str:
    code = f"U+{ord(character):04X}"
    category = unicodedata.category(character)
    if _FORBIDDEN.match(character) or category in _INVISIBLE:
        return f"Le champ « {label} » contient un caractère invisible non autorisé ({code})."
    shown = code if category in _NOT_SHOWN else f"{character} ({code})"
    return (
        f"Le champ « {label} » contient un caractère non pris en charge dans les documents : "
        f"{shown}."
    )


def clean_text(value: str, label: str, field: str | None = None) -> str:
    """The normalised value, or a DomainError naming the field (for hand-parsed input)."""
    from .errors import DomainError

    value = normalise_text(value)
    character = forbidden_character(value)
    if character is not None:
        raise DomainError(refusal_message(label, character), field=field)
    return value
